/**
 * provision-cluster under faults, through the API, the local runner and the simulator's fault injection:
 * failing machines end in `Failed` with the step and the cause (and a `Cluster Failed` event), 20 % API errors
 * on the management and workload clusters are absorbed by retries, and a wait that can never succeed fails
 * within its bounded attempts instead of hanging.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADMIN, DEMO_CLUSTER_REQUEST, DEMO_DEVELOPER, DEMO_WORKSPACE } from '../../local/seed.ts';
import type { Simulator } from '../../local/sim/index.ts';
import type { StateTransition } from '../../local/stepfunctions.ts';
import { connectAccess } from '../../shared/capi/access.ts';
import { workspaceNamespace } from '../../shared/capi/render.ts';
import { DetailType } from '../../shared/events/constants.ts';
import { capiObjectsOf, cloudProblems, clusterPath, liveInstancesOf, provisionReady, waitSettled } from '../helpers/clusters.ts';
import { type RuntimeHarness, startRuntimeHarness } from '../helpers/runtime.ts';

const WS = DEMO_WORKSPACE;
const NS = workspaceNamespace(WS);

function simOf(h: RuntimeHarness): Simulator {
  const s = h.runtime.simulator;
  if (!s) throw new Error('the runtime has no simulator');
  return s;
}

/** The `Cluster Failed` events published for a cluster. */
async function failedEvents(h: RuntimeHarness, name: string) {
  await h.runtime.events.drain();
  return h.runtime.events
    .history({ source: 'slipway', detailType: DetailType.ClusterFailed })
    .map((r) => r.event.detail as { cluster: { name: string }; step: string | null; message: string | null; error: { name: string; cause: string } })
    .filter((d) => d.cluster.name === name);
}

