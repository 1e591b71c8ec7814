/**
 * GET …/kubeconfig: per-user, short-lived, least-privilege kubeconfigs. The route runs behind the local API
 * Gateway adapter; the management cluster (with the kept admin access) and the workload cluster are virtual
 * clusters of the simulator's API server, whose ServiceAccount-token clock the suite moves. What a kubeconfig
 * allows is checked the way a user meets it: client-node with that kubeconfig against the workload cluster.
 */
import { ApiException, CoreV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ApiServer, createApiServer, type VirtualCluster } from '../../local/sim/apiserver/server.ts';
import type { KubeClient } from '../../shared/capi/client.ts';
import { LABEL_ACCESS_FOR, USER_ACCESS_NAMESPACE, userServiceAccountName, viaLabel } from '../../shared/capi/user-access.ts';
import { type ApiHarness, startApiHarness } from '../helpers/api.ts';
import { readyWithKeptAccess, simClient, withoutId } from '../helpers/kept-access.ts';
import { clusterPlan, clusterRequest, people, seedConfig } from './fixtures.ts';

const WS = 'team-a';
const PATH = `/v1/workspaces/${WS}/clusters/${clusterRequest.name}/kubeconfig`;
const RBAC = 'rbac.authorization.k8s.io/v1';

/** Members of team-a besides the fixtures' owner (alice) and `group:team-a-devs` (bob). */
const cast = {
  viewer: { sub: 'vera', groups: ['team-a-viewers'], email: 'vera@example.com' },
  admin: people.admin,
  ungrouped: { sub: 'nina', groups: [] as string[] },
  stranger: people.other,
};

let sim: ApiServer;
let simOffsetMs = 0;
let workload: VirtualCluster;
/** Slipway's admin view of the workload cluster (for assertions). */
let wl: KubeClient;
let api: ApiHarness;
let token: (who: { sub: string; groups?: readonly string[]; email?: string }) => Promise<string>;

