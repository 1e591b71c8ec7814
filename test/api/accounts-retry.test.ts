/**
 * POST /v1/accounts/{accountId}/retry through the local HTTP server: an admin starts the next attempt of a
 * Failed onboarding (the same claim, start and compensation as the vending event sent again); anything but
 * Failed is 409 and changes nothing; simultaneous retries start one execution; Idempotency-Key replays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onAccountVended } from '../../functions/events/account-vended.ts';
import { CreateOnboardingRuleBody, type OnboardedAccount } from '../../shared/domain/onboarding.ts';
import { createLogger } from '../../shared/log.ts';
import { onboardingExecutionName } from '../../shared/onboarding/retry.ts';
import { WorkflowId } from '../../shared/workflow/names.ts';
import { type ApiHarness, startApiHarness } from '../helpers/api.ts';
import { onboardingRule, people, seedConfig } from './fixtures.ts';

let api: ApiHarness;
let admin: string;
let owner: string;
let member: string;

beforeAll(async () => {
  api = await startApiHarness();
  await seedConfig(api);
  await api.stores.onboardingRules.create(CreateOnboardingRuleBody.parse(onboardingRule), { principal: 'user:root' });
  admin = await api.token(people.admin);
  owner = await api.token(people.owner);
  member = await api.token(people.member);
});

afterAll(async () => {
  await api?.close();
});

/** An account vended (attempt 1 claimed; its start goes elsewhere) and left in `status`. */
async function vendedAccount(accountId: string, status: OnboardedAccount['status'], accountName = `team-${accountId.slice(-4)}`): Promise<OnboardedAccount> {
  const outcome = await onAccountVended(
    {
      version: '0',
      id: `evt-${accountId}`,
      source: 'acme.vending',
      'detail-type': 'Account Vended',
      account: '111111111111',
      time: '2026-11-20T10:15:00Z',
      region: 'eu-west-1',
      resources: [],
      detail: { schemaVersion: '1', accountId, accountName, email: 'x@example.com', organizationalUnit: { name: 'Sandbox' } },
    },
    { stores: api.stores, workflows: { start: async () => ({ executionId: 'arn:x' }) }, clock: () => new Date(), log: createLogger({}, 'error') },
  );
  expect(outcome.outcome).toBe('started');
  if (status === 'Onboarding') return api.stores.accounts.load(accountId);
  const failure = status === 'Failed' ? { reason: 'AssumeRole was denied', failedStep: 'verify-access' } : {};
  return api.stores.accounts.update(accountId, { status, ...failure });
}

const startsFor = (accountId: string) => api.starts.filter((s) => s.workflow === WorkflowId.onboardAccount && s.input.accountId === accountId);

async function retryAudits(accountId: string) {
  const day = new Date().toISOString().slice(0, 10);
  const { items } = await api.stores.audit.listDay(day, { limit: 100 });
  return items.filter((a) => a.action === 'Account.retry' && a.resource === `accounts/${accountId}`);
}