describe('faults during provisioning', () => {
  let h: RuntimeHarness;
  let dev: string;
  /** Called on every state entered, in every execution of this runtime. */
  let onTransition: (t: StateTransition) => void = () => undefined;

  beforeAll(async () => {
    h = await startRuntimeHarness({ onTransition: (t) => onTransition(t) });
    dev = await h.token(DEMO_DEVELOPER);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('a control-plane machine that fails to launch: Failed at check-control-plane with the cause, and a Cluster Failed event', async () => {
    // Prepare
    const name = 'f-cp';
    simOf(h).faults.failNextMachines(1, { namespace: NS, name });

    // Act
    const res = await h.call('POST', `/v1/workspaces/${WS}/clusters`, { token: dev, body: { ...DEMO_CLUSTER_REQUEST, name } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const failed = await waitSettled(h, dev, WS, name);

    // Assess
    expect(failed.phase).toBe('Failed');
    expect(failed.step).toBe('check-control-plane');
    expect(failed.message).toMatch(/^MachineFailedError: /);
    expect(failed.message).toContain('InsufficientInstanceCapacity');
    expect(failed.operation).toBeNull();
    const events = await failedEvents(h, name);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ step: 'check-control-plane', error: { name: 'MachineFailedError' } });
    expect(events[0]?.error.cause).toContain('InsufficientInstanceCapacity');
    const history = (await h.call('GET', `${clusterPath(WS, name)}/events`, { token: dev })).body.items;
    expect(history.at(-1)).toMatchObject({ phase: 'Failed', step: 'check-control-plane' });
    const execution = h.runtime.workflows.list().find((e) => e.workflow === 'provision-cluster' && e.name.startsWith(`${WS}--${name}--`));
    expect(execution?.status).toBe('FAILED');
  });

  it('a worker machine that fails to launch after the pivot: Failed at check-scale with the cause', async () => {
    // Prepare: the next launch for this cluster fails once the pivot starts (the first control-plane
    // machine is running by then; the next launches are the scale-out's, in the workload cluster).
    const name = 'f-scale';
    onTransition = (t) => {
      if (t.state === 'Pivot' && t.kind === 'entered' && t.executionName.startsWith(`${WS}--${name}--`)) simOf(h).faults.failNextMachines(1, { namespace: NS, name });
    };

    // Act
    const res = await h.call('POST', `/v1/workspaces/${WS}/clusters`, { token: dev, body: { ...DEMO_CLUSTER_REQUEST, name } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const failed = await waitSettled(h, dev, WS, name);
    onTransition = () => undefined;

    // Assess
    expect(failed.phase, `${failed.step}: ${failed.message}`).toBe('Failed');
    expect(failed.step).toBe('check-scale');
    expect(failed.capiLocation).toBe('self');
    expect(failed.message).toMatch(/^MachineFailedError: /);
    expect(failed.message).toContain('InsufficientInstanceCapacity');
    const events = await failedEvents(h, name);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ step: 'check-scale', error: { name: 'MachineFailedError' } });
    expect(events[0]?.error.cause).toContain('InsufficientInstanceCapacity');
  });

  it('the cluster that failed after its pivot can still be deleted: every instance terminated, nothing left', async () => {
    // Prepare
    const name = 'f-scale';
    const sim = simOf(h);
    const before = await h.runtime.stores.clusters.get(WS, name);
    expect(before?.phase).toBe('Failed');
    const usageBefore = await h.runtime.stores.clusters.usage(WS);

    // Act
    const res = await h.call('DELETE', clusterPath(WS, name), { token: dev });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const deleted = await waitSettled(h, dev, WS, name);

    // Assess
    expect(deleted.phase, `${deleted.step}: ${deleted.message}`).toBe('Deleted');
    await h.waitFor('instances terminated', async () => sim.cloud.list({ clusterKey: `${NS}/${name}` }), (all) => all.every((i) => i.state === 'terminated'), 15_000);
    expect(await capiObjectsOf(h.runtime.management, WS, name)).toEqual([]);
    expect(sim.server.getCluster(`${NS}--${name}`)).toBeUndefined();
    const usageAfter = await h.runtime.stores.clusters.usage(WS);
    expect(usageAfter.clusters).toBe(usageBefore.clusters - 1);
    expect(cloudProblems(sim)).toEqual({ duplicated: 0, leaked: 0 });
  });

  it('20 % API errors on the management and workload clusters: still Ready, nothing duplicated or leaked', async () => {
    // Prepare
    const name = 'f-5xx';
    const sim = simOf(h);
    const vc = `${NS}--${name}`;
    sim.faults.api('*', { errorRate: 0.2, seed: 42 });
    let ready: Awaited<ReturnType<typeof provisionReady>>;
    try {
      // Act
      ready = await provisionReady(h, dev, WS, { ...DEMO_CLUSTER_REQUEST, name });
    } finally {
      sim.faults.api('*', undefined);
    }

    // Assess: the errors happened, on both sides of the pivot
    const counters = sim.counters();
    expect(counters.management?.faults.injectedErrors ?? 0).toBeGreaterThan(0);
    expect(counters[vc]?.faults.injectedErrors ?? 0).toBeGreaterThan(0);
    // ...and the cluster is complete anyway
    expect(ready.capiLocation).toBe('self');
    expect(ready.observedGeneration).toBe(ready.generation);
    const record = await h.runtime.stores.clusters.get(WS, name);
    if (!record) throw new Error('cluster record missing');
    const workload = await connectAccess(h.runtime.management, record);
    const machines = await workload.list('cluster.x-k8s.io/v1beta2', 'Machine', { namespace: NS, labelSelector: { 'cluster.x-k8s.io/cluster-name': name } });
    const size = record.controlPlane.replicas + record.nodePools.reduce((n, p) => n + p.desired, 0);
    expect(machines).toHaveLength(size);
    expect(await workload.list('v1', 'Node')).toHaveLength(size);
    expect(liveInstancesOf(sim, WS, name)).toHaveLength(size);
    expect(await capiObjectsOf(h.runtime.management, WS, name)).toEqual([]);
    expect(await workload.list('cluster.x-k8s.io/v1beta2', 'Cluster', { namespace: NS })).toHaveLength(1);
    expect(cloudProblems(sim)).toEqual({ duplicated: 0, leaked: 0 });
    const phases = (await h.call('GET', `${clusterPath(WS, name)}/events`, { token: dev })).body.items.map((r: { phase: string }) => r.phase);
    expect(phases).not.toContain('Failed');
  }, 180_000);

  it('20 % API errors during a scale-up and a deletion: both complete, nothing left behind', async () => {
    // Prepare
    const name = 'f-5xx';
    const sim = simOf(h);
    const before = await h.runtime.stores.clusters.get(WS, name);
    if (!before) throw new Error('cluster record missing');
    const usageBefore = await h.runtime.stores.clusters.usage(WS);
    sim.faults.api('*', { errorRate: 0.2, seed: 43 });
    try {
      // Act: scale up
      const res = await h.call('PATCH', clusterPath(WS, name), { token: dev, body: { nodePools: [{ name: 'workers', desired: 3 }] } });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const scaled = await waitSettled(h, dev, WS, name);

      // Assess
      expect(scaled.phase, `${scaled.step}: ${scaled.message}`).toBe('Ready');
      expect(liveInstancesOf(sim, WS, name)).toHaveLength(before.controlPlane.replicas + 3);

      // Act: delete
      const del = await h.call('DELETE', clusterPath(WS, name), { token: dev });
      expect(del.status, JSON.stringify(del.body)).toBe(202);
      const deleted = await waitSettled(h, dev, WS, name);

      // Assess
      expect(deleted.phase, `${deleted.step}: ${deleted.message}`).toBe('Deleted');
    } finally {
      sim.faults.api('*', undefined);
    }
    await h.waitFor('instances terminated', async () => sim.cloud.list({ clusterKey: `${NS}/${name}` }), (all) => all.every((i) => i.state === 'terminated'), 15_000);
    expect(await capiObjectsOf(h.runtime.management, WS, name)).toEqual([]);
    expect(sim.server.getCluster(`${NS}--${name}`)).toBeUndefined();
    expect((await h.runtime.stores.clusters.usage(WS)).clusters).toBe(usageBefore.clusters - 1);
    expect(cloudProblems(sim)).toEqual({ duplicated: 0, leaked: 0 });
  }, 180_000);
});

describe('a ClusterClass that does not exist', () => {
  let h: RuntimeHarness;
  let dev: string;
  let admin: string;
  const entered: StateTransition[] = [];
  const statesOf = (execution: string | undefined) => entered.filter((t) => t.executionName === execution && t.kind === 'entered').map((t) => t.state);
  const executionOf = (name: string, workflow: string) => h.runtime.workflows.list().find((e) => e.workflow === workflow && e.name.startsWith(`${WS}--${name}--`) && e.status !== 'SUCCEEDED');

  beforeAll(async () => {
    h = await startRuntimeHarness({ onTransition: (t) => entered.push(t) });
    dev = await h.token(DEMO_DEVELOPER);
    admin = await h.token(DEMO_ADMIN);
    // Revision 2 of the `next` plan names a class nobody installed in the management cluster (an admin's typo).
    const current = (await h.call('GET', '/v1/cluster-plans/next/revisions/1', { token: admin })).body;
    const { revision: _r, createdAt: _c, createdBy: _b, id: _id, planId: _p, ...spec } = current;
    const res = await h.call('POST', '/v1/cluster-plans/next/revisions', { token: admin, body: { ...spec, clusterClass: 'sim-ferrol-1-32-v9', kubernetesVersion: 'v1.32.2' } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.revision).toBe(2);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('a cluster on it fails at check-control-plane at once, saying which class, and can be deleted', async () => {
    // Act
    const name = 'f-class';
    const res = await h.call('POST', `/v1/workspaces/${WS}/clusters`, { token: dev, body: { ...DEMO_CLUSTER_REQUEST, name, plan: { id: 'next', revision: 2 } } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const failed = await waitSettled(h, dev, WS, name);

    // Assess: Failed with the step and a clear cause, after a few polls — not ~240 of them (an hour)
    expect(failed.phase).toBe('Failed');
    expect(failed.step).toBe('check-control-plane');
    expect(failed.message).toMatch(/^ClusterClassNotFoundError: cluster f-class: ClusterClass sim-ferrol-1-32-v9 does not exist /);
    const events = await failedEvents(h, name);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ step: 'check-control-plane', error: { name: 'ClusterClassNotFoundError' } });
    const execution = executionOf(name, 'provision-cluster');
    expect(execution?.status).toBe('FAILED');
    expect(statesOf(execution?.name).filter((s) => s === 'CheckControlPlane').length).toBeLessThanOrEqual(5);
    expect(liveInstancesOf(simOf(h), WS, name)).toEqual([]);

    // Act: delete it
    expect((await h.call('DELETE', clusterPath(WS, name), { token: dev })).status).toBe(202);
    const deleted = await waitSettled(h, dev, WS, name);

    // Assess
    expect(deleted.phase, `${deleted.step}: ${deleted.message}`).toBe('Deleted');
    expect(await capiObjectsOf(h.runtime.management, WS, name)).toEqual([]);
  });

  it('an update to a plan revision on it fails at apply-update at once, and the cluster keeps its topology', async () => {
    // Prepare
    const name = 'f-class-upd';
    await provisionReady(h, dev, WS, { ...DEMO_CLUSTER_REQUEST, name, plan: { id: 'next', revision: 1 } });
    const record = await h.runtime.stores.clusters.get(WS, name);
    if (!record) throw new Error('cluster record missing');
    const workload = await connectAccess(h.runtime.management, record);
    const ref = { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', namespace: NS, name };
    const before = (await workload.get(ref))?.spec;

    // Act
    const res = await h.call('PATCH', clusterPath(WS, name), { token: dev, body: { plan: { revision: 2 } } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const failed = await waitSettled(h, dev, WS, name);

    // Assess: refused on the first try (no retries of a missing class), nothing patched in the cluster
    expect(failed.phase).toBe('Failed');
    expect(failed.step).toBe('apply-update');
    expect(failed.message).toMatch(/^ClusterClassNotFoundError: ClusterClass default\/sim-ferrol-1-32-v9 does not exist on /);
    const execution = executionOf(name, 'update-cluster');
    expect(execution?.status).toBe('FAILED');
    expect(statesOf(execution?.name).filter((s) => s === 'ApplyUpdate')).toHaveLength(1);
    expect((await workload.get(ref))?.spec).toEqual(before);
  });
});

describe('a wait that never succeeds', () => {
  let h: RuntimeHarness;
  let dev: string;
  const entered: StateTransition[] = [];

  beforeAll(async () => {
    // Five polls per wait: 0.05 s, then ×1.5 (the local time factor scales the Wait states).
    h = await startRuntimeHarness({ waits: { maxAttempts: 5 }, onTransition: (t) => entered.push(t) });
    dev = await h.token(DEMO_DEVELOPER);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('fails with WaitTimeoutError after its bounded attempts, not a hang', async () => {
    // Prepare: machines of this cluster take an hour to boot
    const name = 'f-slow';
    simOf(h).faults.bootDelay(3_600_000, { namespace: NS, name });

    // Act
    const res = await h.call('POST', `/v1/workspaces/${WS}/clusters`, { token: dev, body: { ...DEMO_CLUSTER_REQUEST, name } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const failed = await waitSettled(h, dev, WS, name, 30_000);

    // Assess
    expect(failed.phase).toBe('Failed');
    expect(failed.step).toBe('check-control-plane');
    expect(failed.message).toMatch(/^WaitTimeoutError: check-control-plane: gave up after 5 checks/);
    const events = await failedEvents(h, name);
    expect(events).toHaveLength(1);
    expect(events[0]?.error.name).toBe('WaitTimeoutError');
    const execution = h.runtime.workflows.list().find((e) => e.workflow === 'provision-cluster' && e.name.startsWith(`${WS}--${name}--`));
    expect(execution?.status).toBe('FAILED');
    // Five checks of the control plane, four waits between them, no more.
    const states = entered.filter((t) => t.executionName === execution?.name && t.kind === 'entered').map((t) => t.state);
    expect(states.filter((s) => s === 'CheckControlPlane')).toHaveLength(5);
    expect(states.filter((s) => s === 'WaitControlPlane')).toHaveLength(4);
    expect(states.at(-1)).toBe('Failed');
  });
});
