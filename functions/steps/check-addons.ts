/** provision and update wait: until every Helm add-on of the plan has a Ready release in the cluster. */
import { helmChartProxyName, workspaceNamespace } from '../../shared/capi/render.ts';
import { helmReleasesReady, throwIfFailed } from '../../shared/capi/status.ts';
import { blueprintOf, capiHome } from '../../shared/steps/capi.ts';
import { poll, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'check-addons';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, (input, d) =>
    poll(d, input, STEP, async (cluster) => {
      const { plan } = await blueprintOf(d, cluster);
      const helm = (await Promise.all(plan.packages.map((p) => d.stores.packages.get(p.name, p.version)))).filter((p) => p?.helm !== undefined);
      if (helm.length === 0) return { done: true, message: 'no Helm add-ons' };
      const releases = await (await capiHome(d, cluster)).list('addons.cluster.x-k8s.io/v1alpha1', 'HelmReleaseProxy', {
        namespace: workspaceNamespace(cluster.workspaceId),
        labelSelector: { 'cluster.x-k8s.io/cluster-name': cluster.name },
      });
      const result = helmReleasesReady(
        releases,
        helm.map((p) => helmChartProxyName(cluster.name, p?.name ?? '')),
      );
      throwIfFailed(result, `cluster ${cluster.name}`);
      return result;
    }),
  );

export const handler = makeHandler(awsStepDeps);
