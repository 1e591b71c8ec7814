/** Cluster requests through the local HTTP server: dry runs, policies, quotas, idempotency, compensation. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ApiHarness, startApiHarness } from '../helpers/api.ts';
import { clusterRequest, people, seedConfig } from './fixtures.ts';

let api: ApiHarness;
let admin: string;
let owner: string;
let member: string;

beforeAll(async () => {
  api = await startApiHarness();
  await seedConfig(api);
  admin = await api.token(people.admin);
  owner = await api.token(people.owner);
  member = await api.token(people.member);
});

afterAll(async () => {
  await api?.close();
});

beforeEach(() => {
  api.starts.length = 0;
});

describe('dry run', () => {
  it('answers 200 with the evaluation and the cost, and records nothing', async () => {
    // Act
    const res = await api.call('POST', '/v1/workspaces/team-a/clusters?dryRun=true', { token: member, body: { ...clusterRequest, name: 'dry' } });
    // Assess
    expect(res.status).toBe(200);
    expect(res.body.allowed).toBe(true);
    expect(res.body.violations).toEqual([]);
    expect(res.body.costEstimate.currency).toBe('USD');
    expect(res.body.costEstimate.hoursPerMonth).toBe(730);
    // 3 control-plane m6i.large + 4 workers m6i.large.
    const lines = res.body.costEstimate.breakdown as Array<{ component: string; count: number }>;
    expect(lines.map((l) => [l.component, l.count])).toEqual([
      ['control-plane', 3],
      ['node-pool', 4],
    ]);
    expect((await api.call('GET', '/v1/workspaces/team-a/clusters/dry', { token: member })).status).toBe(404);
    expect(api.starts).toHaveLength(0);
  });

  it('lists every violation of every applicable policy at once', async () => {
    // Prepare: a workspace policy on top of the global one.
    const pol = await api.call('POST', '/v1/policies', {
      token: admin,
      body: { id: 'team-a-tight', workspaceId: 'team-a', rules: { maxNodesPerCluster: 4, allowSpot: false } },
    });
    expect(pol.status).toBe(201);
    // Act: wrong region for the policy (access enables it), too big, too long-lived.
    const res = await api.call('POST', '/v1/workspaces/team-a/clusters?dryRun=true', {
      token: member,
      body: { ...clusterRequest, name: 'many', region: 'eu-central-1', nodePools: [{ name: 'workers', desired: 6 }], ttlHours: 700 },
    });
    const strict = await api.call('PUT', '/v1/policies/team-a-tight', {
      token: admin,
      body: { workspaceId: 'team-a', rules: { maxNodesPerCluster: 4, allowedRegions: ['eu-west-1'], maxLifetimeHours: 24, maxMonthlyCostPerClusterUsd: 100 } },
    });
    expect(strict.status).toBe(200);
    const res2 = await api.call('POST', '/v1/workspaces/team-a/clusters?dryRun=true', {
      token: member,
      body: { ...clusterRequest, name: 'many', region: 'eu-central-1', nodePools: [{ name: 'workers', desired: 6 }], ttlHours: 700 },
    });
    // Assess
    expect(res.status).toBe(200);
    expect(res.body.allowed).toBe(false);
    expect(res.body.violations.map((v: { code: string; policyId: string }) => `${v.policyId}:${v.code}`)).toEqual(['team-a-tight:nodes.max_exceeded']);
    expect(res2.body.allowed).toBe(false);
    const codes = res2.body.violations.map((v: { code: string; policyId: string }) => `${v.policyId}:${v.code}`).sort();
    expect(codes).toEqual(['team-a-tight:cost.cluster_max_exceeded', 'team-a-tight:nodes.max_exceeded', 'team-a-tight:region.not_allowed', 'team-a-tight:ttl.max_exceeded']);
    for (const v of res2.body.violations) expect(v.message.length).toBeGreaterThan(10);
    // The same request for real → 422 with the same violations, nothing recorded.
    const real = await api.call('POST', '/v1/workspaces/team-a/clusters', {
      token: member,
      body: { ...clusterRequest, name: 'many', region: 'eu-central-1', nodePools: [{ name: 'workers', desired: 6 }], ttlHours: 700 },
    });
    expect(real.status).toBe(422);
    expect(real.body.errors).toEqual(res2.body.violations);
    expect((await api.call('GET', '/v1/workspaces/team-a/clusters/many', { token: member })).status).toBe(404);
    expect(api.starts).toHaveLength(0);
    expect((await api.call('DELETE', '/v1/policies/team-a-tight', { token: admin })).status).toBe(204);
  });
});

describe('requesting a cluster', () => {
  it('records it Requested at generation 1, reserves quota and starts provisioning once', async () => {
    // Act
    const res = await api.call('POST', '/v1/workspaces/team-a/clusters', { token: member, body: { ...clusterRequest, name: 'real-1' } });
    // Assess
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.headers.location).toBe('/v1/workspaces/team-a/clusters/real-1');
    expect(res.body).toMatchObject({ workspaceId: 'team-a', name: 'real-1', phase: 'Requested', generation: 1, plan: { id: 'standard', revision: 1 }, createdBy: 'user:bob' });
    expect(res.body.nodePools[0].desired).toBe(4);
    expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt)).toBe(72 * 3_600_000);
    expect(api.starts).toHaveLength(1);
    expect(api.starts[0]?.workflow).toBe('provision-cluster');
    expect(api.starts[0]?.input).toMatchObject({ workspaceId: 'team-a', name: 'real-1', generation: 1 });
    const usage = await api.stores.clusters.usage('team-a');
    expect(usage.clusters).toBeGreaterThanOrEqual(1);
    const got = await api.call('GET', '/v1/workspaces/team-a/clusters/real-1', { token: owner });
    expect(got.body.phase).toBe('Requested');
  });

  it('refuses a second cluster of the same name with 409', async () => {
    const res = await api.call('POST', '/v1/workspaces/team-a/clusters', { token: member, body: { ...clusterRequest, name: 'twice' } });
    expect(res.status).toBe(202);
    const again = await api.call('POST', '/v1/workspaces/team-a/clusters', { token: owner, body: { ...clusterRequest, name: 'twice' } });
    expect(again.status).toBe(409);
    expect(api.starts).toHaveLength(1);
  });

  it('replays an Idempotency-Key: same body → same answer and one cluster; other body → 422', async () => {
    const headers = { 'idempotency-key': 'req-123' };
    const first = await api.call('POST', '/v1/workspaces/team-a/clusters', { token: member, body: { ...clusterRequest, name: 'idem' }, headers });
    const second = await api.call('POST', '/v1/workspaces/team-a/clusters', { token: member, body: { ...clusterRequest, name: 'idem' }, headers });
    const other = await api.call('POST', '/v1/workspaces/team-a/clusters', { token: member, body: { ...clusterRequest, name: 'idem-2' }, headers });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(other.status).toBe(422);
    expect(api.starts).toHaveLength(1);
    expect((await api.call('GET', '/v1/workspaces/team-a/clusters/idem-2', { token: member })).status).toBe(404);
  });

  it('leaves nothing behind when the workflow cannot be started, and a retry succeeds', async () => {
    // Prepare
    const before = await api.stores.clusters.usage('team-a');
    api.failNextStart();
    // Act
    const failed = await api.call('POST', '/v1/workspaces/team-a/clusters', { token: member, body: { ...clusterRequest, name: 'unlucky' } });
    // Assess
    expect(failed.status).toBe(500);
    expect(failed.headers['content-type']).toMatch(/problem\+json/);
    expect((await api.call('GET', '/v1/workspaces/team-a/clusters/unlucky', { token: member })).status).toBe(404);
    expect(await api.stores.clusters.usage('team-a')).toEqual(before);
    const retry = await api.call('POST', '/v1/workspaces/team-a/clusters', { token: member, body: { ...clusterRequest, name: 'unlucky' } });
    expect(retry.status).toBe(202);
  });

  it('enforces the workspace cluster quota', async () => {
    // Prepare: team-b may hold one cluster.
    const carol = await api.token(people.other);
    const pol = await api.call('POST', '/v1/policies', { token: admin, body: { id: 'team-b-one', workspaceId: 'team-b', rules: { maxClustersPerWorkspace: 1 } } });
    expect(pol.status).toBe(201);
    // Act
    const first = await api.call('POST', '/v1/workspaces/team-b/clusters', { token: carol, body: { ...clusterRequest, name: 'b-1' } });
    const second = await api.call('POST', '/v1/workspaces/team-b/clusters', { token: carol, body: { ...clusterRequest, name: 'b-2' } });
    // Assess
    expect(first.status).toBe(202);
    expect(second.status).toBe(422);
    expect(second.body.errors[0]).toMatchObject({ code: 'clusters.max_exceeded', policyId: 'team-b-one' });
  });

  it('pages cluster lists with an opaque nextToken', async () => {
    const page1 = await api.call('GET', '/v1/workspaces/team-a/clusters?limit=2', { token: member });
    expect(page1.status).toBe(200);
    expect(page1.body.items).toHaveLength(2);
    expect(typeof page1.body.nextToken).toBe('string');
    const page2 = await api.call('GET', `/v1/workspaces/team-a/clusters?limit=2&nextToken=${encodeURIComponent(page1.body.nextToken)}`, { token: member });
    expect(page2.status).toBe(200);
    const names1 = page1.body.items.map((c: { name: string }) => c.name);
    const names2 = page2.body.items.map((c: { name: string }) => c.name);
    expect(names2.some((n: string) => names1.includes(n))).toBe(false);
    // A token from team-a is worthless in team-b.
    const carol = await api.token(people.other);
    const stolen = await api.call('GET', `/v1/workspaces/team-b/clusters?nextToken=${encodeURIComponent(page1.body.nextToken)}`, { token: carol });
    expect(stolen.status).toBe(400);
  });

  it('shows the history of a cluster', async () => {
    const res = await api.call('GET', '/v1/workspaces/team-a/clusters/real-1/events', { token: member });
    expect(res.status).toBe(200);
    expect(res.body.items[0]).toMatchObject({ phase: 'Requested', generation: 1 });
  });
});

describe('GET /v1/me', () => {
  it('shows principals, admin flag and workspaces', async () => {
    const me = await api.call('GET', '/v1/me', { token: member });
    expect(me.body).toEqual({
      principal: 'user:bob',
      principals: ['user:bob', 'group:team-a-devs'],
      email: null,
      admin: false,
      workspaces: [{ id: 'team-a', role: 'member' }],
    });
    const root = await api.call('GET', '/v1/me', { token: admin });
    expect(root.body.admin).toBe(true);
  });
});