describe('POST /v1/accounts/{accountId}/retry', () => {
  it('an admin retries a Failed onboarding: 202, attempt 2 Onboarding, its execution started, audited with the admin as actor', async () => {
    // Prepare
    const failed = await vendedAccount('100000000001', 'Failed');
    // Act
    const res = await api.call('POST', '/v1/accounts/100000000001/retry', { token: admin });
    // Assess
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.headers.location).toBe('/v1/accounts/100000000001');
    expect(res.body).toMatchObject({
      accountId: '100000000001',
      status: 'Onboarding',
      attempt: 2,
      executionName: onboardingExecutionName('100000000001', 2),
      ruleId: onboardingRule.id,
      reason: null,
      failedStep: null,
      trigger: { source: 'slipway.api', detailType: 'Account Retry Requested' },
    });
    expect(res.body.previousAttempts).toEqual([
      expect.objectContaining({ attempt: 1, executionName: failed.executionName, failedStep: 'verify-access', reason: 'AssumeRole was denied' }),
    ]);
    expect(startsFor('100000000001')).toEqual([
      { workflow: WorkflowId.onboardAccount, name: onboardingExecutionName('100000000001', 2), input: { accountId: '100000000001', attempt: 2 } },
    ]);
    expect(await api.stores.accounts.load('100000000001')).toMatchObject({ status: 'Onboarding', attempt: 2 });
    const audits = await retryAudits('100000000001');
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actor: 'user:root', detail: { attempt: 2, executionName: onboardingExecutionName('100000000001', 2), previous: { attempt: 1 } } });
  });

  it('simultaneous retries start exactly one execution; the others get 409', async () => {
    await vendedAccount('100000000002', 'Failed');
    const answers = await Promise.all(Array.from({ length: 5 }, () => api.call('POST', '/v1/accounts/100000000002/retry', { token: admin })));
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409, 409, 409]);
    for (const lost of answers.filter((a) => a.status === 409)) expect(lost.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(startsFor('100000000002')).toEqual([expect.objectContaining({ name: onboardingExecutionName('100000000002', 2) })]);
    expect(await api.stores.accounts.load('100000000002')).toMatchObject({ status: 'Onboarding', attempt: 2 });
    expect(await retryAudits('100000000002')).toHaveLength(1);
  });

  for (const status of ['Onboarding', 'Onboarded'] as const) {
    it(`409 with a problem when the onboarding is ${status}, and nothing changes`, async () => {
      const accountId = status === 'Onboarding' ? '100000000003' : '100000000004';
      const before = await vendedAccount(accountId, status);
      const res = await api.call('POST', `/v1/accounts/${accountId}/retry`, { token: admin });
      expect(res.status).toBe(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 409, title: 'Only a Failed onboarding can be retried' });
      expect(res.body.detail).toContain(status === 'Onboarding' ? 'attempt 1 is in progress' : 'it is Onboarded');
      expect(await api.stores.accounts.load(accountId)).toEqual(before);
      expect(startsFor(accountId)).toEqual([]);
      expect(await retryAudits(accountId)).toEqual([]);
    });
  }

  it('404 for an unknown account, 400 for a malformed id', async () => {
    const unknown = await api.call('POST', '/v1/accounts/999999999999/retry', { token: admin });
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await api.call('POST', '/v1/accounts/not-an-account/retry', { token: admin })).status).toBe(400);
  });

  it('403 for workspace owners and members, 401 without a token; the account stays Failed', async () => {
    const before = await vendedAccount('100000000005', 'Failed');
    for (const token of [owner, member]) {
      const res = await api.call('POST', '/v1/accounts/100000000005/retry', { token });
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await api.call('POST', '/v1/accounts/100000000005/retry')).status).toBe(401);
    expect(await api.stores.accounts.load('100000000005')).toEqual(before);
    expect(startsFor('100000000005')).toEqual([]);
  });

  it('400 for a body (the rule is the one that matches now), and nothing changes', async () => {
    const before = await vendedAccount('100000000006', 'Failed');
    const res = await api.call('POST', '/v1/accounts/100000000006/retry', { token: admin, body: { ruleId: onboardingRule.id } });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await api.stores.accounts.load('100000000006')).toEqual(before);
    expect(startsFor('100000000006')).toEqual([]);
  });

  it('when the execution cannot be started: 500 problem, the record back to Failed, and a retry then succeeds', async () => {
    // Prepare
    await vendedAccount('100000000007', 'Failed');
    api.failNextStart();
    // Act
    const failed = await api.call('POST', '/v1/accounts/100000000007/retry', { token: admin });
    // Assess: as the cluster path does on a lost start, 500 and no claim left behind
    expect(failed.status).toBe(500);
    expect(failed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await api.stores.accounts.load('100000000007')).toMatchObject({ status: 'Failed', attempt: 1, failedStep: 'verify-access', previousAttempts: [] });
    expect(startsFor('100000000007')).toEqual([]);

    const again = await api.call('POST', '/v1/accounts/100000000007/retry', { token: admin });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ status: 'Onboarding', attempt: 2 });
    expect(startsFor('100000000007')).toEqual([expect.objectContaining({ name: onboardingExecutionName('100000000007', 2) })]);
  });

  it('replays the answer for the same Idempotency-Key without starting anything more', async () => {
    await vendedAccount('100000000008', 'Failed');
    const headers = { 'idempotency-key': 'retry-100000000008' };
    const first = await api.call('POST', '/v1/accounts/100000000008/retry', { token: admin, headers });
    const replay = await api.call('POST', '/v1/accounts/100000000008/retry', { token: admin, headers });
    expect(first.status).toBe(202);
    expect(replay.status).toBe(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.headers.location).toBe('/v1/accounts/100000000008');
    expect(replay.body).toEqual(first.body);
    expect(startsFor('100000000008')).toHaveLength(1);
    // Without the key, the same request is a new one: the onboarding is in progress now.
    expect((await api.call('POST', '/v1/accounts/100000000008/retry', { token: admin })).status).toBe(409);
  });

  it('409 naming the cause when no enabled onboarding rule matches the account any more; it stays Failed', async () => {
    // Prepare: the only rule for "lonely-*" accounts is deleted after their onboarding failed
    await api.stores.onboardingRules.create(
      CreateOnboardingRuleBody.parse({ ...onboardingRule, id: 'lonely', priority: 1, match: { organizationalUnits: ['Sandbox'], accountName: 'lonely-*' } }),
      { principal: 'user:root' },
    );
    const before = await vendedAccount('100000000009', 'Failed', 'lonely-one');
    expect(before.ruleId).toBe('lonely');
    await api.stores.onboardingRules.delete('lonely', { principal: 'user:root' });
    // Act
    const res = await api.call('POST', '/v1/accounts/100000000009/retry', { token: admin });
    // Assess
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ title: 'No onboarding rule matches the account' });
    expect(res.body.detail).toContain('lonely-one');
    expect(await api.stores.accounts.load('100000000009')).toEqual(before);
    expect(startsFor('100000000009')).toEqual([]);
  });
});
