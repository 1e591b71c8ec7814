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
import { providerDeployments, renderCni, renderInitialCluster, renderProviderComponents, renderScaledTopology, type TopologyInput, workspaceNamespace } from '../../shared/capi/render.ts';
import { clusterAvailable, clusterGone, controlPlaneInitialized, nodesReady, providersAvailable, type WaitResult } from '../../shared/capi/status.ts';
import type { KubeObject } from '../../shared/capi/types.ts';
import { NodePool } from '../../shared/domain/schemas.ts';

const CAPI = 'cluster.x-k8s.io/v1beta2';
const WS = 'team-p';
const NAME = 'pivot-2';
const NS = workspaceNamespace(WS);
const VC = `${NS}--${NAME}`;

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
const clusterRef = { apiVersion: CAPI, kind: 'Cluster', name: NAME, namespace: NS };

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
  const [cluster, machines] = await Promise.all([client.get(clusterRef), client.list(CAPI, 'Machine', { namespace: NS, labelSelector: { 'cluster.x-k8s.io/cluster-name': NAME } })]);
  return { cluster, machines };
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
    await mgmt.ensureNamespace(NS);
    await mgmt.apply(renderInitialCluster(input), { force: true });
    await waitUntil('control plane initialized', async () => {
      const s = await capiState(mgmt);
      return controlPlaneInitialized(s.cluster, s.machines);
    });
    workload = await connectWorkload(mgmt, NS, NAME);
    for (const obj of renderCni({ cni: { name: 'cilium', version: '1.16.5' }, podCidr: '192.168.0.0/16' }, input.cluster)) await workload.apply(obj, { force: true });
    await waitUntil('node Ready', async () => nodesReady(await workload.list('v1', 'Node')));
    for (const obj of renderProviderComponents('sim')) await workload.apply(obj, { force: true });
    await waitUntil('providers Available', async () => providersAvailable(await workload.list('apps/v1', 'Deployment'), providerDeployments('sim')));
    await waitUntil('machines have nodes', async () => {
      const { machines } = await capiState(mgmt);
      const withNode = machines.filter((m) => (m.status as { nodeRef?: unknown } | undefined)?.nodeRef !== undefined);
      return { done: machines.length > 0 && withNode.length === machines.length, message: `${withNode.length}/${machines.length}` };
    });
    const launched = sim.cloud.totalLaunched;

    // Act: provision step 6
    const report = await move(mgmt, workload, { namespace: NS, clusterName: NAME });

    // Assess
    expect(report.moved).toMatchObject({ Cluster: 1, Machine: 1, KubeadmControlPlane: 1, SimCluster: 1, SimMachine: 1, KubeadmConfig: 1 });
    expect(report.moved.Secret).toBeGreaterThanOrEqual(5);
    expect(await mgmt.get(clusterRef)).toBeNull();
    expect(await mgmt.list(CAPI, 'Machine', { namespace: NS })).toEqual([]);
    await waitUntil('Available in the workload cluster', async () => clusterAvailable((await capiState(workload)).cluster, { controlPlane: 1, workers: 0 }));
    await new Promise((r) => setTimeout(r, sim.timing.leakGraceMs + 100));
    expect(sim.cloud.totalLaunched).toBe(launched);
    expect(sim.counters()[VC]?.instances).toMatchObject({ running: 1, duplicated: 0, leaked: 0 });
  });

  it('scales in the workload cluster to the full topology', async () => {
    // Act: provision step 7
    await workload.apply(renderScaledTopology(input), { force: true });
    // Assess
    await waitUntil('Available at 3 + 1', async () => {
      const s = await capiState(workload);
      return clusterAvailable(s.cluster, { controlPlane: 3, workers: 1 }, s.machines);
    }, 40_000);
    expect(sim.counters()[VC]?.instances).toMatchObject({ running: 4, duplicated: 0, leaked: 0 });
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
    expect(sim.counters()[VC]?.instances).toMatchObject({ running: 4, duplicated: 0, leaked: 0 });
    // Act: delete
    expect(await mgmt.delete(clusterRef)).not.toBe('absent');
    // Assess
    await waitUntil('cluster gone', async () => {
      const s = await capiState(mgmt);
      return clusterGone(s.cluster, s.machines);
    }, 30_000);
    expect(sim.cloud.counters()).toMatchObject({ running: 0, duplicated: 0, leaked: 0 });
  });
});
