/**
 * The runtime killed in the middle of a pivot and started again on the same data dir: the cluster's
 * provision-cluster execution is resumed, its steps converge over the half-moved state, and the cluster ends
 * Ready and self-managed with no duplicated or leaked instance and no duplicated CAPI object.
 *
 * The simulator must outlive the runtime (it stands for the management cluster and the clouds, which do not
 * restart with Slipway): the test starts it and hands the runtime a kubeconfig file for it, and its release
 * repository for the provider components.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLUSTER_REQUEST, DEMO_DEVELOPER, DEMO_WORKSPACE } from '../../local/seed.ts';
import { type Simulator, startSimulator } from '../../local/sim/index.ts';
import type { StateTransition } from '../../local/stepfunctions.ts';
import { ACCESS_NAMESPACE, accessSecretName, connectAccess } from '../../shared/capi/access.ts';
import { createKubeClient, type KubeClient } from '../../shared/capi/client.ts';
import { kubeconfigFromText } from '../../shared/capi/connect.ts';
import { ANNOTATION_PAUSED, ANNOTATION_SLIPWAY_PAUSED } from '../../shared/capi/mover.ts';
import { workspaceNamespace } from '../../shared/capi/render.ts';
import { DetailType } from '../../shared/events/constants.ts';
import { capiObjectsOf, cloudProblems, instancesOf, liveInstancesOf, waitSettled } from '../helpers/clusters.ts';
import { type RuntimeHarness, startRuntimeHarness } from '../helpers/runtime.ts';

const WS = DEMO_WORKSPACE;
const NS = workspaceNamespace(WS);
const CORE = 'cluster.x-k8s.io/v1beta2';

let sim: Simulator;
let dir: string;
let kubeconfigFile: string;
let observer: KubeClient;
/** The runtime running now (each test kills one and starts the next on the same data dir). */
let runtime: RuntimeHarness | undefined;
let onTransition: (t: StateTransition) => void = () => undefined;

beforeAll(async () => {
  sim = await startSimulator({ profile: 'fast', seed: 11 });
  dir = await mkdtemp(join(tmpdir(), 'slipway-restart-'));
  kubeconfigFile = join(dir, 'management.kubeconfig');
  await writeFile(kubeconfigFile, sim.managementKubeconfigText());
  // The test's own view of the management cluster, with no retries: it must never wait on a fault.
  observer = createKubeClient(kubeconfigFromText(sim.managementKubeconfigText()), { cluster: 'observer', retry: { read: { attempts: 1 }, write: { attempts: 1 } } });
});

