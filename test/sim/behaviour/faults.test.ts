import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../local/sim/index.ts';
import {
  CAPI,
  type CapiObject,
  type Clients,
  clientsFor,
  conditionOf,
  ensureNamespace,
  getCluster,
  isTrue,
  list,
  mergePatch,
  topologyCluster,
  waitFor,
} from './helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pause, deletion and injected faults', () => {
  let sim: Simulator;
  let mgmt: Clients;

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'fast', seed: 23 });
    mgmt = clientsFor(sim.managementKubeconfig());
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('leaves a paused Cluster alone, and reconciles it once unpaused', async () => {
    // Prepare
    await ensureNamespace(mgmt, 'paused');
    const cluster = topologyCluster('paused', 'p-1');
    cluster.spec = { ...cluster.spec, paused: true };
    // Act
    await mgmt.objects.create(cluster);
    await sleep(300);
    // Assess
    const c = await getCluster(mgmt, 'paused', 'p-1');
    expect(conditionOf(c, 'Paused')).toMatchObject({ status: 'True' });
    expect(c.spec?.infrastructureRef).toBeUndefined();
    expect(await list(mgmt, 'controlplane.cluster.x-k8s.io/v1beta2', 'KubeadmControlPlane', 'paused')).toEqual([]);
    expect(sim.cloud.list({ clusterKey: 'paused/p-1' })).toEqual([]);
    // Act: unpause
    await mergePatch(mgmt, c, { spec: { paused: null } });
    // Assess
    await waitFor('ControlPlaneInitialized after unpause', async () => isTrue(await getCluster(mgmt, 'paused', 'p-1'), 'ControlPlaneInitialized'));
    expect(conditionOf(await getCluster(mgmt, 'paused', 'p-1'), 'Paused')).toMatchObject({ status: 'False' });
  });

  it('does not scale a MachineDeployment carrying the paused annotation', async () => {
    // Prepare
    await ensureNamespace(mgmt, 'anno');
    await mgmt.objects.create(topologyCluster('anno', 'a-1', { workers: 1 }));
    await waitFor('one worker Machine with a node', async () => (await list(mgmt, CAPI, 'Machine', 'anno', '!cluster.x-k8s.io/control-plane')).some((m) => m.status?.nodeRef !== undefined));
    const md = (await list(mgmt, CAPI, 'MachineDeployment', 'anno'))[0] as CapiObject;
    await mergePatch(mgmt, md, { metadata: { annotations: { 'cluster.x-k8s.io/paused': '' } } });
    // Act
    await mergePatch(mgmt, await getCluster(mgmt, 'anno', 'a-1'), {
      spec: { topology: { workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', replicas: 3 }] } } },
    });
    await waitFor('topology propagated to the MachineDeployment', async () => (await list(mgmt, CAPI, 'MachineDeployment', 'anno'))[0]?.spec?.replicas === 3);
    await sleep(300);
    // Assess
    expect(await list(mgmt, CAPI, 'Machine', 'anno', '!cluster.x-k8s.io/control-plane')).toHaveLength(1);
    const ms = await list(mgmt, CAPI, 'MachineSet', 'anno');
    expect(ms.map((s) => s.spec?.replicas)).toEqual([1]);
    // Act: resume
    await mergePatch(mgmt, md, { metadata: { annotations: { 'cluster.x-k8s.io/paused': null } } });
    // Assess
    await waitFor('three worker Machines', async () => (await list(mgmt, CAPI, 'Machine', 'anno', '!cluster.x-k8s.io/control-plane')).length === 3);
  });

  it('terminates every instance of a deleted Cluster and removes its workload cluster', async () => {
    // Prepare
    await ensureNamespace(mgmt, 'doomed');
    await mgmt.objects.create(topologyCluster('doomed', 'd-1', { workers: 2 }));
    const machines = await waitFor('three Machines with nodes', async () => {
      const l = await list(mgmt, CAPI, 'Machine', 'doomed');
      return l.length === 3 && l.every((m) => m.status?.nodeRef !== undefined) ? l : undefined;
    });
    const providerIds = machines.map((m) => m.spec?.providerID ?? '');
    expect(sim.server.getCluster('doomed--d-1')).toBeDefined();
    // Act
    await mgmt.objects.delete({ apiVersion: CAPI, kind: 'Cluster', metadata: { name: 'd-1', namespace: 'doomed' } });
    // Assess
    await waitFor('Cluster gone', async () => getCluster(mgmt, 'doomed', 'd-1').then(() => false, (err: { code?: number }) => err.code === 404));
    expect(providerIds.map((id) => sim.cloud.describe(id)?.state)).toEqual(['terminated', 'terminated', 'terminated']);
    for (const [apiVersion, kind] of [
      [CAPI, 'Machine'],
      [CAPI, 'MachineDeployment'],
      [CAPI, 'MachineSet'],
      ['controlplane.cluster.x-k8s.io/v1beta2', 'KubeadmControlPlane'],
      ['infrastructure.cluster.x-k8s.io/v1beta2', 'SimCluster'],
      ['infrastructure.cluster.x-k8s.io/v1beta2', 'SimMachine'],
      ['v1', 'Secret'],
    ] as const) {
      await waitFor(`no ${kind} left`, async () => (await list(mgmt, apiVersion, kind, 'doomed')).length === 0);
    }
    expect(sim.server.getCluster('doomed--d-1')).toBeUndefined();
  });

  it('shows a machine whose instance launch fails as a Failed Machine, as CAPI does', async () => {
    // Prepare
    await ensureNamespace(mgmt, 'faulty');
    await mgmt.objects.create(topologyCluster('faulty', 'f-1'));
    await waitFor('ControlPlaneInitialized', async () => isTrue(await getCluster(mgmt, 'faulty', 'f-1'), 'ControlPlaneInitialized'));
    sim.faults.failNextMachines(1, { namespace: 'faulty', name: 'f-1' });
    // Act
    await mergePatch(mgmt, await getCluster(mgmt, 'faulty', 'f-1'), {
      spec: { topology: { workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', replicas: 1 }] } } },
    });
    // Assess
    const failed = await waitFor('a Failed worker Machine', async () => (await list(mgmt, CAPI, 'Machine', 'faulty', '!cluster.x-k8s.io/control-plane')).find((m) => m.status?.phase === 'Failed'));
    expect(failed.status?.deprecated).toMatchObject({ v1beta1: { failureReason: 'CreateError', failureMessage: expect.stringContaining('InsufficientInstanceCapacity') } });
    expect(conditionOf(failed, 'InfrastructureReady')).toMatchObject({ status: 'False', message: expect.stringContaining('failed') });
    expect(conditionOf(failed, 'Ready')?.status).toBe('False');
    const sm = (await list(mgmt, 'infrastructure.cluster.x-k8s.io/v1beta2', 'SimMachine', 'faulty')).find((m) => m.metadata?.name === failed.metadata?.name);
    expect(sm?.status).toMatchObject({ failureReason: 'CreateError' });
    const cluster = await waitFor('WorkersAvailable False', async () => {
      const c = await getCluster(mgmt, 'faulty', 'f-1');
      return conditionOf(c, 'WorkersAvailable')?.status === 'False' ? c : undefined;
    });
    expect(conditionOf(cluster, 'Available')?.status).toBe('False');
    expect(sim.cloud.list({ clusterKey: 'faulty/f-1' })).toHaveLength(1);
  });

  it('answers 503 ServiceUnavailable to clients while an API error fault is set', async () => {
    // Prepare
    sim.faults.api('management', { errorRate: 1 });
    // Act
    const err = await mgmt.core.listNamespace().then(
      () => undefined,
      (e: unknown) => e as { code?: number; body?: string },
    );
    sim.faults.api('management', undefined);
    // Assess
    expect(err?.code).toBe(503);
    expect(JSON.parse(err?.body ?? '{}')).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'ServiceUnavailable', code: 503 });
    await expect(mgmt.core.listNamespace()).resolves.toBeDefined();
  });

  it('reports an unreachable workload API as a failed RemoteConnectionProbe, and recovers', async () => {
    // Prepare
    await ensureNamespace(mgmt, 'probe');
    await mgmt.objects.create(topologyCluster('probe', 'r-1'));
    await waitFor('RemoteConnectionProbe True', async () => isTrue(await getCluster(mgmt, 'probe', 'r-1'), 'RemoteConnectionProbe'));
    // Act
    sim.faults.api('probe--r-1', { errorRate: 1 });
    // Assess
    const down = await waitFor('probe failed', async () => {
      const c = await getCluster(mgmt, 'probe', 'r-1');
      return conditionOf(c, 'RemoteConnectionProbe')?.status === 'False' ? c : undefined;
    });
    expect(conditionOf(down, 'RemoteConnectionProbe')?.reason).toBe('ProbeFailed');
    expect(conditionOf(down, 'Available')?.status).toBe('False');
    // Act: clear
    sim.faults.api('probe--r-1', undefined);
    // Assess
    await waitFor('probe succeeded again', async () => isTrue(await getCluster(mgmt, 'probe', 'r-1'), 'RemoteConnectionProbe'));
  });
});
