/**
 * The CAPI driver end to end against the live simulator (controllers running): provision in Palette's order
 * with Slipway's own rendering, connections, waits and mover — topology Cluster with one control-plane
 * machine, CNI, node Ready, providers, pivot into the workload cluster, scale there, move back, delete —
 * checking the simulated cloud never has a duplicated or leaked instance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../local/sim/index.ts';
import type { KubeClient } from '../../shared/capi/client.ts';
import { connectKubeconfig, connectWorkload } from '../../shared/capi/connect.ts';
import { move, moveBack } from '../../shared/capi/mover.ts';
import { createComponentsFetcher, reconcileProviders, statusMessage } from '../../shared/capi/providers/index.ts';
import { renderCni, renderInitialCluster, renderScaledTopology, type TopologyInput, workspaceNamespace } from '../../shared/capi/render.ts';
import { clusterAvailable, clusterGone, controlPlaneInitialized, nodesReady, type WaitResult } from '../../shared/capi/status.ts';
import type { KubeObject } from '../../shared/capi/types.ts';
import { NodePool } from '../../shared/domain/schemas.ts';
import { CrashError, crashing } from './fixtures.ts';

const CAPI = 'cluster.x-k8s.io/v1beta2';
const WS = 'team-p';
/** The cluster under test; each describe block sets its own before it starts (blocks run one after the other). */
let NAME = 'pivot-2';
const NS = workspaceNamespace(WS);
const vcOf = () => `${NS}--${NAME}`;

const input: TopologyInput = {
  cluster: {
    uid: '01JD3XPIVOT2',
    workspaceId: WS,
    name: NAME,
    clusterClass: 'sim-ferrol-1-31-v1',
    kubernetesVersion: 'v1.31.4',
    region: 'eu-west-1',
    controlPlane: { replicas: 3, instanceType: 'm6i.large' },
    nodePools: [NodePool.parse({ name: 'workers', instanceType: 'm6i.large', min: 1, desired: 1, max: 3 })],
  },
  plan: { clusterClass: 'sim-ferrol-1-31-v1', kubernetesVersion: 'v1.31.4' },
  network: { vpcCidr: '10.0.0.0/16', podCidr: '192.168.0.0/16', serviceCidr: '10.96.0.0/12', endpointAccess: 'public' },
};
const refOfCluster = () => ({ apiVersion: CAPI, kind: 'Cluster', name: NAME, namespace: NS });

