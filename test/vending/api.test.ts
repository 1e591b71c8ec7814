/**
 * /v1/onboarding-rules and /v1/accounts through the local HTTP server: admins 2xx, others 403, no token 401,
 * bad input 400 (and nothing changes), unknown references 422, conflicts 409. (Every route × every caller is
 * also in test/api/authz.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onAccountVended } from '../../functions/events/account-vended.ts';
import { CreateOnboardingRuleBody } from '../../shared/domain/onboarding.ts';
import { createLogger } from '../../shared/log.ts';
import { onboardingRule, people, seedConfig } from '../api/fixtures.ts';
import { type ApiHarness, startApiHarness } from '../helpers/api.ts';

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

const { id: _id, ...ruleContent } = onboardingRule;

describe('/v1/onboarding-rules', () => {
  it('admins create, read, replace (optimistically) and delete rules; defaults are filled in', async () => {
    const created = await api.call('POST', '/v1/onboarding-rules', { token: admin, body: { ...onboardingRule, id: 'crud' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.location).toBe('/v1/onboarding-rules/crud');
    expect(created.body).toMatchObject({
      id: 'crud',
      version: 1,
      enabled: true,
      createdBy: 'user:root',
      access: { provider: 'aws', roleName: 'SlipwayProvisioner' },
      workspace: { idTemplate: 'acct-{accountName}', nameTemplate: '{accountName}', owners: [{ fromEmail: true }], members: ['group:team-a-devs'] },
    });

    const got = await api.call('GET', '/v1/onboarding-rules/crud', { token: admin });
    expect(got.status).toBe(200);
    expect(got.headers.etag).toBe('"1"');

    const replaced = await api.call('PUT', '/v1/onboarding-rules/crud', { token: admin, body: { ...ruleContent, priority: 1, version: 1 } });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ priority: 1, version: 2 });
    const stale = await api.call('PUT', '/v1/onboarding-rules/crud', { token: admin, body: { ...ruleContent, priority: 2, version: 1 } });
    expect(stale.status).toBe(409);

    const listed = await api.call('GET', '/v1/onboarding-rules?limit=10', { token: admin });
    expect(listed.body.items.map((r: { id: string }) => r.id)).toContain('crud');

    expect((await api.call('DELETE', '/v1/onboarding-rules/crud', { token: admin })).status).toBe(204);
    expect((await api.call('GET', '/v1/onboarding-rules/crud', { token: admin })).status).toBe(404);
    expect((await api.call('DELETE', '/v1/onboarding-rules/crud', { token: admin })).status).toBe(404);
  });

  it('a taken id is 409', async () => {
    expect((await api.call('POST', '/v1/onboarding-rules', { token: admin, body: { ...onboardingRule, id: 'twice' } })).status).toBe(201);
    const again = await api.call('POST', '/v1/onboarding-rules', { token: admin, body: { ...onboardingRule, id: 'twice' } });
    expect(again.status).toBe(409);
  });

  it('members and owners of workspaces get 403; no token 401', async () => {
    for (const [method, path, body] of [
      ['POST', '/v1/onboarding-rules', { ...onboardingRule, id: 'nope' }],
      ['GET', '/v1/onboarding-rules', undefined],
      ['GET', '/v1/onboarding-rules/twice', undefined],
      ['PUT', '/v1/onboarding-rules/twice', ruleContent],
      ['DELETE', '/v1/onboarding-rules/twice', undefined],
    ] as const) {
      expect((await api.call(method, path, { token: owner, body })).status, `${method} ${path}`).toBe(403);
      expect((await api.call(method, path, { body })).status, `${method} ${path}`).toBe(401);
    }
    expect((await api.call('GET', '/v1/onboarding-rules/nope', { token: admin })).status).toBe(404);
  });

  const invalid: Array<[string, unknown, string]> = [
    ['no priority', { ...onboardingRule, id: 'bad', priority: undefined }, 'priority'],
    ['unknown field', { ...onboardingRule, id: 'bad', colour: 'blue' }, ''],
    ['unknown placeholder', { ...onboardingRule, id: 'bad', workspace: { idTemplate: 'acct-{email}' } }, 'workspace.idTemplate'],
    ['baseline region outside the access regions', { ...onboardingRule, id: 'bad', baseline: { ...onboardingRule.baseline, region: 'eu-central-1' } }, 'baseline.region'],
    ['a member that is no principal', { ...onboardingRule, id: 'bad', workspace: { members: ['bob'] } }, 'workspace.members[0]'],
    ['a role name that is no IAM name', { ...onboardingRule, id: 'bad', access: { ...onboardingRule.access, roleName: 'a/b' } }, 'access.roleName'],
    ['duplicate regions', { ...onboardingRule, id: 'bad', access: { ...onboardingRule.access, regions: ['eu-west-1', 'eu-west-1'] } }, 'access.regions'],
  ];
  for (const [what, body, field] of invalid) {
    it(`400 for ${what}, and nothing is created`, async () => {
      const res = await api.call('POST', '/v1/onboarding-rules', { token: admin, body });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect((await api.call('GET', '/v1/onboarding-rules/bad', { token: admin })).status).toBe(404);
    });
  }

  it('422 when the baseline names a plan or template that does not exist', async () => {
    const res = await api.call('POST', '/v1/onboarding-rules', {
      token: admin,
      body: { ...onboardingRule, id: 'ghost', baseline: { ...onboardingRule.baseline, plan: { id: 'ghost' }, computeTemplateId: 'nowhere' } },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['baseline.computeTemplateId', 'baseline.plan']);
  });
});

describe('/v1/accounts', () => {
  it('lists vended accounts and shows one, to admins only', async () => {
    // Prepare: a vending claims the account (the workflow start goes to the harness's recorder).
    await api.stores.onboardingRules.create(CreateOnboardingRuleBody.parse({ ...onboardingRule, id: 'acct-test' }), { principal: 'user:root' });
    const outcome = await onAccountVended(
      {
        version: '0',
        id: 'evt-1',
        source: 'acme.vending',
        'detail-type': 'Account Vended',
        account: '111111111111',
        time: '2026-11-20T10:15:00Z',
        region: 'eu-west-1',
        resources: [],
        detail: { schemaVersion: '1', accountId: '444455556666', accountName: 'team-x', email: 'x@example.com', organizationalUnit: { name: 'Sandbox' } },
        // matches the fixture rule: OU Sandbox, name team-*
      },
      { stores: api.stores, workflows: { start: async () => ({ executionId: 'arn:x' }) }, clock: () => new Date(), log: createLogger({}, 'error') },
    );
    expect(outcome.outcome).toBe('started');

    await api.stores.accounts.update('444455556666', { verification: { status: 'Verified', message: 'ok', offerings: { 'eu-west-1': ['m6i.large', 'm7i.large'] } } });

    // Lists summarise (no rule snapshot, offering counts instead of the type lists); GET one has everything.
    const list = await api.call('GET', '/v1/accounts', { token: admin });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ accountId: '444455556666', status: 'Onboarding', verification: { status: 'Verified', offeringCounts: { 'eu-west-1': 2 } } });
    expect(list.body.items[0]).not.toHaveProperty('rule');
    expect(list.body.items[0].verification).not.toHaveProperty('offerings');
    const one = await api.call('GET', '/v1/accounts/444455556666', { token: admin });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ accountId: '444455556666', accountName: 'team-x', email: 'x@example.com', status: 'Onboarding', ruleId: 'acct-test', cloudAccessId: 'aws-444455556666' });
    expect(one.body.rule).toMatchObject({ id: 'acct-test', version: 1 });
    expect(one.body.verification.offerings).toEqual({ 'eu-west-1': ['m6i.large', 'm7i.large'] });

    expect((await api.call('GET', '/v1/accounts', { token: owner })).status).toBe(403);
    expect((await api.call('GET', '/v1/accounts/444455556666', { token: owner })).status).toBe(403);
    expect((await api.call('GET', '/v1/accounts/444455556666')).status).toBe(401);
  });

  it('400 for a malformed account id or page size; 404 for an unknown account', async () => {
    const bad = await api.call('GET', '/v1/accounts/not-an-account', { token: admin });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await api.call('GET', '/v1/accounts?limit=0', { token: admin })).status).toBe(400);
    expect((await api.call('GET', '/v1/accounts?nextToken=forged', { token: admin })).status).toBe(400);
    expect((await api.call('GET', '/v1/accounts/999999999999', { token: admin })).status).toBe(404);
  });
});
