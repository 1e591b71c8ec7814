/**
 * The account-vending trigger on its own (functions/events/account-vended.ts): what it ignores and audits,
 * and that a failed workflow start leaves no claim behind, so EventBridge's retry onboards the account.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onAccountVended, onboardingExecutionName, type VendingDeps, type VendingEvent } from '../../functions/events/account-vended.ts';
import { CreateOnboardingRuleBody } from '../../shared/domain/onboarding.ts';
import { createLogger } from '../../shared/log.ts';
import type { StartWorkflowRequest } from '../../shared/workflow/starter.ts';
import { onboardingRule } from '../api/fixtures.ts';
import { type FreshStores, freshStores } from '../helpers/dynamo.ts';

let db: FreshStores;
let starts: StartWorkflowRequest[];
let failStarts: number;
let deps: VendingDeps;

beforeEach(async () => {
  db = await freshStores();
  starts = [];
  failStarts = 0;
  deps = {
    stores: db.stores,
    workflows: {
      start: async (request) => {
        if (failStarts > 0) {
          failStarts -= 1;
          throw Object.assign(new Error('Step Functions is unavailable'), { name: 'ServiceUnavailable' });
        }
        starts.push(request);
        return { executionId: `arn:aws:states:local:000000000000:execution:${request.workflow}:${request.name}` };
      },
    },
    clock: () => new Date(),
    log: createLogger({}, 'error'),
  };
  await db.stores.onboardingRules.create(CreateOnboardingRuleBody.parse(onboardingRule), { principal: 'user:root' });
});

afterEach(async () => {
  await db.drop();
});

function generic(detail: Record<string, unknown>, over: Partial<VendingEvent> = {}): VendingEvent {
  return {
    version: '0',
    id: `evt-${Math.random().toString(16).slice(2)}`,
    source: 'acme.vending',
    'detail-type': 'Account Vended',
    account: '111111111111',
    time: '2026-11-20T10:15:00Z',
    region: 'eu-west-1',
    resources: [],
    detail,
    ...over,
  };
}

const vended = { schemaVersion: '1', accountId: '444455556666', accountName: 'team-x', organizationalUnit: { name: 'Sandbox' } };

async function audit(action: string) {
  const day = new Date().toISOString().slice(0, 10);
  return (await db.stores.audit.listDay(day, { limit: 100 })).items.filter((a) => a.action === action);
}

describe('account-vended trigger', () => {
  it('starts onboard-account with the account id and attempt 1, under a name derived from both', async () => {
    const outcome = await onAccountVended(generic(vended), deps);
    expect(outcome).toEqual({ outcome: 'started', accountId: '444455556666', ruleId: 'sandbox-accounts', attempt: 1, executionName: 'onboard--444455556666--a1' });
    expect(starts).toEqual([{ workflow: 'onboard-account', name: onboardingExecutionName('444455556666', 1), input: { accountId: '444455556666', attempt: 1 } }]);
    expect(await db.stores.accounts.get('444455556666')).toMatchObject({ status: 'Onboarding', attempt: 1, previousAttempts: [] });
  });

  it('a failed start leaves no claim behind; the retried delivery onboards the account', async () => {
    failStarts = 1;
    await expect(onAccountVended(generic(vended), deps)).rejects.toThrow('Step Functions is unavailable');
    expect(await db.stores.accounts.get('444455556666')).toBeNull();

    const retried = await onAccountVended(generic(vended), deps);
    expect(retried.outcome).toBe('started');
    expect(await db.stores.accounts.get('444455556666')).toMatchObject({ status: 'Onboarding', executionName: 'onboard--444455556666--a1' });
    expect(starts).toHaveLength(1);
  });

  it('a duplicate whose first delivery lost its start repairs it (same name, same input)', async () => {
    await onAccountVended(generic(vended), deps);
    const again = await onAccountVended(generic(vended), deps);
    expect(again.outcome).toBe('duplicate');
    // The starter saw the same request twice; Step Functions (and the local runner) answer the existing execution.
    expect(starts.map((s) => s.name)).toEqual(['onboard--444455556666--a1', 'onboard--444455556666--a1']);
    expect(await audit('AccountVending.duplicate')).toHaveLength(1);
  });

  describe('after a failed onboarding', () => {
    const ACCOUNT = '444455556666';
    /** What mark-onboarding-failed leaves once the undo is done. */
    const fail = () => db.stores.accounts.update(ACCOUNT, { status: 'Failed', failedStep: 'verify-access', reason: 'verify-access: AccessVerificationFailedError: AccessDenied' });

    it('the event again starts the next attempt under its own name, and records the failed one', async () => {
      // Prepare
      await onAccountVended(generic(vended), deps);
      await fail();

      // Act
      const outcome = await onAccountVended(generic({ ...vended, email: 'x@example.com' }), deps);

      // Assess
      expect(outcome).toEqual({ outcome: 'retried', accountId: ACCOUNT, ruleId: 'sandbox-accounts', attempt: 2, executionName: 'onboard--444455556666--a2' });
      expect(starts.map((s) => [s.name, s.input])).toEqual([
        ['onboard--444455556666--a1', { accountId: ACCOUNT, attempt: 1 }],
        ['onboard--444455556666--a2', { accountId: ACCOUNT, attempt: 2 }],
      ]);
      const account = await db.stores.accounts.load(ACCOUNT);
      expect(account).toMatchObject({ status: 'Onboarding', attempt: 2, executionName: 'onboard--444455556666--a2', email: 'x@example.com', reason: null, failedStep: null });
      expect(account.previousAttempts).toEqual([
        {
          attempt: 1,
          executionName: 'onboard--444455556666--a1',
          ruleId: 'sandbox-accounts',
          eventId: expect.any(String),
          failedStep: 'verify-access',
          reason: 'verify-access: AccessVerificationFailedError: AccessDenied',
          retriedAt: expect.any(String),
        },
      ]);
      const retries = await audit('Account.retry');
      expect(retries).toHaveLength(1);
      expect(retries[0]).toMatchObject({ resource: `accounts/${ACCOUNT}`, detail: { attempt: 2, previous: { attempt: 1, failedStep: 'verify-access' } } });

      // Act: the same event once more, while attempt 2 runs
      const again = await onAccountVended(generic(vended), deps);

      // Assess: a duplicate of attempt 2 (its start repeated under the same name and input, a no-op)
      expect(again).toMatchObject({ outcome: 'duplicate', attempt: 2, executionName: 'onboard--444455556666--a2' });
      expect(new Set(starts.map((s) => s.name))).toEqual(new Set(['onboard--444455556666--a1', 'onboard--444455556666--a2']));
      expect((await db.stores.accounts.load(ACCOUNT)).attempt).toBe(2);
    });

    it('simultaneous events start exactly one next attempt', async () => {
      // Prepare
      await onAccountVended(generic(vended), deps);
      await fail();

      // Act
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => onAccountVended(generic(vended), deps)));

      // Assess
      expect(outcomes.filter((o) => o.outcome === 'retried')).toHaveLength(1);
      expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(5);
      expect(outcomes.every((o) => o.attempt === 2)).toBe(true);
      expect(new Set(starts.map((s) => s.name))).toEqual(new Set(['onboard--444455556666--a1', 'onboard--444455556666--a2']));
      expect(await audit('Account.retry')).toHaveLength(1);
      expect(await db.stores.accounts.load(ACCOUNT)).toMatchObject({ status: 'Onboarding', attempt: 2, previousAttempts: [expect.objectContaining({ attempt: 1 })] });
    });

    it('an onboarded account is never onboarded again', async () => {
      await onAccountVended(generic(vended), deps);
      await db.stores.accounts.update(ACCOUNT, { status: 'Onboarded' });

      const outcome = await onAccountVended(generic(vended), deps);

      expect(outcome).toMatchObject({ outcome: 'duplicate', attempt: 1 });
      expect(starts.map((s) => s.name)).toEqual(['onboard--444455556666--a1']);
      expect(await db.stores.accounts.load(ACCOUNT)).toMatchObject({ status: 'Onboarded', attempt: 1 });
    });

    it('a failed start of the next attempt puts the Failed record back; the redelivery retries', async () => {
      // Prepare
      await onAccountVended(generic(vended), deps);
      const failed = await fail();
      failStarts = 1;

      // Act
      await expect(onAccountVended(generic(vended), deps)).rejects.toThrow('Step Functions is unavailable');

      // Assess: as it was (attempt 1, Failed, its reason), nothing recorded as a previous attempt
      expect(await db.stores.accounts.load(ACCOUNT)).toMatchObject({ status: 'Failed', attempt: 1, reason: failed.reason, previousAttempts: [] });

      // Act: EventBridge delivers again
      const retried = await onAccountVended(generic(vended), deps);

      // Assess
      expect(retried).toMatchObject({ outcome: 'retried', attempt: 2 });
      expect(starts.map((s) => s.name)).toEqual(['onboard--444455556666--a1', 'onboard--444455556666--a2']);
    });

    it('a failed account that no rule matches any more stays Failed', async () => {
      await onAccountVended(generic(vended), deps);
      await fail();
      await db.stores.onboardingRules.delete('sandbox-accounts', { principal: 'user:root' });

      const outcome = await onAccountVended(generic(vended), deps);

      expect(outcome).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('no onboarding rule matches') });
      expect(await db.stores.accounts.load(ACCOUNT)).toMatchObject({ status: 'Failed', attempt: 1 });
      expect(starts).toHaveLength(1);
    });
  });

  const ignored: Array<[string, VendingEvent, string]> = [
    ['a malformed Account Vended detail', generic({ ...vended, accountId: '12' }), 'invalid "Account Vended" detail'],
    ['an unrelated event', generic(vended, { source: 'acme.billing', 'detail-type': 'Invoice Paid' }), 'not an account-vending event'],
    ['a Control Tower event of another shape', generic({ eventName: 'CreateManagedAccount' }, { source: 'aws.controltower', 'detail-type': 'AWS Service Event via CloudTrail' }), 'not a Control Tower CreateManagedAccount event'],
    ['an account no rule matches', generic({ ...vended, organizationalUnit: { name: 'Production' } }), 'no onboarding rule matches account team-x (Production)'],
    ['an account name outside the rule’s glob', generic({ ...vended, accountName: 'ops-x' }), 'no onboarding rule matches'],
  ];
  for (const [what, event, reason] of ignored) {
    it(`ignores and audits ${what}`, async () => {
      const outcome = await onAccountVended(event, deps);
      expect(outcome.outcome).toBe('ignored');
      expect(outcome.reason).toContain(reason);
      expect(starts).toEqual([]);
      expect((await db.stores.accounts.list()).items).toEqual([]);
      const records = await audit('AccountVending.ignored');
      expect(records).toHaveLength(1);
      expect(records[0]?.detail).toMatchObject({ eventId: event.id, source: event.source, reason: expect.stringContaining(reason) });
    });
  }
});