/** Polls a reader until done (the state machine's Task + Choice + Wait loop, compressed). */
async function waitUntil(what: string, read: () => Promise<WaitResult>, timeoutMs = 20_000): Promise<WaitResult> {
  const deadline = Date.now() + timeoutMs;
  let last: WaitResult = { done: false, message: 'not polled' };
  while (Date.now() < deadline) {
    last = await read();
    if (last.failed !== undefined) throw new Error(`${what}: ${last.failed}`);
    if (last.done) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}: ${last.message}`);
}

async function capiState(client: KubeClient): Promise<{ cluster: KubeObject | null; machines: KubeObject[] }> {
  const [cluster, machines] = await Promise.all([client.get(refOfCluster()), client.list(CAPI, 'Machine', { namespace: NS, labelSelector: { 'cluster.x-k8s.io/cluster-name': NAME } })]);
  return { cluster, machines };
}

/** Provision steps 2-5 for cluster NAME, up to the point where the move may start; returns the workload client. */
async function provisionUntilPivot(sim: Simulator, mgmt: KubeClient): Promise<KubeClient> {
  const rendered = { ...input, cluster: { ...input.cluster, name: NAME, uid: `uid-${NAME}` } };
  await mgmt.ensureNamespace(NS);
  await mgmt.apply(renderInitialCluster(rendered), { force: true });
  await waitUntil('control plane initialized', async () => {
    const s = await capiState(mgmt);
    return controlPlaneInitialized(s.cluster, s.machines);
  });
  const workload = await connectWorkload(mgmt, NS, NAME);
  for (const obj of renderCni({ cni: { name: 'cilium', version: '1.16.5' }, podCidr: '192.168.0.0/16' }, rendered.cluster)) await workload.apply(obj, { force: true });
  await waitUntil('node Ready', async () => nodesReady(await workload.list('v1', 'Node')));
  // Provision step 5: the providers from the simulator's release repository, one reconcile pass per poll.
  const providers = { infrastructure: 'sim' as const, repository: sim.releasesUrl, fetcher: createComponentsFetcher(), wait: { timeoutMs: 2000, intervalMs: 25 } };
  await waitUntil('providers installed and Available', async () => {
    const status = await reconcileProviders(workload, providers);
    return { done: status.ready, message: statusMessage(status) };
  });
  await waitUntil('machines have nodes', async () => {
    const { machines } = await capiState(mgmt);
    const withNode = machines.filter((m) => (m.status as { nodeRef?: unknown } | undefined)?.nodeRef !== undefined);
    return { done: machines.length > 0 && withNode.length === machines.length, message: `${withNode.length}/${machines.length}` };
  });
  return workload;
}

describe('provision and pivot on the simulator with the CAPI driver', () => {
  let sim: Simulator;
  let mgmt: KubeClient;
  let workload: KubeClient;

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'fast', seed: 21 });
    mgmt = await connectKubeconfig({ object: sim.managementKubeconfig() }, { cluster: 'management' });
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('provisions one control-plane machine, installs CNI and providers, and pivots with no new, duplicated or leaked instance', async () => {
    // Prepare: provision steps 2-5
    workload = await provisionUntilPivot(sim, mgmt);
    const launched = sim.cloud.totalLaunched;

    // Act: provision step 6
    const report = await move(mgmt, workload, { namespace: NS, clusterName: NAME });

    // Assess
    expect(report.moved).toMatchObject({ Cluster: 1, Machine: 1, KubeadmControlPlane: 1, SimCluster: 1, SimMachine: 1, KubeadmConfig: 1 });
    expect(report.moved.Secret).toBeGreaterThanOrEqual(5);
    expect(await mgmt.get(refOfCluster())).toBeNull();
    expect(await mgmt.list(CAPI, 'Machine', { namespace: NS })).toEqual([]);
    await waitUntil('Available in the workload cluster', async () => clusterAvailable((await capiState(workload)).cluster, { controlPlane: 1, workers: 0 }));
    await new Promise((r) => setTimeout(r, sim.timing.leakGraceMs + 100));
    expect(sim.cloud.totalLaunched).toBe(launched);
    expect(sim.counters()[vcOf()]?.instances).toMatchObject({ running: 1, duplicated: 0, leaked: 0 });
  });

  it('scales in the workload cluster to the full topology', async () => {
    // Act: provision step 7
    await workload.apply(renderScaledTopology(input), { force: true });
    // Assess
    await waitUntil('Available at 3 + 1', async () => {
      const s = await capiState(workload);
      return clusterAvailable(s.cluster, { controlPlane: 3, workers: 1 }, s.machines);
    }, 40_000);
    expect(sim.counters()[vcOf()]?.instances).toMatchObject({ running: 4, duplicated: 0, leaked: 0 });
  });

  it('moves back before deletion, then deletion removes every instance', async () => {
    // Prepare
    const launched = sim.cloud.totalLaunched;
    // Act
    const report = await moveBack(workload, mgmt, { namespace: NS, clusterName: NAME });
    // Assess
    expect(report.moved).toMatchObject({ Machine: 4, SimMachine: 4 });
    await waitUntil('Available in the management cluster', async () => clusterAvailable((await capiState(mgmt)).cluster, { controlPlane: 3, workers: 1 }), 30_000);
    await new Promise((r) => setTimeout(r, sim.timing.leakGraceMs + 100));
    expect(sim.cloud.totalLaunched).toBe(launched);
    expect(sim.counters()[vcOf()]?.instances).toMatchObject({ running: 4, duplicated: 0, leaked: 0 });
    // Act: delete
    expect(await mgmt.delete(refOfCluster())).not.toBe('absent');
    // Assess
    await waitUntil('cluster gone', async () => {
      const s = await capiState(mgmt);
      return clusterGone(s.cluster, s.machines);
    }, 30_000);
    expect(sim.cloud.counters()).toMatchObject({ running: 0, duplicated: 0, leaked: 0 });
  });
});

describe('a pivot interrupted twice on the live simulator', () => {
  let sim: Simulator;
  let mgmt: KubeClient;

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'fast', seed: 33 });
    mgmt = await connectKubeconfig({ object: sim.managementKubeconfig() }, { cluster: 'management' });
    NAME = 'pivot-3';
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('converges after crashes while creating in the target and while deleting from the source, with no duplicate or leak', async () => {
    // Prepare
    const workload = await provisionUntilPivot(sim, mgmt);
    const launched = sim.cloud.totalLaunched;
    // Act: crash mid-creation, then mid-deletion (a clean move of this cluster makes ~60 writes)
    const first = { left: 20, after: true };
    await expect(move(crashing(mgmt, first), crashing(workload, first), { namespace: NS, clusterName: NAME })).rejects.toThrow(CrashError);
    expect(await mgmt.get(refOfCluster())).not.toBeNull();
    const secretsBefore = (await mgmt.list('v1', 'Secret', { namespace: NS })).length;
    const second = { left: 45, after: false };
    await expect(move(crashing(mgmt, second), crashing(workload, second), { namespace: NS, clusterName: NAME })).rejects.toThrow(CrashError);
    // The second crash hit the deletion phase: part of the source is gone, the Cluster is still there.
    expect((await mgmt.list('v1', 'Secret', { namespace: NS })).length).toBeLessThan(secretsBefore);
    expect(await mgmt.get(refOfCluster())).not.toBeNull();
    const report = await move(mgmt, workload, { namespace: NS, clusterName: NAME });
    // Assess
    expect(report.resumed).toBe(true);
    expect(await mgmt.get(refOfCluster())).toBeNull();
    expect(await mgmt.list(CAPI, 'Machine', { namespace: NS })).toEqual([]);
    await waitUntil('Available in the workload cluster', async () => clusterAvailable((await capiState(workload)).cluster, { controlPlane: 1, workers: 0 }));
    await new Promise((r) => setTimeout(r, sim.timing.leakGraceMs + 100));
    expect(sim.cloud.totalLaunched).toBe(launched);
    expect(sim.counters()[vcOf()]?.instances).toMatchObject({ running: 1, duplicated: 0, leaked: 0 });
  });
});
