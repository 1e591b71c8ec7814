/**
 * Every route × every kind of caller, through the local HTTP server: admin (not a member of team-a), owner
 * and member of team-a, a member of another workspace, no token, a bad token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, routeKey } from '../../shared/http/routes.ts';
import { type ApiHarness, startApiHarness } from '../helpers/api.ts';
import { clusterRequest, computeTemplate, networkPlan, onboardingRule, people, policy, seedConfig } from './fixtures.ts';

type Role = 'admin' | 'owner' | 'member' | 'other' | 'none' | 'bad';
const ROLES: Role[] = ['admin', 'owner', 'member', 'other', 'none', 'bad'];

interface Case {
  route: string;
  /** Builds the request for one role; may prepare state first (as admin). */
  request: (role: Role) => Promise<{ path: string; body?: unknown }>;
  expect: Partial<Record<Role, number>>;
}

let api: ApiHarness;
let tokens: Record<Role, string | null>;

beforeAll(async () => {
  api = await startApiHarness();
  await seedConfig(api);
  tokens = {
    admin: await api.token(people.admin),
    owner: await api.token(people.owner),
    member: await api.token(people.member),
    other: await api.token(people.other),
    none: null,
    bad: `${await api.token(people.admin)}x`,
  };
  // Clusters to read in team-a, one per role that may read them.
  const res = await api.call('POST', '/v1/workspaces/team-a/clusters', { token: tokens.owner, body: clusterRequest });
  expect(res.status).toBe(202);
});

afterAll(async () => {
  await api?.close();
});