afterAll(async () => {
  await runtime?.close();
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type KillPoint = 'creating in the target' | 'source emptied';

/**
 * The kill points of a pivot of cluster `name`: once the mover has created the Cluster in the workload cluster
 * (the create phase is under way), or once the management cluster has no Cluster left (the deletions are
 * done; what remains is the unpause and recording the new location).
 */
function pivotReached(point: KillPoint, name: string): () => Promise<boolean> {
  const ref = { apiVersion: CORE, kind: 'Cluster', namespace: NS, name };
  let workload: KubeClient | undefined;
  return async () => {
    workload ??= createKubeClient(kubeconfigFromText(JSON.stringify(sim.kubeconfigFor(`${NS}--${name}`))), { cluster: 'observer/workload', retry: { read: { attempts: 1 } } });
    const [inTarget, inSource] = await Promise.all([workload.get(ref).catch(() => null), observer.get(ref).catch(() => undefined)]);
    if (point === 'creating in the target') return inTarget !== null;
    return inTarget !== null && inSource === null;
  };
}

/** Waits until no request has been dropped for `quietMs`: whatever the killed runtime still ran has given up. */
async function untilQuiet(quietMs: number): Promise<void> {
  const dropped = () => Object.values(sim.counters()).reduce((n, c) => n + c.faults.droppedConnections, 0);
  let last = dropped();
  let since = Date.now();
  const deadline = Date.now() + 60_000;
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error('the killed runtime keeps calling the API');
    await sleep(100);
    const now = dropped();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

/**
 * Starts an operation on cluster `name` (on `running`, or a new runtime over `dir`), kills that runtime once
 * the execution has entered `state` and `reached` says so, and starts the next runtime on the same data dir.
 * In-process, a stopped runtime's running step would carry on: every connection is dropped until it has given
 * up, as if its process had died with it.
 */
async function killAndRestart(
  o: {
    name: string;
    state: string;
    begin: (h: RuntimeHarness, token: string) => Promise<void>;
    reached: () => Promise<boolean>;
    /** Runs once the dying runtime can no longer reach any cluster, before it stops. */
    beforeStop?: (h: RuntimeHarness) => Promise<void>;
  },
  running?: RuntimeHarness,
): Promise<RuntimeHarness> {
  let entered: () => void = () => undefined;
  const stateEntered = new Promise<void>((resolve) => {
    entered = resolve;
  });
  onTransition = (t) => {
    if (t.state === o.state && t.kind === 'entered' && t.executionName.startsWith(`${WS}--${o.name}--`)) entered();
  };
  const first = running ?? (await startRuntimeHarness({ management: { kubeconfigFile }, providers: { repository: sim.releasesUrl }, onTransition: (t) => onTransition(t) }, dir));
  await o.begin(first, await first.token(DEMO_DEVELOPER));

  await stateEntered;
  const deadline = Date.now() + 30_000;
  while (!(await o.reached())) {
    if (Date.now() > deadline) throw new Error(`${o.name} never reached the kill point in ${o.state}`);
    await sleep(2);
  }
  sim.faults.api('*', { dropAfterRequests: 0 });
  await o.beforeStop?.(first);
  await first.runtime.stop();
  await untilQuiet(5_000);
  sim.faults.api('*', undefined);
  onTransition = () => undefined;
  return startRuntimeHarness({ management: { kubeconfigFile }, providers: { repository: sim.releasesUrl }, onTransition: (t) => onTransition(t) }, dir);
}

/** Requests the cluster and kills the runtime at `point` of its pivot. */
function killMidPivotAndRestart(point: KillPoint, name: string, running?: RuntimeHarness): Promise<RuntimeHarness> {
  return killAndRestart(
    {
      name,
      state: 'Pivot',
      begin: async (h, token) => {
        const res = await h.call('POST', `/v1/workspaces/${WS}/clusters`, { token, body: { ...DEMO_CLUSTER_REQUEST, name } });
        expect(res.status, JSON.stringify(res.body)).toBe(202);
      },
      reached: pivotReached(point, name),
    },
    running,
  );
}

/** Ready, self-managed, one instance per machine ever launched, every CAPI object once and in the cluster itself. */
async function expectConverged(h: RuntimeHarness, name: string): Promise<void> {
  expect(h.runtime.resumed.some((r) => r.startsWith(`${WS}/${name} (provision`)), JSON.stringify({ resumed: h.runtime.resumed, notResumed: h.runtime.notResumed })).toBe(true);
  const token = await h.token(DEMO_DEVELOPER);
  const ready = await waitSettled(h, token, WS, name);

  // The record
  expect(ready.phase, `${ready.step}: ${ready.message}`).toBe('Ready');
  expect(ready.capiLocation).toBe('self');
  expect(ready.observedGeneration).toBe(ready.generation);
  const record = await h.runtime.stores.clusters.get(WS, name);
  if (!record) throw new Error('cluster record missing');
  const size = record.controlPlane.replicas + record.nodePools.reduce((n, p) => n + p.desired, 0);

  // The cloud: one instance per machine, never one launched twice, none leaked (after the leak grace).
  await sleep(sim.timing.leakGraceMs * 2);
  expect(cloudProblems(sim)).toEqual({ duplicated: 0, leaked: 0 });
  expect(liveInstancesOf(sim, WS, name)).toHaveLength(size);
  expect(instancesOf(sim, WS, name)).toHaveLength(size);

  // The CAPI objects: all in the cluster itself, each exactly once, nothing left paused.
  expect(await capiObjectsOf(h.runtime.management, WS, name)).toEqual([]);
  const workload = await connectAccess(h.runtime.management, record);
  const clusters = await workload.list(CORE, 'Cluster', { namespace: NS });
  expect(clusters.map((c) => c.metadata.name)).toEqual([name]);
  expect((clusters[0]?.spec as { paused?: boolean } | undefined)?.paused ?? false).toBe(false);
  expect(clusters[0]?.metadata.annotations?.[ANNOTATION_SLIPWAY_PAUSED]).toBeUndefined();
  expect(await workload.list('controlplane.cluster.x-k8s.io/v1beta2', 'KubeadmControlPlane', { namespace: NS })).toHaveLength(1);
  expect(await workload.list(CORE, 'MachineDeployment', { namespace: NS })).toHaveLength(record.nodePools.length);
  expect(await workload.list('infrastructure.cluster.x-k8s.io/v1beta2', 'SimCluster', { namespace: NS })).toHaveLength(1);
  expect(await workload.list(CORE, 'Machine', { namespace: NS })).toHaveLength(size);
  expect(await workload.list('v1', 'Node')).toHaveLength(size);
  for (const cc of await workload.list(CORE, 'ClusterClass', { namespace: 'default' })) {
    expect(cc.metadata.annotations?.[ANNOTATION_PAUSED], cc.metadata.name).toBeUndefined();
  }

  // History: the provisioning went through the pivot and ended Ready, its phases only ever moving forward —
  // the resumed execution started again at BeginProvisioning without taking the record back to Provisioning.
  const history = (await h.call('GET', `/v1/workspaces/${WS}/clusters/${name}/events`, { token })).body.items as Array<{ phase: string; step: string | null }>;
  const phases = history.map((r) => r.phase);
  expect(phases).toContain('Pivoting');
  expect(phases).not.toContain('Failed');
  expect(phases.at(-1)).toBe('Ready');
  const ranks = phases.map((p) => PROVISION_PHASES.indexOf(p));
  expect(ranks.every((r) => r >= 0)).toBe(true);
  expect(phases, 'the phase never moves back').toEqual([...phases].sort((a, b) => PROVISION_PHASES.indexOf(a) - PROVISION_PHASES.indexOf(b)));
  expect(history.filter((r) => r.step === 'begin-provisioning'), 'begin-provisioning recorded once').toHaveLength(1);
  // ...and the resumed runtime published no phase the cluster had already passed.
  await h.runtime.events.drain();
  const published = phaseEvents(h, name);
  expect(published).not.toContain('Provisioning');
  expect(published.at(-1)).toBe('Ready');
}

const PROVISION_PHASES = ['Requested', 'Provisioning', 'Pivoting', 'Scaling', 'InstallingAddons', 'Ready'];

/** The `Cluster Phase Changed` phases this runtime published for the cluster, in order. */
function phaseEvents(h: RuntimeHarness, name: string): string[] {
  return h.runtime.events
    .history({ source: 'slipway', detailType: DetailType.ClusterPhaseChanged })
    .map((r) => r.event.detail as { cluster: { name: string }; phase: string })
    .filter((d) => d.cluster.name === name)
    .map((d) => d.phase);
}

describe('the runtime killed mid-pivot and restarted', () => {
  it('killed while the objects are being created in the target: resumes and converges', async () => {
    // Act
    runtime = await killMidPivotAndRestart('creating in the target', 'rst-1');
    // Assess
    await expectConverged(runtime, 'rst-1');
  }, 180_000);

  it('killed once the management cluster has no Cluster left (only the unpause and the record remain): resumes and converges', async () => {
    // Act
    runtime = await killMidPivotAndRestart('source emptied', 'rst-2', runtime);
    // Assess
    await expectConverged(runtime, 'rst-2');
  }, 180_000);

  it('killed while a deletion moves the objects back: resumes and deletes everything', async () => {
    // Prepare
    if (!runtime) throw new Error('no runtime from the previous tests');
    const name = 'rst-1';
    const record = await runtime.runtime.stores.clusters.get(WS, name);
    if (!record) throw new Error('cluster record missing');
    const ref = { apiVersion: CORE, kind: 'Cluster', namespace: NS, name };

    // Act: kill once the Cluster is back in the management cluster (moved back, paused) but not yet live there
    runtime = await killAndRestart(
      {
        name,
        state: 'MoveBack',
        begin: async (h, token) => {
          const res = await h.call('DELETE', `/v1/workspaces/${WS}/clusters/${name}`, { token });
          expect(res.status, JSON.stringify(res.body)).toBe(202);
        },
        reached: async () => (await observer.get(ref).catch(() => null)) !== null,
      },
      runtime,
    );
    const h = runtime;
    expect(h.runtime.resumed.some((r) => r.startsWith(`${WS}/${name} (delete`)), JSON.stringify(h.runtime.resumed)).toBe(true);
    const token = await h.token(DEMO_DEVELOPER);
    const deleted = await waitSettled(h, token, WS, name);

    // Assess
    expect(deleted.phase, `${deleted.step}: ${deleted.message}`).toBe('Deleted');
    // The deletion was announced once, by the first runtime: the resumed begin-delete found it further along.
    await h.runtime.events.drain();
    expect(phaseEvents(h, name)).toEqual(['Deleted']);
    const history = (await h.call('GET', `/v1/workspaces/${WS}/clusters/${name}/events`, { token })).body.items as Array<{ generation: number; step: string | null }>;
    expect(history.filter((r) => r.generation === deleted.generation && r.step === 'begin-delete')).toHaveLength(1);
    await h.waitFor('instances terminated', async () => instancesOf(sim, WS, name), (all) => all.every((i) => i.state === 'terminated'), 15_000);
    expect(await capiObjectsOf(h.runtime.management, WS, name)).toEqual([]);
    expect(sim.server.getCluster(`${NS}--${name}`)).toBeUndefined();
    expect(await h.runtime.management.get({ apiVersion: 'v1', kind: 'Secret', namespace: ACCESS_NAMESPACE, name: accessSecretName(record) })).toBeNull();
    // The other cluster is untouched.
    const other = (await h.call('GET', `/v1/workspaces/${WS}/clusters/rst-2`, { token })).body;
    expect(other.phase).toBe('Ready');
    expect(liveInstancesOf(sim, WS, 'rst-2')).toHaveLength(other.controlPlane.replicas + other.nodePools[0].desired);
    await sleep(sim.timing.leakGraceMs * 2);
    expect(cloudProblems(sim)).toEqual({ duplicated: 0, leaked: 0 });
  }, 180_000);

  it('a pivot that failed part-way can still be deleted: the move is completed, then brought back', async () => {
    // Prepare: kill the runtime while rst-3's objects are being copied, and record the failure its pivot would
    // have ended in had its retries run out (what mark-failed writes), so nothing resumes it.
    if (!runtime) throw new Error('no runtime from the previous tests');
    const name = 'rst-3';
    const ref = { apiVersion: CORE, kind: 'Cluster', namespace: NS, name };
    runtime = await killAndRestart(
      {
        name,
        state: 'Pivot',
        begin: async (h, token) => {
          const res = await h.call('POST', `/v1/workspaces/${WS}/clusters`, { token, body: { ...DEMO_CLUSTER_REQUEST, name } });
          expect(res.status, JSON.stringify(res.body)).toBe(202);
        },
        reached: pivotReached('creating in the target', name),
        beforeStop: async (h) => {
          const c = await h.runtime.stores.clusters.get(WS, name);
          if (!c) throw new Error('cluster record missing');
          await h.runtime.stores.clusters.recordStatus(
            WS,
            name,
            c.generation,
            { phase: 'Failed', step: 'pivot', message: 'KubeTransientError: the workload cluster did not answer', operation: null },
            { principal: 'system:slipway' },
          );
        },
      },
      runtime,
    );
    const h = runtime;
    expect(h.runtime.resumed.some((r) => r.startsWith(`${WS}/${name} `))).toBe(false);
    const token = await h.token(DEMO_DEVELOPER);
    const source = await observer.get(ref);
    expect(source?.metadata.annotations?.[ANNOTATION_SLIPWAY_PAUSED], 'the move was interrupted with the Cluster still paused in the management cluster').toBeDefined();

    // Act
    const res = await h.call('DELETE', `/v1/workspaces/${WS}/clusters/${name}`, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const deleted = await waitSettled(h, token, WS, name);

    // Assess
    expect(deleted.phase, `${deleted.step}: ${deleted.message}`).toBe('Deleted');
    await h.waitFor('instances terminated', async () => instancesOf(sim, WS, name), (all) => all.every((i) => i.state === 'terminated'), 15_000);
    expect(await capiObjectsOf(h.runtime.management, WS, name)).toEqual([]);
    expect(sim.server.getCluster(`${NS}--${name}`)).toBeUndefined();
    await sleep(sim.timing.leakGraceMs * 2);
    expect(cloudProblems(sim)).toEqual({ duplicated: 0, leaked: 0 });
  }, 180_000);
});
