/** Bad input gets a clear 4xx problem+json and changes nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApiHarness } from '../helpers/api.ts';
import { clusterRequest, networkPlan, people, seedConfig } from './fixtures.ts';

let api: ApiHarness;
let admin: string;
let owner: string;

beforeAll(async () => {
  api = await startApiHarness();
  await seedConfig(api);
  admin = await api.token(people.admin);
  owner = await api.token(people.owner);
});

afterAll(async () => {
  await api?.close();
});

async function networkPlanIds(): Promise<string[]> {
  const res = await api.call('GET', '/v1/network-plans', { token: admin });
  return (res.body.items as Array<{ id: string }>).map((p) => p.id);
}

function expectProblem(res: { status: number; headers: Record<string, string>; body: Record<string, unknown> }, status: number): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body.status).toBe(status);
  expect(typeof res.body.type).toBe('string');
  expect(typeof res.body.title).toBe('string');
}

describe('malformed and invalid bodies', () => {
  const cases: Array<{ name: string; raw?: string; body?: unknown; headers?: Record<string, string>; status: number; field?: string }> = [
    { name: 'malformed JSON', raw: '{"id": "x",', status: 400 },
    { name: 'a JSON array instead of an object', body: [networkPlan], status: 400 },
    { name: 'wrong type', body: { ...networkPlan, id: 'np-wrong-type', endpointAccess: 42 }, status: 400, field: 'endpointAccess' },
    { name: 'unknown field', body: { ...networkPlan, id: 'np-unknown', colour: 'blue' }, status: 400 },
    { name: 'bad id (not a DNS-1123 label)', body: { ...networkPlan, id: 'Not_A_Label' }, status: 400, field: 'id' },
    { name: 'bad CIDR', body: { ...networkPlan, id: 'np-bad-cidr', vpcCidr: '10.0.0.1/16' }, status: 400, field: 'vpcCidr' },
    { name: 'missing field', body: { id: 'np-missing' }, status: 400 },
    { name: 'not JSON content type', raw: JSON.stringify({ ...networkPlan, id: 'np-text' }), headers: { 'content-type': 'text/plain' }, status: 415 },
    { name: 'a body over 1 MiB', body: { ...networkPlan, id: 'np-huge', description: 'x'.repeat(1024 * 1024 + 10) }, status: 413 },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status}, nothing stored`, async () => {
      // Prepare
      const before = await networkPlanIds();
      // Act
      const res = await api.call('POST', '/v1/network-plans', {
        token: admin,
        ...(c.raw === undefined ? { body: c.body } : { rawBody: c.raw }),
        ...(c.headers ? { headers: c.headers } : {}),
      });
      // Assess
      expectProblem(res, c.status);
      if (c.field) expect((res.body.errors as Array<{ field: string }>).map((e) => e.field)).toContain(c.field);
      expect(await networkPlanIds()).toEqual(before);
    });
  }

  it('lists every field error at once', async () => {
    const res = await api.call('POST', '/v1/compute-templates', {
      token: admin,
      body: { id: 'BAD', nodePools: [{ name: 'w', instanceType: 'huge', min: 3, desired: 2, max: 1 }] },
    });
    expectProblem(res, 400);
    const fields = (res.body.errors as Array<{ field: string }>).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['id', 'nodePools[0].instanceType', 'nodePools[0].desired']));
  });

  it('refuses control-plane replicas that break etcd quorum', async () => {
    const res = await api.call('POST', '/v1/cluster-plans', {
      token: admin,
      body: { id: 'even', clusterClass: 'sim-ferrol-1-31-v1', kubernetesVersion: 'v1.31.4', networkPlanId: 'standard-net', controlPlane: { replicas: 4, instanceType: 'm6i.large' } },
    });
    expectProblem(res, 400);
    expect((res.body.errors as Array<{ field: string }>)[0]?.field).toBe('controlPlane.replicas');
  });

  it('refuses a plan whose Kubernetes version does not match its ClusterClass', async () => {
    const res = await api.call('POST', '/v1/cluster-plans', {
      token: admin,
      body: { id: 'mismatch', clusterClass: 'sim-ferrol-1-31-v1', kubernetesVersion: 'v1.32.0', networkPlanId: 'standard-net', controlPlane: { replicas: 1, instanceType: 'm6i.large' } },
    });
    expectProblem(res, 400);
  });

  it('refuses references to things that do not exist with 422 and names each', async () => {
    const res = await api.call('POST', '/v1/cluster-plans', {
      token: admin,
      body: {
        id: 'dangling',
        clusterClass: 'sim-ferrol-1-31-v1',
        kubernetesVersion: 'v1.31.4',
        networkPlanId: 'nope',
        controlPlane: { replicas: 1, instanceType: 'm6i.large' },
        packages: [{ name: 'nope', version: '1.0.0' }],
      },
    });
    expectProblem(res, 422);
    expect((res.body.errors as Array<{ field: string }>).map((e) => e.field)).toEqual(['networkPlanId', 'packages[0]']);
    const check = await api.call('GET', '/v1/cluster-plans/dangling', { token: admin });
    expect(check.status).toBe(404);
  });

  it('answers 404 problem+json for unknown paths and 405 for known paths with another method', async () => {
    expectProblem(await api.call('GET', '/v1/nothing-here', { token: admin }), 404);
    const res = await api.call('PATCH', '/v1/network-plans', { token: admin, body: {} });
    expectProblem(res, 405);
  });
});

describe('cluster requests', () => {
  it('refuses pool overrides outside the template bounds and unknown pools, nothing recorded', async () => {
    const res = await api.call('POST', '/v1/workspaces/team-a/clusters', {
      token: owner,
      body: { ...clusterRequest, name: 'oob', nodePools: [{ name: 'workers', desired: -1 }] },
    });
    expectProblem(res, 400);
    const res2 = await api.call('POST', '/v1/workspaces/team-a/clusters', {
      token: owner,
      body: { ...clusterRequest, name: 'oob', nodePools: [{ name: 'workers', desired: 7 }, { name: 'ghost', desired: 1 }] },
    });
    expectProblem(res2, 422);
    expect((res2.body.errors as Array<{ code: string }>).map((e) => e.code)).toEqual(['pool.out_of_bounds', 'pool.not_found']);
    expect((await api.call('GET', '/v1/workspaces/team-a/clusters/oob', { token: owner })).status).toBe(404);
    expect(api.starts).toHaveLength(0);
  });

  it('refuses a cloud access the workspace may not use and a region the access does not enable', async () => {
    const res = await api.call('POST', '/v1/workspaces/team-a/clusters', {
      token: owner,
      body: { ...clusterRequest, name: 'wrong-place', cloudAccessId: 'elsewhere' },
    });
    expectProblem(res, 422);
    const res2 = await api.call('POST', '/v1/workspaces/team-a/clusters', {
      token: owner,
      body: { ...clusterRequest, name: 'wrong-place', region: 'us-east-1' },
    });
    expectProblem(res2, 422);
    expect((res2.body.errors as Array<{ field: string }>)[0]?.field).toBe('region');
  });

  it('refuses a bad nextToken with 400', async () => {
    const res = await api.call('GET', '/v1/network-plans?nextToken=garbage', { token: admin });
    expectProblem(res, 400);
  });
});
