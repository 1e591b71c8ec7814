/**
 * CAAPH (Cluster API Add-on Provider for Helm): a HelmChartProxy selects Clusters by label and gets one
 * HelmReleaseProxy per matched Cluster; a HelmReleaseProxy installs (after `helmInstallMs`) its release into
 * the workload cluster, recorded as Helm 3 records it — a Secret `sh.helm.release.v1.<release>.v<revision>` of
 * type `helm.sh/release.v1` in the release namespace — and reports `HelmReleaseReady`, status and revision.
 * A release already recorded with the same content (e.g. after a move) is adopted, not reinstalled.
 * valuesTemplate supports field references such as `{{ .Cluster.metadata.name }}`; other Go template
 * constructs are reported as a parsing failure.
 */
import { API_ADDONS, API_CORE } from '../classes.ts';
import { matchesLabels, selectorFromObject, type LabelSelectorObject } from '../apiserver/selectors.ts';
import type { SimContext } from './context.ts';
import { generateName, shortHash, workloadClusterName } from './naming.ts';
import type { ClusterRuntime, Key, Reconciler, ReconcileResult } from './runtime.ts';
import type { Cluster, Condition, HelmChartProxy, HelmReleaseProxy, KObject } from './types.ts';
import {
  cond,
  conditionsFrom,
  ensureFinalizer,
  FIN_HCP,
  FIN_HRP,
  isDeleting,
  isPaused,
  isTrue,
  L_CLUSTER_NAME,
  ownerRef,
  removeFinalizer,
  writeStatus,
} from './util.ts';

export const L_HCP_NAME = 'helmchartproxy.addons.cluster.x-k8s.io/name';

export class ValuesTemplateError extends Error {
  override name = 'ValuesTemplateError';
}

