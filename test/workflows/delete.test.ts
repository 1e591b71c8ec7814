/**
 * delete-cluster end to end: DELETE on a Ready, self-managed cluster moves its CAPI objects back, deletes
 * them, waits until every machine is gone, forgets the kept access, releases the quota and marks it Deleted —
 * and the name can then be used again. A cluster whose machines are still booting waits for them before the
 * move back (clusterctl move refuses while a machine has no node), and one that never boots fails clearly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLUSTER_REQUEST, DEMO_DEVELOPER, DEMO_WORKSPACE } from '../../local/seed.ts';
import type { StateTransition } from '../../local/stepfunctions.ts';
import { ACCESS_NAMESPACE, accessSecretName, connectAccess } from '../../shared/capi/access.ts';
import type { KubeClient } from '../../shared/capi/client.ts';
import { ANNOTATION_SLIPWAY_PAUSED } from '../../shared/capi/mover.ts';
import { workspaceNamespace } from '../../shared/capi/render.ts';
import { DetailType } from '../../shared/events/constants.ts';
import { capiObjectsOf, cloudProblems, clusterPath, instancesOf, liveInstancesOf, provisionReady, waitSettled } from '../helpers/clusters.ts';
import { type RuntimeHarness, startRuntimeHarness } from '../helpers/runtime.ts';

const WS = DEMO_WORKSPACE;
const NAME = 'del-1';

let h: RuntimeHarness;
let dev: string;

beforeAll(async () => {
  h = await startRuntimeHarness();
  dev = await h.token(DEMO_DEVELOPER);
});

afterAll(async () => {
  await h?.close();
});

const sim = () => {
  const s = h.runtime.simulator;
  if (!s) throw new Error('the runtime has no simulator');
  return s;
};

describe('delete-cluster', () => {
  it('deletes a self-managed cluster completely, releases its quota, and the name can be reused', async () => {
    // Prepare
    const usageEmpty = await h.runtime.stores.clusters.usage(WS);
    const ready = await provisionReady(h, dev, WS, { ...DEMO_CLUSTER_REQUEST, name: NAME });
    expect(ready.capiLocation).toBe('self');
    const record = await h.runtime.stores.clusters.get(WS, NAME);
    if (!record) throw new Error('cluster record missing');
    const usageReady = await h.runtime.stores.clusters.usage(WS);
    expect(usageReady.clusters).toBe(usageEmpty.clusters + 1);
    expect(usageReady.monthlyUsd).toBeCloseTo(usageEmpty.monthlyUsd + ready.costEstimate.monthlyUsd, 2);
    const launched = instancesOf(sim(), WS, NAME).length;
    expect(liveInstancesOf(sim(), WS, NAME)).toHaveLength(ready.controlPlane.replicas + ready.nodePools[0].desired);
    const accessRef = { apiVersion: 'v1', kind: 'Secret', namespace: ACCESS_NAMESPACE, name: accessSecretName(record) };
    expect(await h.runtime.management.get(accessRef)).not.toBeNull();

    // Act
    const res = await h.call('DELETE', clusterPath(WS, NAME), { token: dev });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.phase).toBe('Deleting');
    const again = await h.call('DELETE', clusterPath(WS, NAME), { token: dev });
    const deleted = await waitSettled(h, dev, WS, NAME);

    // Assess: the record and the answer to a repeated DELETE
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    expect(deleted.phase, `${deleted.step}: ${deleted.message}`).toBe('Deleted');
    expect(h.runtime.workflows.list().filter((e) => e.workflow === 'delete-cluster')).toHaveLength(1);

    // Every instance terminated, none launched for the deletion, none duplicated or leaked.
    await h.waitFor(
      'instances terminated',
      async () => instancesOf(sim(), WS, NAME),
      (all) => all.every((i) => i.state === 'terminated'),
      15_000,
    );
    expect(instancesOf(sim(), WS, NAME)).toHaveLength(launched);
    expect(cloudProblems(sim())).toEqual({ duplicated: 0, leaked: 0 });

    // No CAPI object left: not in the management cluster, and the workload cluster itself is gone.
    expect(await capiObjectsOf(h.runtime.management, WS, NAME)).toEqual([]);
    const vc = `${workspaceNamespace(WS)}--${NAME}`;
    expect(sim().server.getCluster(vc)).toBeUndefined();
    expect(await h.runtime.management.get(accessRef)).toBeNull();

    // The quota is released.
    const usageAfter = await h.runtime.stores.clusters.usage(WS);
    expect(usageAfter.clusters).toBe(usageEmpty.clusters);
    expect(usageAfter.monthlyUsd).toBeCloseTo(usageEmpty.monthlyUsd, 2);

    // History and events.
    const history = (await h.call('GET', `${clusterPath(WS, NAME)}/events`, { token: dev })).body.items.map((r: { phase: string }) => r.phase);
    expect(history.slice(-2)).toEqual(['Deleting', 'Deleted']);
    await h.runtime.events.drain();
    const changes = h.runtime.events
      .history({ source: 'slipway', detailType: DetailType.ClusterPhaseChanged })
      .map((r) => r.event.detail as { cluster: { uid: string }; generation: number; phase: string })
      .filter((d) => d.cluster.uid === record.uid && d.generation === deleted.generation)
      .map((d) => d.phase);
    expect(changes).toEqual(['Deleting', 'Deleted']);
    const gone = h.runtime.events.history({ source: 'slipway', detailType: DetailType.ClusterDeleted });
    expect(gone).toHaveLength(1);
    expect(gone[0]?.event.detail).toMatchObject({ cluster: { workspaceId: WS, name: NAME, uid: record.uid }, phase: 'Deleted' });

    // Act: the name again — and a change asked for while it provisions
    const requested = await h.call('POST', `/v1/workspaces/${WS}/clusters`, { token: dev, body: { ...DEMO_CLUSTER_REQUEST, name: NAME } });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    const early = await h.call('PATCH', clusterPath(WS, NAME), { token: dev, body: { nodePools: [{ name: 'workers', desired: 3 }] } });
    const reused = await waitSettled(h, dev, WS, NAME);

    // Assess: the change was refused before any workflow started (only Ready clusters change)
    expect(early.status, JSON.stringify(early.body)).toBe(409);
    expect(h.runtime.workflows.list().filter((e) => e.workflow === 'update-cluster')).toHaveLength(0);
    // A new incarnation, its own instances, the old ones still terminated
    expect(reused.phase, `${reused.step}: ${reused.message}`).toBe('Ready');
    expect(reused.uid).not.toBe(record.uid);
    expect(reused.generation).toBe(1);
    expect(liveInstancesOf(sim(), WS, NAME)).toHaveLength(reused.controlPlane.replicas + reused.nodePools[0].desired);
    expect(cloudProblems(sim())).toEqual({ duplicated: 0, leaked: 0 });
    const usageReused = await h.runtime.stores.clusters.usage(WS);
    expect(usageReused.clusters).toBe(usageEmpty.clusters + 1);
  }, 180_000);

  it('deletes a cluster that failed before its pivot', async () => {
    // Prepare: the first control-plane machine fails to launch
    const name = 'del-2';
    sim().faults.failNextMachines(1, { namespace: workspaceNamespace(WS), name });
    const usageBefore = await h.runtime.stores.clusters.usage(WS);
    const res = await h.call('POST', `/v1/workspaces/${WS}/clusters`, { token: dev, body: { ...DEMO_CLUSTER_REQUEST, name } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const failed = await waitSettled(h, dev, WS, name);
    expect(failed.phase).toBe('Failed');
    expect(failed.capiLocation).toBe('management');

    // Act
    const del = await h.call('DELETE', clusterPath(WS, name), { token: dev });
    expect(del.status, JSON.stringify(del.body)).toBe(202);
    const deleted = await waitSettled(h, dev, WS, name);

    // Assess
    expect(deleted.phase, `${deleted.step}: ${deleted.message}`).toBe('Deleted');
    await h.waitFor(
      'instances terminated',
      async () => instancesOf(sim(), WS, name),
      (all) => all.every((i) => i.state === 'terminated'),
      15_000,
    );
    expect(await capiObjectsOf(h.runtime.management, WS, name)).toEqual([]);
    const usageAfter = await h.runtime.stores.clusters.usage(WS);
    expect(usageAfter.clusters).toBe(usageBefore.clusters);
    expect(usageAfter.monthlyUsd).toBeCloseTo(usageBefore.monthlyUsd, 2);
    expect(cloudProblems(sim())).toEqual({ duplicated: 0, leaked: 0 });
  });

  it('deletes a cluster whose pivot failed after pausing it', async () => {
    // Prepare: a cluster that failed in the management cluster, left paused the way the mover pauses a Cluster
    // before copying it (a pivot that fails after its pause, e.g. its retries exhausted, leaves exactly this).
    const name = 'del-3';
    sim().faults.failNextMachines(1, { namespace: workspaceNamespace(WS), name });
    const res = await h.call('POST', `/v1/workspaces/${WS}/clusters`, { token: dev, body: { ...DEMO_CLUSTER_REQUEST, name } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await waitSettled(h, dev, WS, name)).phase).toBe('Failed');
    const ref = { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', namespace: workspaceNamespace(WS), name };
    await h.runtime.management.mergePatch(ref, { spec: { paused: true }, metadata: { annotations: { [ANNOTATION_SLIPWAY_PAUSED]: 'true' } } });

    // Act
    const del = await h.call('DELETE', clusterPath(WS, name), { token: dev });
    expect(del.status, JSON.stringify(del.body)).toBe(202);
    const deleted = await waitSettled(h, dev, WS, name);

    // Assess
    expect(deleted.phase, `${deleted.step}: ${deleted.message}`).toBe('Deleted');
    await h.waitFor('instances terminated', async () => instancesOf(sim(), WS, name), (all) => all.every((i) => i.state === 'terminated'), 15_000);
    expect(await capiObjectsOf(h.runtime.management, WS, name)).toEqual([]);
    expect(cloudProblems(sim())).toEqual({ duplicated: 0, leaked: 0 });
  });
});

describe('delete-cluster while machines are still booting', () => {
  // 80 polls per wait: check-move-back gets half (about 6 s at the tests' time factor), enough for a machine
  // booting 2.5 s longer than usual — longer than move-back's own retries of a refused preflight would last.
  let b: RuntimeHarness;
  let token: string;
  const entered: StateTransition[] = [];
  const NS = workspaceNamespace(WS);
  const CORE = 'cluster.x-k8s.io/v1beta2';

  beforeAll(async () => {
    b = await startRuntimeHarness({ waits: { maxAttempts: 80 }, onTransition: (t) => entered.push(t) });
    token = await b.token(DEMO_DEVELOPER);
  });

  afterAll(async () => {
    await b?.close();
  });

  const simB = () => {
    const s = b.runtime.simulator;
    if (!s) throw new Error('the runtime has no simulator');
    return s;
  };
  const deleteStates = (name: string) => {
    const execution = b.runtime.workflows.list().find((e) => e.workflow === 'delete-cluster' && e.name.startsWith(`${WS}--${name}--`));
    return entered.filter((t) => t.executionName === execution?.name && t.kind === 'entered').map((t) => t.state);
  };

  /**
   * A Ready, self-managed cluster to which one more worker is being added by something other than Slipway (an
   * autoscaler, a remediation — or a scale-out that timed out) and whose instance takes `bootMs` to boot.
   * Returns the workload cluster and the booting Machine's name once it exists without a node.
   */
  async function readyWithBootingMachine(name: string, bootMs: number): Promise<{ workload: KubeClient; booting: string }> {
    await provisionReady(b, token, WS, { ...DEMO_CLUSTER_REQUEST, name });
    const record = await b.runtime.stores.clusters.get(WS, name);
    if (!record) throw new Error('cluster record missing');
    const workload = await connectAccess(b.runtime.management, record);
    const ref = { apiVersion: CORE, kind: 'Cluster', namespace: NS, name };
    const capi = await workload.get(ref);
    if (capi === null) throw new Error('the CAPI Cluster is not in the workload cluster');
    const topology = (capi.spec as { topology: { workers: { machineDeployments: Array<{ replicas: number }> } } }).topology;
    const mds = topology.workers.machineDeployments.map((md, i) => (i === 0 ? { ...md, replicas: md.replicas + 1 } : md));
    simB().faults.bootDelay(bootMs, { namespace: NS, name });
    await workload.mergePatch(ref, { spec: { topology: { workers: { machineDeployments: mds } } } });
    const machines = await b.waitFor(
      'a machine without a node',
      () => workload.list(CORE, 'Machine', { namespace: NS, labelSelector: { 'cluster.x-k8s.io/cluster-name': name } }),
      (ms) => ms.some((m) => (m.status as { nodeRef?: unknown } | undefined)?.nodeRef === undefined),
      15_000,
    );
    const booting = machines.find((m) => (m.status as { nodeRef?: unknown } | undefined)?.nodeRef === undefined)?.metadata.name;
    if (booting === undefined) throw new Error('no booting machine');
    return { workload, booting };
  }

  it('waits until the booting machine has its node, then moves back and deletes everything', async () => {
    // Prepare
    const name = 'del-boot';
    const { booting } = await readyWithBootingMachine(name, 2_500);

    // Act
    const res = await b.call('DELETE', clusterPath(WS, name), { token });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const deleted = await waitSettled(b, token, WS, name);

    // Assess: deleted, after waiting at check-move-back (not failing at move-back)
    expect(deleted.phase, `${deleted.step}: ${deleted.message}`).toBe('Deleted');
    const states = deleteStates(name);
    expect(states.filter((s) => s === 'CheckMoveBack').length).toBeGreaterThan(1);
    expect(states.filter((s) => s === 'MoveBack')).toHaveLength(1);
    const history = (await b.call('GET', `${clusterPath(WS, name)}/events`, { token })).body.items as Array<{ step: string | null; message: string | null }>;
    expect(history.some((r) => r.step === 'check-move-back' && r.message?.includes(booting))).toBe(true);
    // Nothing left, nothing launched twice or leaked.
    await b.waitFor('instances terminated', async () => instancesOf(simB(), WS, name), (all) => all.every((i) => i.state === 'terminated'), 15_000);
    expect(await capiObjectsOf(b.runtime.management, WS, name)).toEqual([]);
    expect(simB().server.getCluster(`${NS}--${name}`)).toBeUndefined();
    await new Promise((r) => setTimeout(r, simB().timing.leakGraceMs * 2));
    expect(cloudProblems(simB())).toEqual({ duplicated: 0, leaked: 0 });
  }, 120_000);

  it('a machine that never gets a node: Failed at check-move-back naming it, the cluster left self-managed and whole', async () => {
    // Prepare
    const name = 'del-stuck';
    const { workload, booting } = await readyWithBootingMachine(name, 3_600_000);

    // Act
    const res = await b.call('DELETE', clusterPath(WS, name), { token });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const failed = await waitSettled(b, token, WS, name);

    // Assess: a clear failure, where and why
    expect(failed.phase).toBe('Failed');
    expect(failed.step).toBe('check-move-back');
    expect(failed.message).toMatch(/^WaitTimeoutError: check-move-back: gave up after 40 checks: /);
    expect(failed.message).toContain(booting);
    expect(failed.operation).toBeNull();
    expect(deleteStates(name)).not.toContain('MoveBack');
    // Nothing was moved, paused or deleted: the cluster still manages itself, and can be deleted again later.
    expect(failed.capiLocation).toBe('self');
    const capi = await workload.get({ apiVersion: CORE, kind: 'Cluster', namespace: NS, name });
    expect((capi?.spec as { paused?: boolean } | undefined)?.paused ?? false).toBe(false);
    expect(capi?.metadata.annotations?.[ANNOTATION_SLIPWAY_PAUSED]).toBeUndefined();
    expect(await capiObjectsOf(b.runtime.management, WS, name)).toEqual([]);
    expect(liveInstancesOf(simB(), WS, name).length).toBe(failed.controlPlane.replicas + failed.nodePools[0].desired + 1);
    expect((await b.call('DELETE', clusterPath(WS, name), { token })).status).toBe(202);
  }, 120_000);
});