beforeAll(async () => {
  sim = await createApiServer({ now: () => new Date(Date.now() + simOffsetMs) });
  const management = sim.addCluster('management');
  workload = sim.addCluster('workload');
  const mgmt = simClient(management);
  wl = simClient(workload);
  api = await startApiHarness({ management: async () => mgmt });
  token = (who) => api.token(who);
  await seedConfig(api);

  const admin = await token(people.admin);
  // Revision 2: viewers get `view`, team-a-devs drop to `view` too (used when the cluster moves to it).
  const rev2 = await api.call('POST', `/v1/cluster-plans/${clusterPlan.id}/revisions`, {
    token: admin,
    body: { ...withoutId(clusterPlan), access: [{ group: 'team-a-viewers', role: 'view' }, { group: 'team-a-devs', role: 'view' }] },
  });
  expect(rev2.status, JSON.stringify(rev2.body)).toBe(201);
  for (const principal of ['group:team-a-viewers', 'user:vera', 'user:nina', 'user:root']) {
    const res = await api.call('PUT', `/v1/workspaces/${WS}/members/${encodeURIComponent(principal)}`, { token: admin, body: { role: 'member' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  // Revision 3, the cluster's: team-a-devs `edit`, team-a-viewers `view`; nina is in neither group.
  const rev3 = await api.call('POST', `/v1/cluster-plans/${clusterPlan.id}/revisions`, {
    token: admin,
    body: { ...withoutId(clusterPlan), access: [{ group: 'team-a-devs', role: 'edit' }, { group: 'team-a-viewers', role: 'view' }] },
  });
  expect(rev3.status).toBe(201);

  // A Ready cluster on revision 3 whose kept access is the workload cluster's admin kubeconfig.
  const bob = await token(people.member);
  const created = await api.call('POST', `/v1/workspaces/${WS}/clusters`, { token: bob, body: { ...clusterRequest, plan: { id: clusterPlan.id, revision: 3 } } });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  await readyWithKeptAccess(api, mgmt, workload, WS, clusterRequest.name);
});

afterAll(async () => {
  await api?.close();
  await sim?.close();
});



/** The kubeconfig of `who`, asserting a 200. */
async function kubeconfigOf(who: { sub: string; groups?: readonly string[]; email?: string }, query = '') {
  const res = await api.call('GET', `${PATH}${query}`, { token: await token(who) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const text = String(res.body);
  const kc = new KubeConfig();
  kc.loadFromString(text);
  return { res, text, kc, objects: KubernetesObjectApi.makeApiClient(kc), core: kc.makeApiClient(CoreV1Api) };
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

function namespace(name: string): KubernetesObject & { metadata: { name: string } } {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

async function bindingsOf(sub: string): Promise<string[]> {
  const items = await wl.list(RBAC, 'ClusterRoleBinding', { labelSelector: { [LABEL_ACCESS_FOR]: userServiceAccountName(`user:${sub}`) } });
  return items.map((b) => (b.roleRef as { name: string }).name).sort();
}

describe('a member with view through the plan', () => {
  it('gets a kubeconfig of their own that reads but does not write, and never the admin credentials', async () => {
    // Prepare
    await wl.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, stringData: { password: 'p' } });
    const before = Date.now();
    // Act
    const { res, text, kc, objects, core } = await kubeconfigOf(cast.viewer);
    // Assess: the answer
    expect(res.headers['content-type']).toBe('application/yaml');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['slipway-cluster-roles']).toBe('view');
    const expires = Date.parse(res.headers['slipway-token-expires-at'] ?? '');
    expect(expires - before).toBeGreaterThan(59 * 60_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(60 * 60_000 + 1_000);
    expect(text).not.toContain(workload.token);
    expect(text).toContain(`server: "${workload.url}"`);
    expect(kc.getCurrentUser()?.name).toBe('user:vera');
    // What it may do
    expect((await core.listPodForAllNamespaces()).items).toEqual([]);
    expect(await code(objects.create(namespace('x')))).toBe(403);
    expect(await code(core.readNamespacedSecret({ namespace: 'default', name: 'db' }))).toBe(403);
    expect(await code(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'nope' } } }))).toBe(403);
    // Who it is in the cluster
    const sa = await wl.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: USER_ACCESS_NAMESPACE, name: userServiceAccountName('user:vera') });
    expect(sa?.metadata.annotations).toEqual({
      'slipway.dev/principal': 'user:vera',
      'slipway.dev/email': 'vera@example.com',
      'slipway.dev/granted-via': 'group:team-a-viewers,user:vera',
    });
    // The memberships it was granted through, for revocation when one of them goes.
    expect(sa?.metadata.labels).toMatchObject({ [viaLabel('user:vera')]: 'member', [viaLabel('group:team-a-viewers')]: 'member', 'slipway.dev/via-recorded': 'true' });
    expect(await bindingsOf('vera')).toEqual(['view']);
  });

  it('is audited: who, roles and expiry, never the token; nothing secret reaches the logs', async () => {
    // Prepare
    const lines: string[] = [];
    const capture = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    let issued: string;
    try {
      // Act
      const { kc, res } = await kubeconfigOf(cast.viewer, '?ttlMinutes=30');
      issued = kc.getCurrentUser()?.token ?? '';
      expect(Date.parse(res.headers['slipway-token-expires-at'] ?? '') - Date.now()).toBeLessThanOrEqual(30 * 60_000);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    // Assess
    const audit = await api.stores.audit.listDay(new Date().toISOString().slice(0, 10));
    const entries = audit.items.filter((a) => a.action === 'Cluster.kubeconfig' && a.actor === 'user:vera');
    expect(entries.length).toBeGreaterThanOrEqual(2);
    const last = entries.at(-1);
    expect(last?.resource).toBe(`workspaces/${WS}/clusters/${clusterRequest.name}`);
    expect(last?.detail).toMatchObject({ roles: ['view'], basis: 'plan-groups', groups: ['team-a-viewers'], serviceAccount: `system:serviceaccount:slipway-access:${userServiceAccountName('user:vera')}` });
    expect(Date.parse(String(last?.detail?.expiresAt)) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(issued.length).toBeGreaterThan(20);
    expect(JSON.stringify(audit.items)).not.toContain(issued);
    expect(lines.join('')).not.toContain(issued);
    expect(lines.join('')).not.toContain(workload.token);
  });
});

describe('entitlements', () => {
  it('a member with edit creates a ConfigMap, still no namespace', async () => {
    // Act
    const { core, objects } = await kubeconfigOf(people.member);
    // Assess
    const cm = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'from-bob' }, data: { a: '1' } } });
    expect(cm.metadata?.name).toBe('from-bob');
    expect(await code(objects.create(namespace('bobs')))).toBe(403);
    expect(await bindingsOf('bob')).toEqual(['edit']);
  });

  it.each([
    ['the owner', people.owner, 'alice', 'ns-alice'],
    ['a platform admin who is a member', people.admin, 'root', 'ns-root'],
  ])('%s is cluster-admin', async (_who, who, sub, ns) => {
    // Act
    const { res, objects } = await kubeconfigOf(who);
    // Assess
    expect(res.headers['slipway-cluster-roles']).toBe('cluster-admin');
    await objects.create(namespace(ns));
    expect((await wl.get({ apiVersion: 'v1', kind: 'Namespace', name: ns }))?.metadata.name).toBe(ns);
    expect(await bindingsOf(sub)).toEqual(['cluster-admin']);
  });

  it('a member in no group the plan names gets 403 saying which groups it does, and nothing is created', async () => {
    // Act
    const res = await api.call('GET', PATH, { token: await token(cast.ungrouped) });
    // Assess
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body.type).toBe('https://slipway.dev/problems/forbidden');
    expect(res.body.detail).toContain('team-a-devs (edit)');
    expect(res.body.detail).toContain('team-a-viewers (view)');
    expect(res.body.errors.map((e: { message: string }) => e.message)).toEqual(['group team-a-devs gets ClusterRole edit', 'group team-a-viewers gets ClusterRole view']);
    expect(await wl.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: USER_ACCESS_NAMESPACE, name: userServiceAccountName('user:nina') })).toBeNull();
    expect(await bindingsOf('nina')).toEqual([]);
  });

  it('another workspace’s member gets 404; no token gets 401', async () => {
    // Act
    const stranger = await api.call('GET', PATH, { token: await token(cast.stranger) });
    const anonymous = await api.call('GET', PATH, {});
    // Assess
    expect(stranger.status).toBe(404);
    expect(anonymous.status).toBe(401);
  });
});

