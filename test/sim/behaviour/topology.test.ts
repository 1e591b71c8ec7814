import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../local/sim/index.ts';
import {
  CAPI,
  type Clients,
  clientsFor,
  conditionOf,
  ensureNamespace,
  getCluster,
  installCni,
  isTrue,
  list,
  mergePatch,
  topologyCluster,
  waitFor,
  workloadClients,
} from './helpers.ts';

const INFRA = 'infrastructure.cluster.x-k8s.io/v1beta2';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('topology: class rebase and refused changes', () => {
  let sim: Simulator;
  let mgmt: Clients;

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'fast', seed: 31 });
    mgmt = clientsFor(sim.managementKubeconfig());
    await ensureNamespace(mgmt, 'stack');
    await mgmt.objects.create(topologyCluster('stack', 's-1', { cpReplicas: 1, workers: 1 }));
    await waitFor('ControlPlaneInitialized', async () => isTrue(await getCluster(mgmt, 'stack', 's-1'), 'ControlPlaneInitialized'));
    await installCni(await workloadClients(mgmt, 'stack', 's-1'));
    await waitFor('Available', async () => isTrue(await getCluster(mgmt, 'stack', 's-1'), 'Available'));
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('ships the Cluster Stacks classes in namespace default, owning their templates', async () => {
    // Assess
    const classes = await list(mgmt, CAPI, 'ClusterClass', 'default');
    expect(classes.map((c) => c.metadata?.name).sort()).toEqual(['sim-ferrol-1-31-v1', 'sim-ferrol-1-31-v2', 'sim-ferrol-1-32-v1']);
    const templates = await list(mgmt, INFRA, 'SimMachineTemplate', 'default', 'clusterctl.cluster.x-k8s.io/move');
    const owned = templates.filter((t) => t.metadata?.ownerReferences?.some((r) => r.kind === 'ClusterClass'));
    expect(owned).toHaveLength(6);
  });

  it('rebases onto a new class release by rolling every machine onto the new templates', async () => {
    // Prepare
    const before = (await list(mgmt, CAPI, 'Machine', 'stack')).map((m) => m.metadata?.name);
    // Act
    await mergePatch(mgmt, await getCluster(mgmt, 'stack', 's-1'), { spec: { topology: { classRef: { name: 'sim-ferrol-1-31-v2' } } } });
    // Assess
    await waitFor(
      'every machine replaced and the Cluster Available',
      async () => {
        const machines = await list(mgmt, CAPI, 'Machine', 'stack');
        const c = await getCluster(mgmt, 'stack', 's-1');
        return machines.length === 2 && machines.every((m) => !before.includes(m.metadata?.name) && m.status?.phase === 'Running') && isTrue(c, 'Available') && !isTrue(c, 'RollingOut');
      },
      20_000,
    );
    const simMachines = await list(mgmt, INFRA, 'SimMachine', 'stack');
    expect(simMachines.map((m) => m.spec?.instanceType)).toEqual(['sim.large', 'sim.large']);
    expect(sim.counters()['stack--s-1']?.instances).toMatchObject({ running: 2, duplicated: 0 });
  });

  it('takes a Cluster Stacks upgrade (class and version in one edit) through the control plane, then the workers', async () => {
    // Act
    await mergePatch(mgmt, await getCluster(mgmt, 'stack', 's-1'), { spec: { topology: { classRef: { name: 'sim-ferrol-1-32-v1' }, version: 'v1.32.1' } } });
    // Assess
    await waitFor(
      'every machine on v1.32.1 with the 1.32 image',
      async () => {
        const machines = await list(mgmt, CAPI, 'Machine', 'stack');
        const sms = await list(mgmt, INFRA, 'SimMachine', 'stack');
        const c = await getCluster(mgmt, 'stack', 's-1');
        return (
          machines.length === 2 &&
          machines.every((m) => m.spec?.version === 'v1.32.1' && m.status?.phase === 'Running') &&
          sms.every((m) => m.spec?.image === 'sim-ferrol-1-32-v1') &&
          isTrue(c, 'Available') &&
          conditionOf(c, 'TopologyReconciled')?.reason === 'ReconcileSucceeded'
        );
      },
      20_000,
    );
    expect(sim.counters()['stack--s-1']?.instances).toMatchObject({ running: 2, duplicated: 0 });
  });

  it('refuses an even control-plane replica count through TopologyReconciled, without touching the control plane', async () => {
    // Act
    await mergePatch(mgmt, await getCluster(mgmt, 'stack', 's-1'), { spec: { topology: { controlPlane: { replicas: 2 } } } });
    // Assess
    const c = await waitFor('TopologyReconciled False', async () => {
      const cl = await getCluster(mgmt, 'stack', 's-1');
      return conditionOf(cl, 'TopologyReconciled')?.status === 'False' ? cl : undefined;
    });
    expect(conditionOf(c, 'TopologyReconciled')?.message).toContain('cannot be an even number');
    await sleep(200);
    const kcp = (await list(mgmt, 'controlplane.cluster.x-k8s.io/v1beta2', 'KubeadmControlPlane', 'stack'))[0];
    expect(kcp?.spec?.replicas).toBe(1);
    // Act: a minor-version skip is refused too
    await mergePatch(mgmt, c, { spec: { topology: { controlPlane: { replicas: 1 }, version: 'v1.34.0' } } });
    // Assess
    const skipped = await waitFor('version skip refused', async () => {
      const cl = await getCluster(mgmt, 'stack', 's-1');
      return conditionOf(cl, 'TopologyReconciled')?.message?.includes('skipping minor versions') ? cl : undefined;
    });
    expect(conditionOf(skipped, 'TopologyReconciled')?.status).toBe('False');
    expect((await list(mgmt, 'controlplane.cluster.x-k8s.io/v1beta2', 'KubeadmControlPlane', 'stack'))[0]?.spec?.version).toBe('v1.32.1');
  });
});

