/**
 * provision and update: the plan's add-ons, in-cluster policies and access.
 *  - Helm packages become CAAPH HelmChartProxies next to the CAPI objects (CAAPH runs where CAPI runs: in
 *    the cluster itself after the pivot); manifest packages are server-side applied into the cluster.
 *  - Pod Security labels and the default-deny NetworkPolicy on every non-system namespace.
 *  - One ClusterRoleBinding per access entry of the plan.
 * Proxies and bindings of this cluster that the plan no longer names are removed (plan revisions).
 */
import type { KubeClient } from '../../shared/capi/client.ts';
import { clusterSelector, renderAccessBindings, renderHelmChartProxies, renderManifestPackage, renderNamespacePolicy, workspaceNamespace } from '../../shared/capi/render.ts';
import type { KubeObject } from '../../shared/capi/types.ts';
import type { Package } from '../../shared/domain/schemas.ts';
import { applyAll, blueprintOf, capiHome, MissingReferenceError } from '../../shared/steps/capi.ts';
import { loadCluster, recordPhase, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'install-addons';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    let cluster = await loadCluster(d, input);
    const { plan } = await blueprintOf(d, cluster);
    cluster = await recordPhase(d, cluster, {
      phase: cluster.operation === 'provision' ? 'InstallingAddons' : 'Updating',
      step: STEP,
      message: `installing ${plan.packages.length} package(s), policies and access`,
    });
    const packages = await Promise.all(
      plan.packages.map(async (ref) => {
        const pkg = await d.stores.packages.get(ref.name, ref.version);
        if (!pkg) throw new MissingReferenceError(`package ${ref.name}@${ref.version} no longer exists`);
        return pkg;
      }),
    );
    const [home, workload] = await Promise.all([capiHome(d, cluster), d.workload(cluster)]);

    const proxies = renderHelmChartProxies(cluster, packages);
    await applyAll(home, proxies);
    await prune(home, 'addons.cluster.x-k8s.io/v1alpha1', 'HelmChartProxy', workspaceNamespace(cluster.workspaceId), clusterSelector(cluster), proxies);

    for (const pkg of packages.filter((p: Package) => p.manifests !== undefined)) {
      for (const obj of renderManifestPackage(cluster, pkg)) {
        if (obj.metadata.namespace) await workload.ensureNamespace(obj.metadata.namespace);
        await workload.apply(obj, { force: true });
      }
    }

    for (const ns of await workload.list('v1', 'Namespace')) {
      const policy = renderNamespacePolicy(plan, ns.metadata.name, cluster);
      if (!policy) continue;
      await workload.ensureNamespace(policy.namespace, policy.labels);
      await applyAll(workload, policy.objects);
    }

    const bindings = renderAccessBindings(plan, cluster);
    await applyAll(workload, bindings);
    await prune(workload, 'rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', undefined, clusterSelector(cluster), bindings);
    return null;
  });

/** Deletes this cluster's objects of a kind that the desired set no longer contains. */
async function prune(client: KubeClient, apiVersion: string, kind: string, namespace: string | undefined, selector: string, desired: readonly KubeObject[]): Promise<void> {
  const keep = new Set(desired.map((o) => o.metadata.name));
  const existing = await client.list(apiVersion, kind, namespace === undefined ? { labelSelector: selector } : { namespace, labelSelector: selector });
  for (const obj of existing) {
    if (!keep.has(obj.metadata.name)) await client.delete({ apiVersion, kind, name: obj.metadata.name, ...(namespace === undefined ? {} : { namespace }) });
  }
}

export const handler = makeHandler(awsStepDeps);