/** Renders `{{ .Cluster.a.b }}`-style references against the Cluster and its control plane / infra cluster. */
export function renderValues(template: string, data: Record<string, unknown>): string {
  const out = template.replace(/\{\{\s*\.([A-Za-z]+)((?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g, (_m, root: string, path: string) => {
    let v: unknown = data[root];
    for (const part of path.split('.').filter((p) => p !== '')) {
      v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined;
    }
    if (v === undefined) throw new ValuesTemplateError(`template: values:1: map has no entry for key ".${root}${path}"`);
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
  if (out.includes('{{')) throw new ValuesTemplateError(`template: values: unsupported template construct in ${JSON.stringify(template.slice(out.indexOf('{{'), out.indexOf('{{') + 40))}`);
  return out;
}

export function helmChartProxyReconciler(sim: SimContext): Reconciler {
  return {
    name: 'helmchartproxy',
    gate: 'addon-helm',
    apiVersion: API_ADDONS,
    kind: 'HelmChartProxy',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const client = rt.client;
      let hcp = await client.get<HelmChartProxy>(API_ADDONS, 'HelmChartProxy', key.name, key.namespace);
      if (hcp === undefined) return undefined;
      const ns = key.namespace;
      const hrps = await client.list<HelmReleaseProxy>(API_ADDONS, 'HelmReleaseProxy', { namespace: ns, labels: { [L_HCP_NAME]: hcp.metadata.name } });
      if (isDeleting(hcp)) {
        for (const h of hrps) await client.delete(API_ADDONS, 'HelmReleaseProxy', h.metadata.name, ns);
        if (hrps.length === 0) await removeFinalizer(client, hcp, FIN_HCP);
        return undefined;
      }
      hcp = await ensureFinalizer(client, hcp, FIN_HCP);
      const selector = selectorFromObject((hcp.spec?.clusterSelector ?? {}) as LabelSelectorObject);
      const clusters = (await client.list<Cluster>(API_CORE, 'Cluster', { namespace: ns })).filter(
        (c) => !isDeleting(c) && (hcp?.spec?.clusterSelector === undefined ? false : matchesLabels(selector, c.metadata.labels)),
      );
      const problems: string[] = [];
      for (const cluster of clusters) {
        if (isPaused(cluster, cluster)) continue;
        let values = '';
        try {
          values = renderValues(hcp.spec?.valuesTemplate ?? '', { Cluster: cluster });
        } catch (err) {
          if (!(err instanceof ValuesTemplateError)) throw err;
          problems.push(`Cluster ${cluster.metadata.name}: ${err.message}`);
          continue;
        }
        const spec = {
          clusterRef: { apiVersion: API_CORE, kind: 'Cluster', name: cluster.metadata.name, namespace: ns },
          repoURL: hcp.spec?.repoURL,
          chartName: hcp.spec?.chartName,
          version: hcp.spec?.version,
          releaseName: hcp.spec?.releaseName ?? hcp.spec?.chartName,
          namespace: hcp.spec?.namespace ?? 'default',
          values,
          reconcileStrategy: hcp.spec?.reconcileStrategy ?? 'Continuous',
          options: hcp.spec?.options ?? {},
        };
        const existing = hrps.find((h) => h.spec?.clusterRef?.name === cluster.metadata.name);
        if (existing === undefined) {
          await client.create({
            apiVersion: API_ADDONS,
            kind: 'HelmReleaseProxy',
            metadata: {
              name: generateName(sim.rng, `${hcp.spec?.chartName ?? 'release'}-${cluster.metadata.name}-`),
              namespace: ns,
              labels: { [L_HCP_NAME]: hcp.metadata.name, [L_CLUSTER_NAME]: cluster.metadata.name },
              ownerReferences: [ownerRef(hcp, true), ownerRef(cluster, false)],
            },
            spec,
          } as KObject);
        } else if (JSON.stringify(existing.spec) !== JSON.stringify({ ...existing.spec, ...spec })) {
          await client.mergePatch(API_ADDONS, 'HelmReleaseProxy', existing.metadata.name, ns, { spec });
        }
      }
      for (const h of hrps) {
        if (!clusters.some((c) => c.metadata.name === h.spec?.clusterRef?.name)) await client.delete(API_ADDONS, 'HelmReleaseProxy', h.metadata.name, ns);
      }
      const current = await client.list<HelmReleaseProxy>(API_ADDONS, 'HelmReleaseProxy', { namespace: ns, labels: { [L_HCP_NAME]: hcp.metadata.name } });
      const allReady = current.length === clusters.length && current.every((h) => isTrue(h.status?.conditions, 'HelmReleaseReady'));
      const items: Omit<Condition, 'lastTransitionTime'>[] = [
        problems.length === 0 ? cond('HelmReleaseProxySpecsUpToDate', true, 'HelmReleaseProxySpecsUpToDate') : cond('HelmReleaseProxySpecsUpToDate', false, 'ValueParsingFailed', problems.join('\n')),
        allReady ? cond('HelmReleaseProxiesReady', true, 'HelmReleaseProxiesReady') : cond('HelmReleaseProxiesReady', false, 'HelmReleaseProxiesNotReady', 'Not every HelmReleaseProxy is ready'),
      ];
      items.push(cond('Ready', allReady && problems.length === 0, allReady && problems.length === 0 ? 'Ready' : 'NotReady'));
      await writeStatus(client, hcp, {
        observedGeneration: hcp.metadata.generation,
        matchingClusters: clusters.map((c) => ({ apiVersion: API_CORE, kind: 'Cluster', name: c.metadata.name, namespace: ns })),
        conditions: conditionsFrom((hcp.status as { conditions?: Condition[] } | undefined)?.conditions, items, hcp.metadata.generation),
      });
      return undefined;
    },
  };
}

interface ReleaseRecord {
  name: string;
  namespace: string;
  version: number;
  contentHash: string;
  chart: { repoURL?: string; name?: string; version?: string };
  config: string;
  info: { status: string; first_deployed: string; last_deployed: string };
}

export function helmReleaseProxyReconciler(sim: SimContext): Reconciler {
  const installStarted = new Map<string, number>();
  return {
    name: 'helmreleaseproxy',
    gate: 'addon-helm',
    apiVersion: API_ADDONS,
    kind: 'HelmReleaseProxy',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const client = rt.client;
      let hrp = await client.get<HelmReleaseProxy>(API_ADDONS, 'HelmReleaseProxy', key.name, key.namespace);
      if (hrp === undefined) return undefined;
      const ns = key.namespace;
      const clusterName = hrp.spec?.clusterRef?.name ?? '';
      const cluster = await client.get<Cluster>(API_CORE, 'Cluster', clusterName, ns);
      if (isPaused(cluster, hrp)) return undefined;
      const workload = sim.workloadClient(workloadClusterName(ns, clusterName));
      const release = hrp.spec?.releaseName ?? hrp.spec?.chartName ?? '';
      const releaseNs = hrp.spec?.namespace ?? 'default';
      const records = workload === undefined ? [] : await workload.list<KObject & { data?: Record<string, string> }>('v1', 'Secret', { namespace: releaseNs, labels: { owner: 'helm', name: release } });
      if (isDeleting(hrp)) {
        if (workload !== undefined) for (const s of records) await workload.delete('v1', 'Secret', s.metadata.name, releaseNs);
        await removeFinalizer(client, hrp, FIN_HRP);
        return undefined;
      }
      if (cluster === undefined) return undefined;
      hrp = await ensureFinalizer(client, hrp, FIN_HRP);
      if (workload === undefined || cluster.status?.initialization?.controlPlaneInitialized !== true) {
        await writeStatus(client, hrp, {
          ...(hrp.status ?? {}),
          conditions: conditionsFrom(hrp.status?.conditions, [
            cond('ClusterAvailable', false, 'ClusterNotAvailable', `Cluster ${clusterName} control plane is not initialized`),
            cond('HelmReleaseReady', false, 'ClusterNotAvailable', 'Waiting for the workload cluster'),
            cond('Ready', false, 'NotReady'),
          ]),
        });
        return undefined;
      }
      const contentHash = shortHash({ repo: hrp.spec?.repoURL, chart: hrp.spec?.chartName, version: hrp.spec?.version, values: hrp.spec?.values ?? '' });
      const parsed = records.map((s) => parseRecord(s.data?.release)).filter((r): r is ReleaseRecord => r !== undefined);
      const latest = parsed.sort((a, b) => b.version - a.version)[0];
      // InstallOnce: a deployed release is never upgraded, whatever the proxy's spec says now.
      const installOnce = hrp.spec?.reconcileStrategy === 'InstallOnce';
      if (latest !== undefined && latest.info.status === 'deployed' && (latest.contentHash === contentHash || installOnce)) {
        installStarted.delete(hrp.metadata.uid ?? '');
        await writeStatus(client, hrp, readyStatus(hrp, latest.version));
        return undefined;
      }
      const startKey = `${hrp.metadata.uid}/${contentHash}`;
      const started = installStarted.get(startKey) ?? Date.now();
      installStarted.set(startKey, started);
      const remaining = started + sim.timing.helmInstallMs - Date.now();
      if (remaining > 0) {
        await writeStatus(client, hrp, {
          ...(hrp.status ?? {}),
          status: latest === undefined ? 'pending-install' : 'pending-upgrade',
          conditions: conditionsFrom(hrp.status?.conditions, [
            cond('ClusterAvailable', true, 'ClusterAvailable'),
            cond('HelmReleaseReady', false, 'HelmInstallOrUpgradeInProgress', `Helm ${latest === undefined ? 'install' : 'upgrade'} of ${release} in progress`),
            cond('Ready', false, 'NotReady'),
          ]),
        });
        return { requeueAfterMs: remaining };
      }
      installStarted.delete(startKey);
      if ((await workload.get('v1', 'Namespace', releaseNs)) === undefined) {
        if (hrp.spec?.options?.install?.createNamespace !== true) {
          await writeStatus(client, hrp, {
            ...(hrp.status ?? {}),
            status: 'failed',
            conditions: conditionsFrom(hrp.status?.conditions, [
              cond('ClusterAvailable', true, 'ClusterAvailable'),
              cond('HelmReleaseReady', false, 'HelmInstallOrUpgradeFailed', `create: failed to create: namespaces "${releaseNs}" not found`),
              cond('Ready', false, 'NotReady'),
            ]),
          });
          return undefined;
        }
        await workload.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: releaseNs, labels: { name: releaseNs } } });
      }
      const revision = (latest?.version ?? 0) + 1;
      const now = new Date().toISOString();
      const record: ReleaseRecord = {
        name: release,
        namespace: releaseNs,
        version: revision,
        contentHash,
        chart: { repoURL: hrp.spec?.repoURL, name: hrp.spec?.chartName, version: hrp.spec?.version },
        config: hrp.spec?.values ?? '',
        info: { status: 'deployed', first_deployed: now, last_deployed: now },
      };
      for (const s of records) {
        if (s.metadata.labels?.status === 'deployed') {
          await workload.mergePatch('v1', 'Secret', s.metadata.name, releaseNs, { metadata: { labels: { status: 'superseded' } } });
        }
      }
      await workload.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `sh.helm.release.v1.${release}.v${revision}`, namespace: releaseNs, labels: { name: release, owner: 'helm', status: 'deployed', version: String(revision) } },
        type: 'helm.sh/release.v1',
        data: { release: Buffer.from(JSON.stringify(record)).toString('base64') },
      } as KObject);
      await writeStatus(client, hrp, readyStatus(hrp, revision));
      return undefined;
    },
  };
}

function readyStatus(hrp: HelmReleaseProxy, revision: number): unknown {
  return {
    status: 'deployed',
    revision,
    observedGeneration: hrp.metadata.generation,
    conditions: conditionsFrom(hrp.status?.conditions, [
      cond('ClusterAvailable', true, 'ClusterAvailable'),
      cond('HelmReleaseReady', true, 'HelmReleaseReady'),
      cond('Ready', true, 'Ready'),
    ]),
  };
}

function parseRecord(data: string | undefined): ReleaseRecord | undefined {
  if (data === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as ReleaseRecord;
  } catch {
    return undefined;
  }
}