describe('convergence', () => {
  it('twice is one ServiceAccount; a changed role replaces its binding; a lost group removes it', async () => {
    // Prepare
    const sa = userServiceAccountName('user:vera');
    // Act
    const first = await kubeconfigOf(cast.viewer);
    await kubeconfigOf(cast.viewer);
    const accounts = await wl.list('v1', 'ServiceAccount', { namespace: USER_ACCESS_NAMESPACE, labelSelector: { [LABEL_ACCESS_FOR]: sa } });
    const both = await kubeconfigOf({ ...cast.viewer, groups: ['team-a-viewers', 'team-a-devs'] });
    const bothRoles = await bindingsOf('vera');
    const editOnly = await kubeconfigOf({ ...cast.viewer, groups: ['team-a-devs'] });
    const editRoles = await bindingsOf('vera');
    const none = await api.call('GET', PATH, { token: await token({ ...cast.viewer, groups: [] }) });
    // Assess
    expect(accounts.map((a) => a.metadata.name)).toEqual([sa]);
    expect(both.res.headers['slipway-cluster-roles']).toBe('edit,view');
    expect(bothRoles).toEqual(['edit', 'view']);
    expect(editOnly.res.headers['slipway-cluster-roles']).toBe('edit');
    expect(editRoles).toEqual(['edit']);
    expect(none.status).toBe(403);
    expect(await bindingsOf('vera')).toEqual([]);
    // Tokens already handed out authenticate, but their principal is allowed nothing any more.
    expect(await code(first.core.listPodForAllNamespaces())).toBe(403);
    const audit = await api.stores.audit.listDay(new Date().toISOString().slice(0, 10));
    expect(audit.items.some((a) => a.action === 'Cluster.kubeconfigRevoked' && a.actor === 'user:vera')).toBe(true);
  });

  it('follows the plan revision the cluster moves to', async () => {
    // Prepare: bob is `edit` on revision 3
    await kubeconfigOf(people.member);
    expect(await bindingsOf('bob')).toEqual(['edit']);
    const cluster = await api.stores.clusters.get(WS, clusterRequest.name);
    await api.stores.clusters.recordStatus(WS, clusterRequest.name, cluster?.generation ?? 0, { spec: { plan: { id: clusterPlan.id, revision: 2 } } }, { principal: 'system:test' });
    try {
      // Act
      const { res, core } = await kubeconfigOf(people.member);
      // Assess
      expect(res.headers['slipway-cluster-roles']).toBe('view');
      expect(await bindingsOf('bob')).toEqual(['view']);
      expect(await code(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'bob-2' } } }))).toBe(403);
    } finally {
      await api.stores.clusters.recordStatus(WS, clusterRequest.name, cluster?.generation ?? 0, { spec: { plan: { id: clusterPlan.id, revision: 3 } } }, { principal: 'system:test' });
    }
  });
});

