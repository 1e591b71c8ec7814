/**
 * update-cluster end to end on one Ready cluster: scale a pool up and down, a Kubernetes patch upgrade, a plan
 * revision (class + version in one edit) — each through PATCH, the real update-cluster ASL on the local runner
 * and the simulator — and the changes CAPI's rules or the API refuse before any workflow starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADMIN, DEMO_CLUSTER_REQUEST, DEMO_DEVELOPER, DEMO_WORKSPACE } from '../../local/seed.ts';
import { connectAccess } from '../../shared/capi/access.ts';
import type { KubeClient } from '../../shared/capi/client.ts';
import { workspaceNamespace } from '../../shared/capi/render.ts';
import type { KubeObject } from '../../shared/capi/types.ts';
import { DetailType } from '../../shared/events/constants.ts';
import { type ClusterJson, capiObjectsOf, cloudProblems, clusterPath, getCluster, liveInstancesOf, provisionReady, waitSettled } from '../helpers/clusters.ts';
import type { CallResult } from '../helpers/api.ts';
import { type RuntimeHarness, startRuntimeHarness } from '../helpers/runtime.ts';

const WS = DEMO_WORKSPACE;
const NAME = 'upd-1';
const PATH = clusterPath(WS, NAME);
const NS = workspaceNamespace(WS);
const CORE = 'cluster.x-k8s.io/v1beta2';

let h: RuntimeHarness;
let dev: string;
let admin: string;
let workload: KubeClient;

beforeAll(async () => {
  h = await startRuntimeHarness();
  dev = await h.token(DEMO_DEVELOPER);
  admin = await h.token(DEMO_ADMIN);
  await provisionReady(h, dev, WS, { ...DEMO_CLUSTER_REQUEST, name: NAME });
  const record = await h.runtime.stores.clusters.get(WS, NAME);
  if (!record) throw new Error('cluster record missing');
  workload = await connectAccess(h.runtime.management, record);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

const sim = () => {
  const s = h.runtime.simulator;
  if (!s) throw new Error('the runtime has no simulator');
  return s;
};

async function patch(body: unknown): Promise<CallResult> {
  return h.call('PATCH', PATH, { token: dev, body });
}

/** PATCH (expects 202) and wait until the update is over; returns the settled cluster. */
async function update(body: unknown): Promise<ClusterJson> {
  const res = await patch(body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body.phase).toBe('Updating');
  expect(res.body.operation).toBe('update');
  const done = await waitSettled(h, dev, WS, NAME);
  expect(done.phase, `${done.step}: ${done.message}`).toBe('Ready');
  expect(done.generation).toBe(res.body.generation);
  expect(done.observedGeneration).toBe(done.generation);
  expect(done.operation).toBeNull();
  // The bus heard the update begin and end, at this generation.
  await h.runtime.events.drain();
  const published = h.runtime.events
    .history({ source: 'slipway' })
    .map((r) => ({ type: r.event['detail-type'], detail: r.event.detail as { cluster: { name: string }; generation: number; phase: string } }))
    .filter((e) => e.detail.cluster.name === NAME && e.detail.generation === done.generation);
  expect(published.filter((e) => e.type === DetailType.ClusterPhaseChanged).map((e) => e.detail.phase)).toEqual(['Updating', 'Ready']);
  expect(published.filter((e) => e.type === DetailType.ClusterReady)).toHaveLength(1);
  return done;
}

async function machines(): Promise<KubeObject[]> {
  const all = await workload.list(CORE, 'Machine', { namespace: NS, labelSelector: { 'cluster.x-k8s.io/cluster-name': NAME } });
  return all.filter((m) => m.metadata.deletionTimestamp === undefined);
}

/** `spec.topology` of the CAPI Cluster where it lives now (the cluster itself). */
async function topology(): Promise<{ classRef?: { name?: string }; version?: string }> {
  const capi = await workload.get({ apiVersion: CORE, kind: 'Cluster', namespace: NS, name: NAME });
  if (capi === null) throw new Error('the CAPI Cluster is not in the workload cluster');
  return (capi.spec as { topology?: { classRef?: { name?: string }; version?: string } } | undefined)?.topology ?? {};
}

const isControlPlane = (m: KubeObject) => m.metadata.labels?.['cluster.x-k8s.io/control-plane'] !== undefined;
const versionOf = (m: KubeObject) => (m.spec as { version?: string } | undefined)?.version;

