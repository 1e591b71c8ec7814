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
  it('starts onboard-account with the account id only, under a name derived from the account', async () => {
    const outcome = await onAccountVended(generic(vended), deps);
    expect(outcome).toEqual({ outcome: 'started', accountId: '444455556666', ruleId: 'sandbox-accounts', executionName: 'onboard--444455556666' });
    expect(starts).toEqual([{ workflow: 'onboard-account', name: onboardingExecutionName('444455556666'), input: { accountId: '444455556666' } }]);
  });

  it('a failed start leaves no claim behind; the retried delivery onboards the account', async () => {
    failStarts = 1;
    await expect(onAccountVended(generic(vended), deps)).rejects.toThrow('Step Functions is unavailable');
    expect(await db.stores.accounts.get('444455556666')).toBeNull();

    const retried = await onAccountVended(generic(vended), deps);
    expect(retried.outcome).toBe('started');
    expect(await db.stores.accounts.get('444455556666')).toMatchObject({ status: 'Onboarding', executionName: 'onboard--444455556666' });
    expect(starts).toHaveLength(1);
  });

  it('a duplicate whose first delivery lost its start repairs it (same name, same input)', async () => {
    await onAccountVended(generic(vended), deps);
    const again = await onAccountVended(generic(vended), deps);
    expect(again.outcome).toBe('duplicate');
    // The starter saw the same request twice; Step Functions (and the local runner) answer the existing execution.
    expect(starts.map((s) => s.name)).toEqual(['onboard--444455556666', 'onboard--444455556666']);
    expect(await audit('AccountVending.duplicate')).toHaveLength(1);
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
