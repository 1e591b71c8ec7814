/**
 * The mover against the simulator's API server alone (no controllers): a hand-built object graph is moved from
 * one virtual cluster to another, through client-node, and must arrive whole, with ownerReferences rebuilt
 * from the target's uids, leave nothing of the cluster behind, and converge when re-run after a crash at any
 * write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, createApiServer } from '../../local/sim/apiserver/server.ts';
import type { ClusterStore, KubeObject } from '../../local/sim/apiserver/store.ts';
import { ClusterClassNotFoundError, KubeTransientError, MoveBlockedError, MoveError, MovePreflightError } from '../../shared/capi/errors.ts';
import { ANNOTATION_BLOCK_MOVE, ANNOTATION_SLIPWAY_PAUSED, compareVersions, ensureClusterClass, move, moveBack } from '../../shared/capi/mover.ts';
import { buildCluster, CAPI, CrashError, clientFor, crashing, installClass, installProviders, namesOf, objectsIn, pair } from './fixtures.ts';

const NS = 'slipway-team-a';
let server: ApiServer;
let seq = 0;

beforeAll(async () => {
  server = await createApiServer();
});

afterAll(async () => {
  await server.close();
});

function setup(opts: { workers?: number } = {}) {
  const id = `${++seq}`;
  const { source, target } = pair(server, id);
  const dev1 = buildCluster(source.store, NS, 'dev-1', opts);
  const other = buildCluster(source.store, NS, 'other', { workers: 1 });
  return { id, source, target, dev1, other, from: clientFor(source), to: clientFor(target) };
}

const ofCluster = (name: string) => (o: KubeObject) =>
  o.metadata.name === name || o.metadata.name.startsWith(`${name}-`) || o.metadata.labels?.['cluster.x-k8s.io/cluster-name'] === name;

/** Every ownerReference in `store`'s namespace points at an existing object with that kind and name. */
function ownerRefsResolve(store: ClusterStore, namespace: string): string[] {
  const broken: string[] = [];
  for (const o of objectsIn(store, namespace)) {
    for (const ref of o.metadata.ownerReferences ?? []) {
      const owner = store.getByUid(ref.uid);
      if (owner === undefined || owner.kind !== ref.kind || owner.metadata.name !== ref.name) broken.push(`${o.kind}/${o.metadata.name} → ${ref.kind}/${ref.name}`);
    }
  }
  return broken;
}

function pausedOf(obj: KubeObject | undefined): unknown {
  return (obj?.spec as { paused?: boolean } | undefined)?.paused;
}

function clusterObj(store: ClusterStore, name: string): KubeObject | undefined {
  return store.get({ apiVersion: CAPI, kind: 'Cluster', name, namespace: NS });
}

/** The end state every successful move must reach. */
function expectMoved(env: ReturnType<typeof setup>): void {
  const { source, target, dev1, other } = env;
  expect(namesOf(objectsIn(target.store, NS))).toEqual(dev1.moved);
  expect(objectsIn(source.store, NS, ofCluster('dev-1'))).toEqual([]);
  expect(namesOf(objectsIn(source.store, NS))).toEqual(other.moved);
  expect(ownerRefsResolve(target.store, NS)).toEqual([]);
  const moved = clusterObj(target.store, 'dev-1');
  expect(pausedOf(moved)).toBeUndefined();
  expect(moved?.metadata.annotations?.[ANNOTATION_SLIPWAY_PAUSED]).toBeUndefined();
  const cc = target.store.get({ apiVersion: CAPI, kind: 'ClusterClass', name: 'sim-ferrol-1-31-v1', namespace: 'default' });
  expect(cc).toBeDefined();
  expect(cc?.metadata.annotations?.['cluster.x-k8s.io/paused']).toBeUndefined();
  // The shared class stays in the source for the other clusters.
  expect(source.store.get({ apiVersion: CAPI, kind: 'ClusterClass', name: 'sim-ferrol-1-31-v1', namespace: 'default' })).toBeDefined();
  expect(pausedOf(clusterObj(source.store, 'other'))).toBeUndefined();
}

