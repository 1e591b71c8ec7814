/**
 * Controllers of a virtual cluster switch on only once its providers are installed and their Deployments are
 * Available — which needs a schedulable node — and topology only with the ClusterTopology feature gate.
 */
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certManagerComponents } from '../../../local/sim/controllers/providers.ts';
import { providerComponents, type Simulator, startSimulator } from '../../../local/sim/index.ts';
import {
  type Clients,
  clientsFor,
  conditionOf,
  ensureNamespace,
  getCluster,
  installCni,
  isTrue,
  mergePatch,
  nodeReady,
  topologyCluster,
  waitFor,
  workloadClients,
} from './helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function available(d: V1Deployment): boolean {
  return d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') === true;
}

describe('providers in a workload cluster', () => {
  let sim: Simulator;
  let mgmt: Clients;
  let workload: Clients;

  beforeAll(async () => {
    // CAPI kinds served before any provider is installed: what these tests look at is the controllers' gate.
    sim = await startSimulator({ profile: 'fast', seed: 53, crdGatedWorkloads: false });
    mgmt = clientsFor(sim.managementKubeconfig());
    await ensureNamespace(mgmt, 'prov');
    await mgmt.objects.create(topologyCluster('prov', 'w-1'));
    await waitFor('ControlPlaneInitialized', async () => isTrue(await getCluster(mgmt, 'prov', 'w-1'), 'ControlPlaneInitialized'));
    workload = await workloadClients(mgmt, 'prov', 'w-1');
    await installCni(workload);
    await waitFor('control-plane node Ready', async () => (await workload.core.listNode()).items.every(nodeReady));
    await ensureNamespace(workload, 'inner');
    await workload.objects.create(topologyCluster('inner', 'nested'));
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('leaves CAPI objects alone while no provider is installed', async () => {
    // Act
    await sleep(300);
    // Assess
    const c = await getCluster(workload, 'inner', 'nested');
    expect(c.metadata?.finalizers).toBeUndefined();
    expect(c.status).toBeUndefined();
  });

  it('keeps provider Deployments unavailable without cert-manager, even when schedulable', async () => {
    // Act: providers tolerate the control-plane taint, but clusterctl's cert-manager is left out
    for (const o of providerComponents({ certManager: false, clusterTopology: false })) await workload.objects.create(o as KubernetesObject);
    await sleep(300);
    // Assess
    const deployments = (await workload.apps.listDeploymentForAllNamespaces()).items;
    expect(deployments).toHaveLength(5);
    expect(deployments.filter(available)).toEqual([]);
    expect(deployments[0]?.status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
    expect((await getCluster(workload, 'inner', 'nested')).status).toBeUndefined();
  });

  it('keeps cert-manager unavailable on control-plane-only nodes without the toleration', async () => {
    // Act
    for (const o of certManagerComponents(false)) await workload.objects.create(o as KubernetesObject);
    await sleep(300);
    // Assess
    const deployments = (await workload.apps.listNamespacedDeployment({ namespace: 'cert-manager' })).items;
    expect(deployments).toHaveLength(3);
    expect(deployments.filter(available)).toEqual([]);
  });

  it('switches the controllers on once a worker node makes the Deployments Available, topology only with its feature gate', async () => {
    // Act: a worker node gives the pods somewhere to run
    await mergePatch(mgmt, await getCluster(mgmt, 'prov', 'w-1'), {
      spec: { topology: { workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', replicas: 1 }] } } },
    });
    // Assess
    await waitFor('provider Deployments Available', async () => (await workload.apps.listDeploymentForAllNamespaces()).items.every(available));
    const gated = await waitFor('nested Cluster reconciled without topology', async () => {
      const c = await getCluster(workload, 'inner', 'nested');
      return conditionOf(c, 'TopologyReconciled') !== undefined ? c : undefined;
    });
    expect(gated.metadata?.finalizers).toContain('cluster.cluster.x-k8s.io');
    expect(conditionOf(gated, 'TopologyReconciled')).toMatchObject({ status: 'False', reason: 'ClusterTopologyFeatureGateDisabled' });
    // Act: turn the ClusterTopology gate on
    const d = await workload.apps.readNamespacedDeployment({ name: 'capi-controller-manager', namespace: 'capi-system' });
    const container = d.spec?.template.spec?.containers[0];
    if (container !== undefined) container.args = (container.args ?? []).map((a) => (a.startsWith('--feature-gates') ? '--feature-gates=MachinePool=true,ClusterTopology=true' : a));
    await workload.apps.replaceNamespacedDeployment({ name: 'capi-controller-manager', namespace: 'capi-system', body: d });
    // Assess: the class does not exist in this cluster, which topology now reports
    const topo = await waitFor('topology reconciled with the gate on', async () => {
      const c = await getCluster(workload, 'inner', 'nested');
      return conditionOf(c, 'TopologyReconciled')?.reason === 'ReconcileFailed' ? c : undefined;
    });
    expect(conditionOf(topo, 'TopologyReconciled')?.message).toContain('ClusterClass.cluster.x-k8s.io "sim-ferrol-1-31-v1" not found');
  });
});

describe('CRD-gated workload clusters', () => {
  let sim: Simulator;

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'fast', seed: 59, crdGatedWorkloads: true });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('serve CAPI kinds only once the provider CRDs are installed', async () => {
    // Prepare
    const mgmt = clientsFor(sim.managementKubeconfig());
    await ensureNamespace(mgmt, 'gated');
    await mgmt.objects.create(topologyCluster('gated', 'g-1'));
    await waitFor('ControlPlaneInitialized', async () => isTrue(await getCluster(mgmt, 'gated', 'g-1'), 'ControlPlaneInitialized'));
    const workload = await workloadClients(mgmt, 'gated', 'g-1');
    const components = providerComponents();
    const provider = components.find((o) => o.kind === 'Provider') as KubernetesObject;
    // Act + Assess: no CRD, no kind
    await expect(workload.objects.create(provider)).rejects.toThrow(/Failed to fetch resource metadata for clusterctl.cluster.x-k8s.io\/v1alpha3\/Provider/);
    // Act: clusterctl's order — CRDs come before the objects of their kinds
    for (const o of components) await workload.objects.create(o as KubernetesObject);
    // Assess
    const providers = await workload.objects.list('clusterctl.cluster.x-k8s.io/v1alpha3', 'Provider');
    expect(providers.items).toHaveLength(5);
    const crds = await workload.objects.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, undefined, undefined, undefined, undefined, 'clusterctl.cluster.x-k8s.io');
    expect(crds.items.map((c) => c.metadata?.name)).toEqual(expect.arrayContaining(['clusters.cluster.x-k8s.io', 'simmachines.infrastructure.cluster.x-k8s.io', 'providers.clusterctl.cluster.x-k8s.io']));
  });
});