/** Runs a setup request as admin and insists it worked. */
async function asAdmin(method: string, path: string, body?: unknown): Promise<void> {
  const res = await api.call(method, path, { token: tokens.admin, body });
  if (res.status >= 300) throw new Error(`setup ${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
}

const admins = { admin: 0, owner: 403, member: 403, other: 403 };
const readers = { admin: 200, owner: 200, member: 200, other: 200 };
const fixed = (path: string, body?: unknown) => async () => (body === undefined ? { path } : { path, body });

const CASES: Case[] = [
  { route: 'GET /openapi.json', request: fixed('/openapi.json'), expect: { admin: 200, owner: 200, member: 200, other: 200, none: 200, bad: 200 } },
  { route: 'GET /v1/me', request: fixed('/v1/me'), expect: readers },

  {
    route: 'POST /v1/cloud-accesses',
    request: async (r) => ({
      path: '/v1/cloud-accesses',
      body: { id: `ca-${r}`, provider: 'sim', accountId: '210987654321', roleArn: 'arn:aws:iam::210987654321:role/X', regions: ['eu-west-1'] },
    }),
    expect: { ...admins, admin: 201 },
  },
  { route: 'GET /v1/cloud-accesses', request: fixed('/v1/cloud-accesses'), expect: { ...admins, admin: 200 } },
  { route: 'GET /v1/cloud-accesses/{id}', request: fixed('/v1/cloud-accesses/sandbox'), expect: { ...admins, admin: 200 } },
  {
    route: 'DELETE /v1/cloud-accesses/{id}',
    request: async (r) => {
      await asAdmin('POST', '/v1/cloud-accesses', { id: `del-${r}`, provider: 'sim', accountId: '210987654321', roleArn: 'arn:aws:iam::210987654321:role/X', regions: ['eu-west-1'] });
      return { path: `/v1/cloud-accesses/del-${r}` };
    },
    expect: { ...admins, admin: 204 },
  },

  { route: 'POST /v1/network-plans', request: async (r) => ({ path: '/v1/network-plans', body: { ...networkPlan, id: `np-${r}` } }), expect: { ...admins, admin: 201 } },
  { route: 'GET /v1/network-plans', request: fixed('/v1/network-plans'), expect: readers },
  { route: 'GET /v1/network-plans/{id}', request: fixed('/v1/network-plans/standard-net'), expect: readers },
  {
    route: 'PUT /v1/network-plans/{id}',
    request: async () => {
      const { id: _id, ...content } = networkPlan;
      return { path: '/v1/network-plans/standard-net', body: content };
    },
    expect: { ...admins, admin: 200 },
  },
  {
    route: 'DELETE /v1/network-plans/{id}',
    request: async (r) => {
      await asAdmin('POST', '/v1/network-plans', { ...networkPlan, id: `npd-${r}` });
      return { path: `/v1/network-plans/npd-${r}` };
    },
    expect: { ...admins, admin: 204 },
  },

  {
    route: 'POST /v1/cluster-plans',
    request: async (r) => ({
      path: '/v1/cluster-plans',
      body: { id: `plan-${r}`, clusterClass: 'sim-ferrol-1-31-v1', kubernetesVersion: 'v1.31.4', networkPlanId: 'standard-net', controlPlane: { replicas: 1, instanceType: 'm6i.large' } },
    }),
    expect: { ...admins, admin: 201 },
  },
  { route: 'GET /v1/cluster-plans', request: fixed('/v1/cluster-plans'), expect: readers },
  { route: 'GET /v1/cluster-plans/{id}', request: fixed('/v1/cluster-plans/standard'), expect: readers },
  {
    route: 'POST /v1/cluster-plans/{id}/revisions',
    request: fixed('/v1/cluster-plans/standard/revisions', {
      clusterClass: 'sim-ferrol-1-31-v1',
      kubernetesVersion: 'v1.31.5',
      networkPlanId: 'standard-net',
      controlPlane: { replicas: 3, instanceType: 'm6i.large' },
    }),
    expect: { ...admins, admin: 201 },
  },
  { route: 'GET /v1/cluster-plans/{id}/revisions', request: fixed('/v1/cluster-plans/standard/revisions'), expect: readers },
  { route: 'GET /v1/cluster-plans/{id}/revisions/{rev}', request: fixed('/v1/cluster-plans/standard/revisions/1'), expect: readers },

  { route: 'POST /v1/compute-templates', request: async (r) => ({ path: '/v1/compute-templates', body: { ...computeTemplate, id: `ct-${r}` } }), expect: { ...admins, admin: 201 } },
  { route: 'GET /v1/compute-templates', request: fixed('/v1/compute-templates'), expect: readers },
  { route: 'GET /v1/compute-templates/{id}', request: fixed('/v1/compute-templates/general'), expect: readers },
  {
    route: 'PUT /v1/compute-templates/{id}',
    request: async () => {
      const { id: _id, ...content } = computeTemplate;
      return { path: '/v1/compute-templates/general', body: content };
    },
    expect: { ...admins, admin: 200 },
  },
  {
    route: 'DELETE /v1/compute-templates/{id}',
    request: async (r) => {
      await asAdmin('POST', '/v1/compute-templates', { ...computeTemplate, id: `ctd-${r}` });
      return { path: `/v1/compute-templates/ctd-${r}` };
    },
    expect: { ...admins, admin: 204 },
  },

  {
    route: 'POST /v1/packages',
    request: async (r) => ({ path: '/v1/packages', body: { name: `pkg-${r}`, version: '1.0.0', manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }] } }),
    expect: { ...admins, admin: 201 },
  },
  { route: 'GET /v1/packages', request: fixed('/v1/packages'), expect: readers },
  { route: 'GET /v1/packages/{name}/{version}', request: fixed('/v1/packages/metrics-server/3.12.2'), expect: readers },

  { route: 'POST /v1/policies', request: async (r) => ({ path: '/v1/policies', body: { ...policy, id: `pol-${r}`, rules: {} } }), expect: { ...admins, admin: 201 } },
  { route: 'GET /v1/policies', request: fixed('/v1/policies'), expect: { ...admins, admin: 200 } },
  { route: 'GET /v1/policies/{id}', request: fixed('/v1/policies/guardrails'), expect: { ...admins, admin: 200 } },
  {
    route: 'PUT /v1/policies/{id}',
    request: async () => {
      const { id: _id, ...content } = policy;
      return { path: '/v1/policies/guardrails', body: content };
    },
    expect: { ...admins, admin: 200 },
  },
  {
    route: 'DELETE /v1/policies/{id}',
    request: async (r) => {
      await asAdmin('POST', '/v1/policies', { ...policy, id: `pold-${r}`, rules: {} });
      return { path: `/v1/policies/pold-${r}` };
    },
    expect: { ...admins, admin: 204 },
  },

  { route: 'POST /v1/workspaces', request: async (r) => ({ path: '/v1/workspaces', body: { id: `ws-${r}`, name: `WS ${r}` } }), expect: { ...admins, admin: 201 } },
  { route: 'GET /v1/workspaces', request: fixed('/v1/workspaces'), expect: readers },
  { route: 'GET /v1/workspaces/{ws}', request: fixed('/v1/workspaces/team-a'), expect: { admin: 200, owner: 200, member: 200, other: 404 } },
  {
    route: 'DELETE /v1/workspaces/{ws}',
    request: async (r) => {
      await asAdmin('POST', '/v1/workspaces', {
        id: `wsd-${r}`,
        name: 'to delete',
        members: [
          { principal: 'user:alice', role: 'owner' },
          { principal: 'group:team-a-devs', role: 'member' },
        ],
      });
      return { path: `/v1/workspaces/wsd-${r}` };
    },
    expect: { admin: 204, owner: 403, member: 403, other: 404 },
  },
  {
    route: 'PUT /v1/workspaces/{ws}/members/{principal}',
    request: async (r) => ({ path: `/v1/workspaces/team-a/members/${encodeURIComponent(`user:new-${r}`)}`, body: { role: 'member' } }),
    expect: { admin: 200, owner: 200, member: 403, other: 404 },
  },
  {
    route: 'DELETE /v1/workspaces/{ws}/members/{principal}',
    request: async (r) => {
      await asAdmin('PUT', `/v1/workspaces/team-a/members/${encodeURIComponent(`user:gone-${r}`)}`, { role: 'member' });
      return { path: `/v1/workspaces/team-a/members/${encodeURIComponent(`user:gone-${r}`)}` };
    },
    expect: { admin: 204, owner: 204, member: 403, other: 404 },
  },

  // Cluster routes: members only — an admin who is not a member sees nothing (404), like a stranger.
  {
    route: 'POST /v1/workspaces/{ws}/clusters',
    request: async (r) => ({ path: '/v1/workspaces/team-a/clusters', body: { ...clusterRequest, name: `c-${r}` } }),
    expect: { admin: 404, owner: 202, member: 202, other: 404 },
  },
  { route: 'GET /v1/workspaces/{ws}/clusters', request: fixed('/v1/workspaces/team-a/clusters'), expect: { admin: 404, owner: 200, member: 200, other: 404 } },
  { route: 'GET /v1/workspaces/{ws}/clusters/{name}', request: fixed('/v1/workspaces/team-a/clusters/dev-1'), expect: { admin: 404, owner: 200, member: 200, other: 404 } },
  {
    route: 'PATCH /v1/workspaces/{ws}/clusters/{name}',
    // The cluster is still Requested (no workflow runs in this suite): members get the state conflict.
    request: fixed('/v1/workspaces/team-a/clusters/dev-1', { nodePools: [{ name: 'workers', desired: 5 }] }),
    expect: { admin: 404, owner: 409, member: 409, other: 404 },
  },
  {
    route: 'DELETE /v1/workspaces/{ws}/clusters/{name}',
    request: fixed('/v1/workspaces/team-a/clusters/dev-1'),
    // In flight (provisioning): a delete waits for no one and is refused while another operation runs.
    expect: { admin: 404, owner: 409, member: 409, other: 404 },
  },
  { route: 'GET /v1/workspaces/{ws}/clusters/{name}/events', request: fixed('/v1/workspaces/team-a/clusters/dev-1/events'), expect: { admin: 404, owner: 200, member: 200, other: 404 } },
  { route: 'GET /v1/workspaces/{ws}/clusters/{name}/kubeconfig', request: fixed('/v1/workspaces/team-a/clusters/dev-1/kubeconfig'), expect: { admin: 404, owner: 409, member: 409, other: 404 } },
  // Account vending: admins only.
  { route: 'POST /v1/onboarding-rules', request: async (r) => ({ path: '/v1/onboarding-rules', body: { ...onboardingRule, id: `rule-${r}` } }), expect: { ...admins, admin: 201 } },
  { route: 'GET /v1/onboarding-rules', request: fixed('/v1/onboarding-rules'), expect: { ...admins, admin: 200 } },
  {
    route: 'GET /v1/onboarding-rules/{id}',
    request: async (r) => {
      await asAdmin('POST', '/v1/onboarding-rules', { ...onboardingRule, id: `ruleg-${r}` });
      return { path: `/v1/onboarding-rules/ruleg-${r}` };
    },
    expect: { ...admins, admin: 200 },
  },
  {
    route: 'PUT /v1/onboarding-rules/{id}',
    request: async (r) => {
      await asAdmin('POST', '/v1/onboarding-rules', { ...onboardingRule, id: `rulep-${r}` });
      const { id: _id, ...content } = onboardingRule;
      return { path: `/v1/onboarding-rules/rulep-${r}`, body: { ...content, priority: 99 } };
    },
    expect: { ...admins, admin: 200 },
  },
  {
    route: 'DELETE /v1/onboarding-rules/{id}',
    request: async (r) => {
      await asAdmin('POST', '/v1/onboarding-rules', { ...onboardingRule, id: `ruled-${r}` });
      return { path: `/v1/onboarding-rules/ruled-${r}` };
    },
    expect: { ...admins, admin: 204 },
  },
  { route: 'GET /v1/accounts', request: fixed('/v1/accounts'), expect: { ...admins, admin: 200 } },
  // No account has been vended in this suite: the admin gets the 404 of an unknown account, others 403.
  { route: 'GET /v1/accounts/{accountId}', request: fixed('/v1/accounts/222233334444'), expect: { ...admins, admin: 404 } },
  { route: 'POST /v1/accounts/{accountId}/retry', request: fixed('/v1/accounts/222233334444/retry'), expect: { ...admins, admin: 404 } },
];

describe('authorization matrix', () => {
  it('covers every route of the contract', () => {
    expect(CASES.map((c) => c.route).sort()).toEqual(ROUTES.map(routeKey).sort());
  });

  for (const c of CASES) {
    const [method = ''] = c.route.split(' ');
    for (const role of ROLES) {
      const expected = c.expect[role] ?? 401;
      it(`${c.route} as ${role} → ${expected}`, async () => {
        // Prepare
        const { path, body } = await c.request(role);
        // Act
        const res = await api.call(method, path, { token: tokens[role], body });
        // Assess
        expect(res.status, JSON.stringify(res.body)).toBe(expected);
        if (expected >= 400) expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      });
    }
  }
});
