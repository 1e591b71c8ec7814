/**
 * Revoking cluster access when a membership changes. The membership routes write a revocation in the same
 * transaction; the processor (shared/clusters/revoke-access.ts, run by the sweep schedule) deletes the
 * ServiceAccounts that held access through that membership, and with them their tokens, in every cluster of
 * the workspace. The workload cluster is a virtual cluster of the simulator; what a kubeconfig still allows is
 * checked the way its user meets it: client-node with that kubeconfig.
 */
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { kubeconfigText } from '../../local/sim/apiserver/kubeconfig.ts';
import { type ApiServer, createApiServer, type VirtualCluster } from '../../local/sim/apiserver/server.ts';
import { saveAccess } from '../../shared/capi/access.ts';
import type { KubeClient } from '../../shared/capi/client.ts';
import { workspaceNamespace } from '../../shared/capi/render.ts';
import { LABEL_ACCESS_FOR, USER_ACCESS_NAMESPACE, userServiceAccountName } from '../../shared/capi/user-access.ts';
import { processRevocations, type RevocationRunResult } from '../../shared/clusters/revoke-access.ts';
import { listAll } from '../../shared/store/paging.ts';
import { type ApiHarness, startApiHarness } from '../helpers/api.ts';
import { readyWithKeptAccess, simClient, withoutId } from '../helpers/kept-access.ts';
import { clusterPlan, clusterRequest, people, seedConfig } from './fixtures.ts';

const WS = 'team-a';
const PATH = `/v1/workspaces/${WS}/clusters/${clusterRequest.name}/kubeconfig`;
const RBAC = 'rbac.authorization.k8s.io/v1';

type Who = { sub: string; groups?: readonly string[] };
/** Members for these tests, besides the fixtures' owner alice and `group:team-a-devs` (bob). */
const cast = {
  vera: { sub: 'vera', groups: ['team-a-viewers'] },
  dave: { sub: 'dave', groups: ['team-a-viewers'] },
  olga: { sub: 'olga', groups: ['team-a-viewers'] },
  uma: { sub: 'uma', groups: ['team-a-viewers'] },
  lee: { sub: 'lee', groups: ['team-a-leads'] },
};

let sim: ApiServer;
let workload: VirtualCluster;
let mgmt: KubeClient;
let wl: KubeClient;
let api: ApiHarness;