/** The cluster as built: machines and nodes match the record, nothing left in the management namespace. */
async function expectShape(c: ClusterJson): Promise<void> {
  const workers = c.nodePools.reduce((n: number, p: { desired: number }) => n + p.desired, 0);
  const ms = await machines();
  expect(ms.filter(isControlPlane)).toHaveLength(c.controlPlane.replicas);
  expect(ms.filter((m) => !isControlPlane(m))).toHaveLength(workers);
  // Nodes and instances follow the machines (a removed machine's node and instance go as it is deleted).
  const size = c.controlPlane.replicas + workers;
  const nodes = await h.waitFor('nodes follow the machines', () => workload.list('v1', 'Node'), (n) => n.length === size, 10_000);
  expect(nodes).toHaveLength(size);
  expect(liveInstancesOf(sim(), WS, NAME)).toHaveLength(size);
  expect(await capiObjectsOf(h.runtime.management, WS, NAME)).toEqual([]);
  expect(cloudProblems(sim())).toEqual({ duplicated: 0, leaked: 0 });
}

describe('update-cluster', () => {
  it('scales a pool up and down: machines, nodes, cost and workspace usage follow', async () => {
    // Prepare
    const before = await getCluster(h, dev, WS, NAME);
    const pool = before.nodePools[0];
    expect(pool.desired).toBe(2);
    const usageBefore = await h.runtime.stores.clusters.usage(WS);

    // Act: up
    const up = await update({ generation: before.generation, nodePools: [{ name: pool.name, desired: 3 }] });

    // Assess
    expect(up.nodePools[0].desired).toBe(3);
    expect(up.costEstimate.monthlyUsd).toBeGreaterThan(before.costEstimate.monthlyUsd);
    await expectShape(up);
    const usageUp = await h.runtime.stores.clusters.usage(WS);
    expect(usageUp.clusters).toBe(usageBefore.clusters);
    expect(usageUp.monthlyUsd).toBeCloseTo(usageBefore.monthlyUsd + (up.costEstimate.monthlyUsd - before.costEstimate.monthlyUsd), 2);

    // Act: down, below the template's default
    const down = await update({ generation: up.generation, nodePools: [{ name: pool.name, desired: 1 }] });

    // Assess
    expect(down.nodePools[0].desired).toBe(1);
    expect(down.costEstimate.monthlyUsd).toBeLessThan(before.costEstimate.monthlyUsd);
    await expectShape(down);
    const usageDown = await h.runtime.stores.clusters.usage(WS);
    expect(usageDown.monthlyUsd).toBeCloseTo(usageBefore.monthlyUsd + (down.costEstimate.monthlyUsd - before.costEstimate.monthlyUsd), 2);
    const history = (await h.call('GET', `${PATH}/events`, { token: dev })).body.items.map((r: { phase: string }) => r.phase);
    expect(history.filter((p: string) => p === 'Updating').length).toBeGreaterThanOrEqual(2);
    expect(history.at(-1)).toBe('Ready');
  });

  it('refuses invalid changes with 4xx before any workflow starts', async () => {
    // Prepare
    const c = await getCluster(h, dev, WS, NAME);
    const executions = h.runtime.workflows.list().length;
    const cases: Array<{ what: string; body: unknown; status: number }> = [
      { what: 'downgrade', body: { kubernetesVersion: 'v1.31.3' }, status: 422 },
      { what: 'two minors at once', body: { kubernetesVersion: 'v1.33.0' }, status: 422 },
      { what: 'a minor the ClusterClass does not serve', body: { kubernetesVersion: 'v1.32.1' }, status: 422 },
      { what: 'a plan revision that does not exist', body: { plan: { revision: 9 } }, status: 422 },
      { what: 'a pool beyond its max', body: { nodePools: [{ name: c.nodePools[0].name, desired: c.nodePools[0].max + 1 }] }, status: 422 },
      { what: 'a pool that does not exist', body: { nodePools: [{ name: 'gpu', desired: 1 }] }, status: 422 },
      { what: 'a stale generation', body: { generation: c.generation - 1, nodePools: [{ name: c.nodePools[0].name, desired: 2 }] }, status: 409 },
      { what: 'two kinds of change at once', body: { kubernetesVersion: 'v1.31.5', nodePools: [{ name: c.nodePools[0].name, desired: 2 }] }, status: 400 },
    ];

    for (const { what, body, status } of cases) {
      // Act
      const res = await patch(body);
      // Assess
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(status);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(h.runtime.workflows.list()).toHaveLength(executions);
    const after = await getCluster(h, dev, WS, NAME);
    expect(after.generation).toBe(c.generation);
    expect(after.phase).toBe('Ready');
    expect(after.nodePools).toEqual(c.nodePools);

    // Act: a second change while the first is in flight
    const first = await patch({ generation: c.generation, nodePools: [{ name: c.nodePools[0].name, desired: 2 }] });
    const second = await patch({ nodePools: [{ name: c.nodePools[0].name, desired: 3 }] });
    const deleting = await h.call('DELETE', PATH, { token: dev });

    // Assess: only the first started a workflow
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(second.status, JSON.stringify(second.body)).toBe(409);
    expect(deleting.status, JSON.stringify(deleting.body)).toBe(409);
    expect(h.runtime.workflows.list()).toHaveLength(executions + 1);
    const settled = await waitSettled(h, dev, WS, NAME);
    expect(settled.phase, `${settled.step}: ${settled.message}`).toBe('Ready');
    expect(settled.nodePools[0].desired).toBe(2);
    await expectShape(settled);
  });

  it('upgrades Kubernetes to the next patch: every machine ends on the new version', async () => {
    // Prepare
    const before = await getCluster(h, dev, WS, NAME);
    expect(before.kubernetesVersion).toBe('v1.31.4');

    // Act
    const done = await update({ kubernetesVersion: 'v1.31.5' });

    // Assess
    expect(done.kubernetesVersion).toBe('v1.31.5');
    const ms = await machines();
    expect(ms.map(versionOf)).toEqual(ms.map(() => 'v1.31.5'));
    expect((await topology()).version).toBe('v1.31.5');
    const nodes = await workload.list('v1', 'Node');
    expect(nodes.map((n) => (n.status as { nodeInfo?: { kubeletVersion?: string } }).nodeInfo?.kubeletVersion)).toEqual(nodes.map(() => 'v1.31.5'));
    await expectShape(done);
  });

  it('moves to a new plan revision: class and version in one edit', async () => {
    // Prepare: revision 2 of the plan, on the next release of the stack
    const current = (await h.call('GET', '/v1/cluster-plans/standard/revisions/1', { token: admin })).body;
    const res = await h.call('POST', '/v1/cluster-plans/standard/revisions', {
      token: admin,
      body: {
        description: 'Ferrol 1.31 v2: newer image and machine shape',
        clusterClass: 'sim-ferrol-1-31-v2',
        kubernetesVersion: 'v1.31.6',
        networkPlanId: current.networkPlanId,
        controlPlane: current.controlPlane,
        packages: current.packages,
        podSecurity: current.podSecurity,
        defaultDenyNetwork: current.defaultDenyNetwork,
        access: current.access,
        maxLifetimeHours: current.maxLifetimeHours,
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.revision).toBe(2);
    const before = await getCluster(h, dev, WS, NAME);

    // Act
    const done = await update({ generation: before.generation, plan: { revision: 2 } });

    // Assess
    expect(done.plan).toEqual({ id: 'standard', revision: 2 });
    expect(done.clusterClass).toBe('sim-ferrol-1-31-v2');
    expect(done.kubernetesVersion).toBe('v1.31.6');
    const t = await topology();
    expect(t.classRef?.name).toBe('sim-ferrol-1-31-v2');
    expect(t.version).toBe('v1.31.6');
    const ms = await machines();
    expect(ms.map(versionOf)).toEqual(ms.map(() => 'v1.31.6'));
    // Every machine was rebuilt from the new class's templates.
    const infra = await workload.list('infrastructure.cluster.x-k8s.io/v1beta2', 'SimMachine', { namespace: NS, labelSelector: { 'cluster.x-k8s.io/cluster-name': NAME } });
    const live = infra.filter((m) => m.metadata.deletionTimestamp === undefined);
    expect(live).toHaveLength(ms.length);
    for (const m of live) expect((m.spec as { image?: string }).image, m.metadata.name).toBe('sim-ferrol-1-31-v2');
    await expectShape(done);
    const releases = await workload.list('addons.cluster.x-k8s.io/v1alpha1', 'HelmReleaseProxy', { namespace: NS });
    expect(releases.length).toBeGreaterThan(0);
  });

  it('moves to the next minor through a plan revision that names the next class', async () => {
    // Prepare: revision 3, Kubernetes 1.32 on its own ClusterClass
    const current = (await h.call('GET', '/v1/cluster-plans/standard/revisions/2', { token: admin })).body;
    const res = await h.call('POST', '/v1/cluster-plans/standard/revisions', {
      token: admin,
      body: {
        clusterClass: 'sim-ferrol-1-32-v1',
        kubernetesVersion: 'v1.32.1',
        networkPlanId: current.networkPlanId,
        controlPlane: current.controlPlane,
        packages: current.packages,
        podSecurity: current.podSecurity,
        defaultDenyNetwork: current.defaultDenyNetwork,
        access: current.access,
        maxLifetimeHours: current.maxLifetimeHours,
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.revision).toBe(3);

    // Act
    const done = await update({ plan: { revision: 3 } });

    // Assess
    expect(done).toMatchObject({ plan: { id: 'standard', revision: 3 }, clusterClass: 'sim-ferrol-1-32-v1', kubernetesVersion: 'v1.32.1' });
    const t = await topology();
    expect(t.classRef?.name).toBe('sim-ferrol-1-32-v1');
    expect(t.version).toBe('v1.32.1');
    const ms = await machines();
    expect(ms.map(versionOf)).toEqual(ms.map(() => 'v1.32.1'));
    await expectShape(done);
  });
});