describe('a Cluster without ClusterClass (objects written by hand)', () => {
  let sim: Simulator;
  let mgmt: Clients;

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'fast', seed: 37 });
    mgmt = clientsFor(sim.managementKubeconfig());
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('is adopted by the Cluster controller and gets its control plane initialized', async () => {
    // Prepare
    await ensureNamespace(mgmt, 'manual');
    const create = (o: object) => mgmt.objects.create(o as KubernetesObject);
    await create({ apiVersion: INFRA, kind: 'SimMachineTemplate', metadata: { name: 'm-cp', namespace: 'manual' }, spec: { template: { spec: { instanceType: 'sim.medium' } } } });
    await create({ apiVersion: INFRA, kind: 'SimCluster', metadata: { name: 'm-1', namespace: 'manual' }, spec: {} });
    await create({
      apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2',
      kind: 'KubeadmControlPlane',
      metadata: { name: 'm-1-cp', namespace: 'manual' },
      spec: {
        replicas: 1,
        version: 'v1.31.4',
        machineTemplate: { spec: { infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachineTemplate', name: 'm-cp' } } },
        kubeadmConfigSpec: { clusterConfiguration: {}, initConfiguration: {}, joinConfiguration: {} },
      },
    });
    // Act
    await create({
      apiVersion: CAPI,
      kind: 'Cluster',
      metadata: { name: 'm-1', namespace: 'manual' },
      spec: {
        infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimCluster', name: 'm-1' },
        controlPlaneRef: { apiGroup: 'controlplane.cluster.x-k8s.io', kind: 'KubeadmControlPlane', name: 'm-1-cp' },
      },
    });
    // Assess
    const c = await waitFor('ControlPlaneInitialized', async () => {
      const cl = await getCluster(mgmt, 'manual', 'm-1');
      return isTrue(cl, 'ControlPlaneInitialized') ? cl : undefined;
    });
    expect(conditionOf(c, 'TopologyReconciled')).toBeUndefined();
    const kcp = (await list(mgmt, 'controlplane.cluster.x-k8s.io/v1beta2', 'KubeadmControlPlane', 'manual'))[0];
    expect(kcp?.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Cluster', name: 'm-1', controller: true })]);
    expect((await list(mgmt, CAPI, 'Machine', 'manual'))[0]?.status?.nodeRef).toBeDefined();
  });
});