describe('token lifetime', () => {
  it.each(['5', '481', 'abc', '-10', '1e3'])('refuses ?ttlMinutes=%s with 400', async (ttl) => {
    // Act
    const res = await api.call('GET', `${PATH}?ttlMinutes=${ttl}`, { token: await token(people.member) });
    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('ttlMinutes');
  });

  it('expires: the cluster answers 401 once the token’s time is up', async () => {
    // Prepare
    const { res, core } = await kubeconfigOf(people.member, '?ttlMinutes=10');
    expect(Date.parse(res.headers['slipway-token-expires-at'] ?? '') - Date.now()).toBeLessThanOrEqual(10 * 60_000 + 1_000);
    expect(await code(core.listPodForAllNamespaces())).toBe(200);
    // Act
    simOffsetMs += 10 * 60_000 + 1_000;
    try {
      // Assess
      expect(await code(core.listPodForAllNamespaces())).toBe(401);
    } finally {
      simOffsetMs = 0;
    }
  });
});

describe('cluster state', () => {
  it('answers 409 before Ready and when no access is kept', async () => {
    // Prepare
    const bob = await token(people.member);
    const created = await api.call('POST', `/v1/workspaces/${WS}/clusters`, { token: bob, body: { ...clusterRequest, name: 'dev-2', nodePools: [{ name: 'workers', desired: 1 }] } });
    expect(created.status).toBe(202);
    // Act
    const requested = await api.call('GET', `/v1/workspaces/${WS}/clusters/dev-2/kubeconfig`, { token: bob });
    await api.stores.clusters.recordStatus(WS, 'dev-2', 1, { phase: 'Ready', operation: null, observedGeneration: 1 }, { principal: 'system:test' });
    const unkept = await api.call('GET', `/v1/workspaces/${WS}/clusters/dev-2/kubeconfig`, { token: bob });
    // Assess
    expect(requested.status).toBe(409);
    expect(requested.body.detail).toContain('Requested');
    expect(unkept.status).toBe(409);
    expect(unkept.body.detail).toContain('no access is kept');
  });

  it('answers 503 with retry-after when the workload cluster does not answer', async () => {
    // Prepare
    sim.setFaults('workload', { errorRate: 1 });
    try {
      // Act
      const res = await api.call('GET', PATH, { token: await token(people.member) });
      // Assess
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body.type).toBe('https://slipway.dev/problems/unavailable');
    } finally {
      sim.setFaults('workload', undefined);
    }
  });
});