beforeAll(async () => {
  sim = await createApiServer();
  const management = sim.addCluster('management');
  workload = sim.addCluster('workload');
  mgmt = simClient(management, 2);
  wl = simClient(workload, 2);
  api = await startApiHarness({ management: async () => mgmt });
  await seedConfig(api);
  const admin = await api.token(people.admin);
  const rev2 = await api.call('POST', `/v1/cluster-plans/${clusterPlan.id}/revisions`, {
    token: admin,
    body: { ...withoutId(clusterPlan), access: [{ group: 'team-a-devs', role: 'edit' }, { group: 'team-a-viewers', role: 'view' }] },
  });
  expect(rev2.status, JSON.stringify(rev2.body)).toBe(201);
  for (const [principal, role] of [
    ['user:vera', 'member'],
    ['user:dave', 'member'],
    ['user:olga', 'owner'],
    ['user:uma', 'member'],
    ['group:team-a-leads', 'owner'],
  ]) {
    const res = await api.call('PUT', `/v1/workspaces/${WS}/members/${encodeURIComponent(principal ?? '')}`, { token: admin, body: { role } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  // A Ready cluster on revision 2 whose kept access is the workload cluster's admin kubeconfig.
  const created = await api.call('POST', `/v1/workspaces/${WS}/clusters`, { token: await api.token(people.member), body: { ...clusterRequest, plan: { id: clusterPlan.id, revision: 2 } } });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  await readyWithKeptAccess(api, mgmt, workload, WS, clusterRequest.name);
});

afterAll(async () => {
  await api?.close();
  await sim?.close();
});



const run = (): Promise<RevocationRunResult> =>
  processRevocations({ stores: api.stores, management: async () => mgmt, workloadClient: { retry: { read: { initialMs: 1, attempts: 2 }, write: { initialMs: 1, attempts: 2 } } } });

/** A client-node CoreV1Api on the kubeconfig `who` gets now (asserting a 200). */
async function kubeconfigOf(who: Who): Promise<CoreV1Api> {
  const res = await api.call('GET', PATH, { token: await api.token(who) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const kc = new KubeConfig();
  kc.loadFromString(String(res.body));
  return kc.makeApiClient(CoreV1Api);
}

async function code(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

const listPods = (core: CoreV1Api) => code(core.listPodForAllNamespaces());

async function serviceAccountOf(sub: string) {
  return wl.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: USER_ACCESS_NAMESPACE, name: userServiceAccountName(`user:${sub}`) });
}

async function bindingsOf(sub: string): Promise<string[]> {
  const items = await wl.list(RBAC, 'ClusterRoleBinding', { labelSelector: { [LABEL_ACCESS_FOR]: userServiceAccountName(`user:${sub}`) } });
  return items.map((b) => (b.roleRef as { name: string }).name).sort();
}

async function as(who: 'owner' | 'admin', method: string, principal: string, body?: unknown) {
  const res = await api.call(method, `/v1/workspaces/${WS}/members/${encodeURIComponent(principal)}`, {
    token: await api.token(who === 'owner' ? people.owner : people.admin),
    ...(body === undefined ? {} : { body }),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(method === 'DELETE' ? 204 : 200);
}

async function revokedAudit(principal: string) {
  const audit = await listAll((page) => api.stores.audit.listDay(new Date().toISOString().slice(0, 10), page));
  return audit.filter((a) => a.action === 'Cluster.kubeconfigRevoked' && a.detail?.principal === principal);
}

describe('a removed member', () => {
  it('loses the ServiceAccount, its bindings and every token once the processor ran; other members keep theirs', async () => {
    // Prepare
    const vera = await kubeconfigOf(cast.vera);
    const dave = await kubeconfigOf(cast.dave);
    expect(await listPods(vera)).toBe(200);
    expect(await bindingsOf('vera')).toEqual(['view']);
    // Act: the owner removes vera
    await as('owner', 'DELETE', 'user:vera');
    const pending = (await api.stores.revocations.listPending()).items;
    const stillWorks = await listPods(vera);
    const result = await run();
    // Assess
    expect(pending.map((r) => [r.principal, r.reason, r.actor])).toEqual([['user:vera', 'member-removed', 'user:alice']]);
    expect(stillWorks).toBe(200);
    expect(result.completed).toEqual([pending[0]?.id]);
    expect(result.revokedIn).toEqual([`${WS}/${clusterRequest.name}`]);
    expect(await listPods(vera)).toBe(401);
    expect(await serviceAccountOf('vera')).toBeNull();
    expect(await bindingsOf('vera')).toEqual([]);
    expect(await listPods(dave)).toBe(200);
    expect(await bindingsOf('dave')).toEqual(['view']);
    expect((await api.stores.revocations.listPending()).items).toEqual([]);
    const audit = await revokedAudit('user:vera');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'system:revocation', resource: `workspaces/${WS}/clusters/${clusterRequest.name}` });
    expect(audit[0]?.detail).toMatchObject({ reason: 'member-removed', requestedBy: 'user:alice', removedServiceAccounts: [userServiceAccountName('user:vera')] });
    expect(audit[0]?.detail?.removedBindings).toEqual([`slipway-${userServiceAccountName('user:vera')}-view`]);
    // No longer a member: no new kubeconfig either.
    expect((await api.call('GET', PATH, { token: await api.token(cast.vera) })).status).toBe(404);
  });

  it('a second run is a no-op', async () => {
    // Act
    const result = await run();
    // Assess
    expect(result).toEqual({ completed: [], pending: [], revokedIn: [], failedIn: [] });
    expect(await revokedAudit('user:vera')).toHaveLength(1);
  });
});

describe('a removed group', () => {
  it('revokes every ServiceAccount that got access through the group, and only those', async () => {
    // Prepare: bob is a member only through group:team-a-devs; dave is a member in his own right
    const bob = await kubeconfigOf(people.member);
    const dave = await kubeconfigOf(cast.dave);
    const sa = await serviceAccountOf('bob');
    expect(sa?.metadata.annotations?.['slipway.dev/granted-via']).toBe('group:team-a-devs');
    // Act
    await as('admin', 'DELETE', 'group:team-a-devs');
    const result = await run();
    // Assess
    expect(result.completed).toHaveLength(1);
    expect(await listPods(bob)).toBe(401);
    expect(await serviceAccountOf('bob')).toBeNull();
    expect(await bindingsOf('bob')).toEqual([]);
    expect(await listPods(dave)).toBe(200);
    expect((await revokedAudit('group:team-a-devs'))[0]?.detail?.removedServiceAccounts).toEqual([userServiceAccountName('user:bob')]);
  });
});

describe('a demoted owner', () => {
  it('loses cluster-admin; the next kubeconfig carries the member roles', async () => {
    // Prepare
    const before = await kubeconfigOf(cast.olga);
    expect(await bindingsOf('olga')).toEqual(['cluster-admin']);
    expect(await code(before.createNamespace({ body: { metadata: { name: 'olgas' } } }))).toBe(200);
    // Act
    await as('owner', 'PUT', 'user:olga', { role: 'member' });
    const pending = (await api.stores.revocations.listPending()).items;
    await run();
    // Assess
    expect(pending.map((r) => [r.principal, r.reason])).toEqual([['user:olga', 'owner-demoted']]);
    expect(await listPods(before)).toBe(401);
    expect(await bindingsOf('olga')).toEqual([]);
    const after = await kubeconfigOf(cast.olga);
    expect(await bindingsOf('olga')).toEqual(['view']);
    expect(await listPods(after)).toBe(200);
    expect(await code(after.createNamespace({ body: { metadata: { name: 'olgas-2' } } }))).toBe(403);
  });

  it('a demoted owner group takes away the cluster-admin it gave, not the access of members outside it', async () => {
    // Prepare: lee is owner only through group:team-a-leads
    const lee = await kubeconfigOf(cast.lee);
    const dave = await kubeconfigOf(cast.dave);
    expect(await bindingsOf('lee')).toEqual(['cluster-admin']);
    // Act
    await as('admin', 'PUT', 'group:team-a-leads', { role: 'member' });
    await run();
    // Assess
    expect(await listPods(lee)).toBe(401);
    expect(await serviceAccountOf('lee')).toBeNull();
    expect(await listPods(dave)).toBe(200);
  });
});

describe('an unreachable cluster', () => {
  it('keeps the revocation pending and completes it on the next run', async () => {
    // Prepare
    const uma = await kubeconfigOf(cast.uma);
    await as('owner', 'DELETE', 'user:uma');
    sim.setFaults('workload', { errorRate: 1 });
    let first: RevocationRunResult;
    try {
      // Act: first run while the workload cluster answers 503
      first = await run();
    } finally {
      sim.setFaults('workload', undefined);
    }
    const stillPending = (await api.stores.revocations.listPending()).items;
    const meanwhile = await listPods(uma);
    const second = await run();
    const third = await run();
    // Assess
    expect(first.failedIn).toEqual([`${WS}/${clusterRequest.name}`]);
    expect(first.pending).toHaveLength(1);
    expect(first.completed).toEqual([]);
    expect(stillPending.map((r) => r.principal)).toEqual(['user:uma']);
    expect(stillPending[0]?.doneClusters).toEqual([]);
    expect(meanwhile).toBe(200);
    expect(second.completed).toEqual(first.pending);
    expect(await listPods(uma)).toBe(401);
    expect(await serviceAccountOf('uma')).toBeNull();
    expect(third).toEqual({ completed: [], pending: [], revokedIn: [], failedIn: [] });
    expect(await revokedAudit('user:uma')).toHaveLength(1);
  });
});

describe('clusters the revocation does not reach', () => {
  /** A cluster record in `phase` whose kept access leads to the same workload cluster (so a visit would show). */
  async function clusterWithAccess(name: string) {
    const res = await api.call('POST', `/v1/workspaces/${WS}/clusters`, { token: await api.token(people.owner), body: { ...clusterRequest, name, nodePools: [{ name: 'workers', desired: 1 }] } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const record = await api.stores.clusters.recordStatus(WS, name, 1, { phase: 'Ready', operation: null, observedGeneration: 1 }, { principal: 'system:test' });
    await mgmt.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${name}-kubeconfig`, namespace: workspaceNamespace(WS) },
      data: { value: Buffer.from(kubeconfigText({ name: 'workload', server: workload.url, token: workload.token })).toString('base64') },
    });
    await saveAccess(mgmt, record);
    return record;
  }

  it('skips Deleted clusters and clusters created after the change', async () => {
    // Prepare
    const gone = await clusterWithAccess('dev-gone');
    await api.stores.clusters.markDeleted(WS, gone.name, gone.generation, { principal: 'system:test' });
    await as('owner', 'DELETE', 'user:dave');
    await new Promise((r) => setTimeout(r, 5));
    await clusterWithAccess('dev-late');
    // Act
    const result = await run();
    // Assess
    expect(result.revokedIn).toEqual([`${WS}/${clusterRequest.name}`]);
    expect(result.completed).toHaveLength(1);
    expect(await serviceAccountOf('dave')).toBeNull();
  });
});

describe('a removal while a kubeconfig is being made', () => {
  it('takes back the grant that the revoker could have missed, and answers 409', async () => {
    // Prepare: the removal commits between the route's membership read and its second look
    await as('owner', 'PUT', 'user:pat', { role: 'member' });
    const realGet = api.stores.workspaces.get.bind(api.stores.workspaces);
    let reads = 0;
    const spy = vi.spyOn(api.stores.workspaces, 'get').mockImplementation(async (id: string) => {
      reads += 1;
      if (reads === 2) await api.stores.workspaces.removeMember(WS, 'user:pat', { principal: 'user:alice' });
      return realGet(id);
    });
    let res: Awaited<ReturnType<typeof api.call>>;
    try {
      // Act
      res = await api.call('GET', PATH, { token: await api.token({ sub: 'pat', groups: ['team-a-viewers'] }) });
    } finally {
      spy.mockRestore();
    }
    // Assess: nothing is left for the revoker to find, and nothing was handed out
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.detail).toContain('ask again');
    expect(await serviceAccountOf('pat')).toBeNull();
    expect(await bindingsOf('pat')).toEqual([]);
    expect((await run()).completed).toHaveLength(1);
  });
});

describe('ServiceAccounts made before via labels existed', () => {
  it('are revoked by any group revocation in that cluster; labelled ones outside the group stay', async () => {
    // Prepare: a ServiceAccount and binding as the route made them before it recorded memberships
    const legacy = userServiceAccountName('user:old-timer');
    await wl.apply({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: legacy, namespace: USER_ACCESS_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'slipway', [LABEL_ACCESS_FOR]: legacy } },
    });
    await wl.apply({
      apiVersion: RBAC,
      kind: 'ClusterRoleBinding',
      metadata: { name: `slipway-${legacy}-view`, labels: { 'app.kubernetes.io/managed-by': 'slipway', [LABEL_ACCESS_FOR]: legacy } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'ServiceAccount', name: legacy, namespace: USER_ACCESS_NAMESPACE }],
    });
    const olga = await kubeconfigOf(cast.olga);
    await as('owner', 'PUT', 'group:old-timers', { role: 'member' });
    await as('owner', 'DELETE', 'group:old-timers');
    // Act
    await run();
    // Assess
    expect(await wl.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: USER_ACCESS_NAMESPACE, name: legacy })).toBeNull();
    expect(await wl.list(RBAC, 'ClusterRoleBinding', { labelSelector: { [LABEL_ACCESS_FOR]: legacy } })).toEqual([]);
    expect(await listPods(olga)).toBe(200);
  });
});