describe('move', () => {
  it('moves one cluster with its whole graph, rebuilding ownerReferences from the target uids', async () => {
    // Prepare
    const env = setup();
    const sourceKcp = env.source.store.get({ apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2', kind: 'KubeadmControlPlane', name: 'dev-1-cp', namespace: NS });
    // Act
    const report = await move(env.from, env.to, { namespace: NS, clusterName: 'dev-1' });
    // Assess
    expectMoved(env);
    expect(report.moved).toMatchObject({ Cluster: 1, Machine: 3, SimMachine: 3, KubeadmConfig: 3, MachineSet: 1, MachineDeployment: 1, KubeadmControlPlane: 1 });
    expect(report.created).toBe(env.dev1.moved.length);
    expect(report.sharedCreated).toBe(6);
    expect(report.resumed).toBe(false);
    const kcp = env.target.store.get({ apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2', kind: 'KubeadmControlPlane', name: 'dev-1-cp', namespace: NS });
    const cluster = clusterObj(env.target.store, 'dev-1');
    expect(kcp?.metadata.uid).not.toBe(sourceKcp?.metadata.uid);
    expect(kcp?.metadata.ownerReferences).toEqual([{ apiVersion: CAPI, kind: 'Cluster', name: 'dev-1', uid: cluster?.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    const kubeconfig = env.target.store.get({ apiVersion: 'v1', kind: 'Secret', name: 'dev-1-kubeconfig', namespace: NS });
    expect(kubeconfig?.metadata.ownerReferences?.[0]?.uid).toBe(kcp?.metadata.uid);
    expect(kubeconfig?.data).toEqual({ value: Buffer.from('kubeconfig of dev-1').toString('base64') });
    // Status is not copied: the target's controllers rebuild it.
    expect(cluster?.status).toBeUndefined();
    const template = env.target.store.get({ apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'SimMachineTemplate', name: 'sim-ferrol-1-31-v1-control-plane', namespace: 'default' });
    const cc = env.target.store.get({ apiVersion: CAPI, kind: 'ClusterClass', name: 'sim-ferrol-1-31-v1', namespace: 'default' });
    expect(template?.metadata.ownerReferences?.[0]?.uid).toBe(cc?.metadata.uid);
  });

  it('dry run: lists what would move in owner order and writes nothing', async () => {
    // Prepare
    const env = setup();
    const before = server.counters(env.source.name).requests.byVerb;
    // Act
    const report = await move(env.from, env.to, { namespace: NS, clusterName: 'dev-1', dryRun: true });
    // Assess
    const after = server.counters(env.source.name).requests.byVerb;
    for (const verb of ['create', 'update', 'patch', 'delete']) expect(after[verb] ?? 0).toBe(before[verb] ?? 0);
    expect(server.counters(env.target.name).requests.byVerb).not.toHaveProperty('create');
    const plan = report.plan ?? [];
    expect(plan.filter((p) => p.role === 'moved').map((p) => `${p.kind}/${p.name}`).sort()).toEqual(env.dev1.moved);
    expect(plan.filter((p) => p.role === 'shared')).toHaveLength(6);
    const at = (kind: string, name: string) => plan.findIndex((p) => p.kind === kind && p.name === name);
    expect(at('ClusterClass', 'sim-ferrol-1-31-v1')).toBeLessThan(at('Cluster', 'dev-1'));
    expect(at('Cluster', 'dev-1')).toBeLessThan(at('KubeadmControlPlane', 'dev-1-cp'));
    expect(at('KubeadmControlPlane', 'dev-1-cp')).toBeLessThan(at('Machine', 'dev-1-cp-q7w8e'));
    expect(at('Machine', 'dev-1-cp-q7w8e')).toBeLessThan(at('KubeadmConfig', 'dev-1-cp-q7w8e'));
    expect(at('KubeadmConfig', 'dev-1-cp-q7w8e')).toBeLessThan(at('Secret', 'dev-1-cp-q7w8e'));
    expect(report.moved.Machine).toBe(3);
    expect(objectsIn(env.target.store, NS)).toEqual([]);
  });

  it('is a no-op when run again after it finished', async () => {
    // Prepare
    const env = setup();
    await move(env.from, env.to, { namespace: NS, clusterName: 'dev-1' });
    const before = namesOf(objectsIn(env.target.store, NS));
    // Act
    const report = await move(env.from, env.to, { namespace: NS, clusterName: 'dev-1' });
    // Assess
    expect(report.alreadyMoved).toBe(true);
    expect(report.created).toBe(0);
    expect(namesOf(objectsIn(env.target.store, NS))).toEqual(before);
    expectMoved(env);
  });

  it('moves back the same way (workload → management)', async () => {
    // Prepare
    const env = setup();
    await move(env.from, env.to, { namespace: NS, clusterName: 'dev-1' });
    // What the workload cluster's controllers would have rebuilt (status is not moved).
    const cluster = { apiVersion: CAPI, kind: 'Cluster', name: 'dev-1', namespace: NS };
    env.target.store.mergePatch(cluster, { status: { initialization: { infrastructureProvisioned: true, controlPlaneInitialized: true } } }, { subresource: 'status' });
    for (const m of env.target.store.list({ apiVersion: CAPI, kind: 'Machine', namespace: NS })) {
      env.target.store.mergePatch(m, { status: { nodeRef: { name: `node-${m.metadata.name}` } } }, { subresource: 'status' });
    }
    // Act
    const report = await moveBack(env.to, env.from, { namespace: NS, clusterName: 'dev-1' });
    // Assess
    expect(report.created).toBe(env.dev1.moved.length);
    expect(report.sharedCreated).toBe(0);
    expect(namesOf(objectsIn(env.source.store, NS))).toEqual([...env.dev1.moved, ...env.other.moved].sort());
    expect(objectsIn(env.target.store, NS)).toEqual([]);
    expect(ownerRefsResolve(env.source.store, NS)).toEqual([]);
    expect(pausedOf(clusterObj(env.source.store, 'dev-1'))).toBeUndefined();
  });

  it('fails with MoveError when the Cluster is on neither side', async () => {
    const env = setup();
    await expect(move(env.from, env.to, { namespace: NS, clusterName: 'ghost' })).rejects.toThrow(MoveError);
  });

  it('ensureClusterClass copies a class and its templates once, templates first, without source uids', async () => {
    // Prepare
    const env = setup();
    installClass(env.source.store, 'sim-ferrol-1-31-v2');
    // Act
    const created = await ensureClusterClass(env.from, env.to, { name: 'sim-ferrol-1-31-v2', namespace: 'default' });
    const again = await ensureClusterClass(env.from, env.to, { name: 'sim-ferrol-1-31-v2', namespace: 'default' });
    // Assess
    expect(created).toBe(6);
    expect(again).toBe(0);
    const cc = env.target.store.get({ apiVersion: CAPI, kind: 'ClusterClass', name: 'sim-ferrol-1-31-v2', namespace: 'default' });
    expect(cc?.spec).toEqual(env.source.store.get({ apiVersion: CAPI, kind: 'ClusterClass', name: 'sim-ferrol-1-31-v2', namespace: 'default' })?.spec);
    const template = env.target.store.get({ apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'SimMachineTemplate', name: 'sim-ferrol-1-31-v2-default-worker', namespace: 'default' });
    expect(template).toBeDefined();
    expect(template?.metadata.ownerReferences).toBeUndefined();
    await expect(ensureClusterClass(env.from, env.to, { name: 'nope', namespace: 'default' })).rejects.toThrow(ClusterClassNotFoundError);
  });

  it('orders provider versions semantically', () => {
    expect(compareVersions('v1.14.0', 'v1.9.9')).toBeGreaterThan(0);
    expect(compareVersions('v1.14.0', 'v1.14.0')).toBe(0);
    expect(compareVersions('v1.14.0-rc.1', 'v1.14.0')).toBeLessThan(0);
    expect(compareVersions('v2.11.0', 'v2.11.1')).toBeLessThan(0);
  });

  describe('preflight', () => {
    it('refuses when a provider of the source is missing in the target, and changes nothing', async () => {
      // Prepare
      const id = `${++seq}`;
      const source = server.addCluster(`src-${id}`);
      const target = server.addCluster(`dst-${id}`);
      installProviders(source.store);
      installProviders(target.store, { skip: 'infrastructure-sim' });
      installClass(source.store);
      const { moved } = buildCluster(source.store, NS, 'dev-1');
      // Act
      const act = move(clientFor(source), clientFor(target), { namespace: NS, clusterName: 'dev-1' });
      // Assess
      await expect(act).rejects.toThrow(MovePreflightError);
      await expect(act).rejects.toThrow('InfrastructureProvider/sim is not installed');
      expect(namesOf(objectsIn(source.store, NS))).toEqual(moved);
      expect(pausedOf(clusterObj(source.store, 'dev-1'))).toBeUndefined();
    });

    it('refuses target providers older than the source or not Available', async () => {
      // Prepare
      const id = `${++seq}`;
      const source = server.addCluster(`src-${id}`);
      const target = server.addCluster(`dst-${id}`);
      installProviders(source.store, { version: 'v1.14.2' });
      installProviders(target.store, { version: 'v1.14.0', available: false });
      installClass(source.store);
      buildCluster(source.store, NS, 'dev-1');
      // Act
      const act = move(clientFor(source), clientFor(target), { namespace: NS, clusterName: 'dev-1' });
      // Assess
      await expect(act).rejects.toThrow('is v1.14.0 on dst-');
    });

    it('refuses a machine without a node and a cluster paused by someone else', async () => {
      // Prepare
      const env = setup();
      const machine = { apiVersion: CAPI, kind: 'Machine', name: 'dev-1-cp-q7w8e', namespace: NS };
      env.source.store.mergePatch(machine, { status: { nodeRef: null } }, { subresource: 'status' });
      env.source.store.mergePatch({ apiVersion: CAPI, kind: 'Cluster', name: 'dev-1', namespace: NS }, { spec: { paused: true } });
      // Act
      const act = move(env.from, env.to, { namespace: NS, clusterName: 'dev-1' });
      // Assess
      await expect(act).rejects.toThrow(MovePreflightError);
      await expect(act).rejects.toThrow(/Machine dev-1-cp-q7w8e has no node yet.*paused by someone else|paused by someone else.*Machine dev-1-cp-q7w8e has no node yet/);
      // The booting machine is named apart (what delete-cluster waits for); the pause is another problem.
      await expect(act).rejects.toMatchObject({ machinesWithoutNode: ['dev-1-cp-q7w8e'], problems: expect.arrayContaining([expect.stringContaining('paused by someone else')]) });
      expect(objectsIn(env.target.store, NS)).toEqual([]);
    });
  });

  it('waits for block-move to go, and gives up with MoveBlockedError', async () => {
    // Prepare
    const env = setup();
    const ref = { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'SimMachine', name: 'dev-1-cp-q7w8e', namespace: NS };
    env.source.store.mergePatch(ref, { metadata: { annotations: { [ANNOTATION_BLOCK_MOVE]: '' } } });
    let clock = 0;
    const sleep = async (ms: number) => {
      clock += ms;
    };
    // Act
    const blocked = move(env.from, env.to, { namespace: NS, clusterName: 'dev-1', blockMoveTimeoutMs: 5000, pollMs: 1000, sleep, now: () => clock });
    // Assess
    await expect(blocked).rejects.toThrow(MoveBlockedError);
    expect(objectsIn(env.target.store, NS)).toEqual([]);

    // Act: the provider lets go during the wait
    let polls = 0;
    const release = async (ms: number) => {
      clock += ms;
      if (++polls === 2) env.source.store.mergePatch(ref, { metadata: { annotations: { [ANNOTATION_BLOCK_MOVE]: null } } });
    };
    const report = await move(env.from, env.to, { namespace: NS, clusterName: 'dev-1', blockMoveTimeoutMs: 5000, pollMs: 1000, sleep: release, now: () => clock });
    // Assess
    expect(report.resumed).toBe(true);
    expectMoved(env);
  });
});

// ── crash and resume ───────────────────────────────────────────────────────────────────────────────────────

describe('move after a crash', () => {
  it('counts the writes of a clean move (the crash points below cover all of them)', async () => {
    const env = setup({ workers: 1 });
    const budget = { left: 1_000_000, after: false };
    await move(crashing(env.from, budget), crashing(env.to, budget), { namespace: NS, clusterName: 'dev-1' });
    expect(1_000_000 - budget.left).toBeGreaterThan(40);
    expectMoved(env);
  });

  // A clean move of this graph makes ~90 writes; each crash point costs two moves, so the points are split
  // between the two crash modes (odd: before the write, even: after it) and into chunks that fit a test timeout.
  const WRITES_UPPER_BOUND = 120;
  const CHUNK = 20;
  for (let start = 1; start <= WRITES_UPPER_BOUND; start += CHUNK) {
    it(`converges when re-run after a crash at writes ${start}-${start + CHUNK - 1}`, async () => {
      // Prepare: how many writes a clean move takes
      const probe = setup({ workers: 1 });
      const counter = { left: 1_000_000, after: false };
      await move(crashing(probe.from, counter), crashing(probe.to, counter), { namespace: NS, clusterName: 'dev-1' });
      const writes = 1_000_000 - counter.left;
      expect(writes).toBeLessThanOrEqual(WRITES_UPPER_BOUND);

      for (let n = start; n < start + CHUNK && n <= writes; n++) {
        const env = setup({ workers: 1 });
        const after = n % 2 === 0;
        // `before`: writes 1..n-1 land, write n never reaches the server; `after`: write n lands, its answer is lost.
        const budget = { left: after ? n : n - 1, after };
        // Act: crash at write n, then run again (the state machine's Retry)
        await expect(move(crashing(env.from, budget), crashing(env.to, budget), { namespace: NS, clusterName: 'dev-1' })).rejects.toThrow(CrashError);
        const report = await move(env.from, env.to, { namespace: NS, clusterName: 'dev-1' });
        // Assess
        expectMoved(env);
        expect(report.resumed || report.alreadyMoved || n === 1).toBe(true);
        server.removeCluster(env.source.name);
        server.removeCluster(env.target.name);
      }
    });
  }

  it('completes in one run through 20 % API errors on both sides (in-place retries)', async () => {
    // Prepare
    const env = setup();
    const from = clientFor(env.source, { attempts: 6 });
    const to = clientFor(env.target, { attempts: 6 });
    server.setFaults(env.source.name, { errorRate: 0.2, seed: 7 });
    server.setFaults(env.target.name, { errorRate: 0.2, seed: 8 });
    // Act
    const report = await move(from, to, { namespace: NS, clusterName: 'dev-1' });
    // Assess
    server.setFaults(env.source.name, undefined);
    server.setFaults(env.target.name, undefined);
    expect(server.counters(env.source.name).faults.injectedErrors + server.counters(env.target.name).faults.injectedErrors).toBeGreaterThan(10);
    expect(report.created).toBe(env.dev1.moved.length);
    expectMoved(env);
  });

  it('converges after the API server drops connections mid-move', async () => {
    // Prepare
    const env = setup();
    const from = clientFor(env.source, { attempts: 1 });
    const to = clientFor(env.target, { attempts: 1 });
    server.setFaults(env.target.name, { dropAfterRequests: 25, verbs: ['create', 'update', 'patch', 'delete'] });
    // Act
    const first = move(from, to, { namespace: NS, clusterName: 'dev-1' });
    // Assess
    await expect(first).rejects.toThrow(KubeTransientError);
    expect(server.counters(env.target.name).faults.droppedConnections).toBeGreaterThan(0);
    server.setFaults(env.target.name, undefined);
    const report = await move(from, to, { namespace: NS, clusterName: 'dev-1' });
    expect(report.resumed).toBe(true);
    expectMoved(env);
  });
});
