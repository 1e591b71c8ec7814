import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../local/sim/index.ts';
import { type CapiObject, type Clients, clientsFor, conditionOf, ensureNamespace, getCluster, isTrue, list, mergePatch, topologyCluster, waitFor, workloadClients } from './helpers.ts';

const ADDONS = 'addons.cluster.x-k8s.io/v1alpha1';

describe('CAAPH HelmChartProxy', () => {
  let sim: Simulator;
  let mgmt: Clients;

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'fast', seed: 41 });
    mgmt = clientsFor(sim.managementKubeconfig());
    await ensureNamespace(mgmt, 'addons');
    await mgmt.objects.create(topologyCluster('addons', 'h-1', { labels: { cni: 'cilium' } }));
    await mgmt.objects.create(topologyCluster('addons', 'h-2', { labels: { cni: 'calico' } }));
    await waitFor('both control planes initialized', async () => {
      const a = await getCluster(mgmt, 'addons', 'h-1');
      const b = await getCluster(mgmt, 'addons', 'h-2');
      return isTrue(a, 'ControlPlaneInitialized') && isTrue(b, 'ControlPlaneInitialized');
    });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('yields a Ready HelmReleaseProxy per matching Cluster and records the release in its workload cluster', async () => {
    // Act
    await mgmt.objects.create({
      apiVersion: ADDONS,
      kind: 'HelmChartProxy',
      metadata: { name: 'cilium', namespace: 'addons' },
      spec: {
        clusterSelector: { matchLabels: { cni: 'cilium' } },
        repoURL: 'oci://quay.io/cilium/charts',
        chartName: 'cilium',
        version: '1.16.5',
        releaseName: 'cilium',
        namespace: 'cni',
        valuesTemplate: 'cluster:\n  name: {{ .Cluster.metadata.name }}\n',
        options: { install: { createNamespace: true } },
      },
    } as CapiObject);
    // Assess
    const hrp = await waitFor('HelmReleaseReady', async () => {
      const l = await list(mgmt, ADDONS, 'HelmReleaseProxy', 'addons');
      return l.length === 1 && isTrue(l[0], 'HelmReleaseReady') ? l[0] : undefined;
    });
    expect(hrp?.metadata?.labels?.['cluster.x-k8s.io/cluster-name']).toBe('h-1');
    expect(hrp?.spec?.values).toBe('cluster:\n  name: h-1\n');
    expect(hrp?.status).toMatchObject({ status: 'deployed', revision: 1 });
    const workload = await workloadClients(mgmt, 'addons', 'h-1');
    const release = await workload.core.readNamespacedSecret({ name: 'sh.helm.release.v1.cilium.v1', namespace: 'cni' });
    expect(release.type).toBe('helm.sh/release.v1');
    expect(release.metadata?.labels).toMatchObject({ owner: 'helm', name: 'cilium', status: 'deployed', version: '1' });
    const other = await workloadClients(mgmt, 'addons', 'h-2');
    expect((await other.core.listSecretForAllNamespaces({ labelSelector: 'owner=helm' })).items).toEqual([]);
    const hcp = await waitFor('HelmChartProxy Ready', async () => {
      const l = await list(mgmt, ADDONS, 'HelmChartProxy', 'addons');
      return isTrue(l[0], 'Ready') ? l[0] : undefined;
    });
    expect(hcp?.status?.matchingClusters).toEqual([{ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', name: 'h-1', namespace: 'addons' }]);
  });

  it('upgrades the release to a new revision when the chart version changes', async () => {
    // Act
    const hcp = (await list(mgmt, ADDONS, 'HelmChartProxy', 'addons'))[0] as CapiObject;
    await mergePatch(mgmt, hcp, { spec: { version: '1.16.6' } });
    // Assess
    const hrp = await waitFor('revision 2', async () => {
      const l = await list(mgmt, ADDONS, 'HelmReleaseProxy', 'addons');
      return l[0]?.status?.revision === 2 && isTrue(l[0], 'HelmReleaseReady') ? l[0] : undefined;
    });
    expect(conditionOf(hrp, 'Ready')?.status).toBe('True');
    const workload = await workloadClients(mgmt, 'addons', 'h-1');
    const secrets = await workload.core.listNamespacedSecret({ namespace: 'cni', labelSelector: 'owner=helm' });
    expect(secrets.items.map((s) => `${s.metadata?.name}:${s.metadata?.labels?.status}`).sort()).toEqual(['sh.helm.release.v1.cilium.v1:superseded', 'sh.helm.release.v1.cilium.v2:deployed']);
  });
});
