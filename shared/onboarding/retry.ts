/**
 * Retrying a Failed onboarding — one function for both ways it is asked for: the vending event sent again
 * (functions/events/account-vended.ts) and an admin's `POST /v1/accounts/{accountId}/retry`
 * (functions/api/accounts.ts). The record moves from Failed to Onboarding with `attempt + 1` in one
 * conditional write (audited as `Account.retry` with the asker as actor), then onboard-account starts under
 * `onboard--<account>--a<attempt>`; when the start fails the record is put back to Failed, so nothing is left
 * claimed that no execution works on.
 */
import type { OnboardedAccount, OnboardingRule } from '../domain/onboarding.ts';
import { ConcurrentModificationError } from '../errors.ts';
import type { AccountRetry, Actor, Stores } from '../store/ports.ts';
import { WorkflowId } from '../workflow/names.ts';
import { executionName, type WorkflowStarter } from '../workflow/starter.ts';
import type { VendedAccount } from './rules.ts';

export interface OnboardingRetryDeps {
  stores: Pick<Stores, 'accounts'>;
  workflows: WorkflowStarter;
}

/** What the next attempt takes from whoever asked: the account's facts, the rule that matches now, the trigger. */
export type RetryFacts = Omit<AccountRetry, 'executionName'>;

export type RetryOutcome =
  | { retried: true; account: OnboardedAccount; attempt: number; executionName: string }
  /** Someone else moved the record on (a simultaneous retry, most likely): `account` as it is now, not Failed. */
  | { retried: false; account: OnboardedAccount };

/** One execution per attempt at onboarding an account: the name depends on the account and the attempt alone. */
export const onboardingExecutionName = (accountId: string, attempt: number): string => executionName(['onboard', accountId, `a${attempt}`]);

/** Simultaneous retries re-read and decide again; more losses than this in a row are not a race any more. */
const RETRY_CLAIM_ATTEMPTS = 3;

export function startOnboarding(workflows: WorkflowStarter, accountId: string, name: string, attempt: number): Promise<unknown> {
  return workflows.start({ workflow: WorkflowId.onboardAccount, name, input: { accountId, attempt } });
}

/**
 * Starts the next attempt of `failed` (status Failed, as read). Of simultaneous callers exactly one gets
 * `retried: true` and starts the execution; the others get the record as it is now. A start that fails is
 * compensated (the Failed record put back) and rethrown.
 */
export async function retryFailedOnboarding(d: OnboardingRetryDeps, failed: OnboardedAccount, facts: RetryFacts, actor: Actor): Promise<RetryOutcome> {
  let current = failed;
  for (let round = 1; round <= RETRY_CLAIM_ATTEMPTS; round++) {
    const attempt = current.attempt + 1;
    const name = onboardingExecutionName(current.accountId, attempt);
    const { account, retried } = await d.stores.accounts.retry(current, { ...facts, executionName: name }, actor);
    if (retried) {
      try {
        await startOnboarding(d.workflows, account.accountId, name, attempt);
      } catch (error) {
        // Put the Failed record back: the asker's own retry (EventBridge's redelivery, the admin again) claims afresh.
        await d.stores.accounts.revertRetry(current, name);
        throw error;
      }
      return { retried: true, account, attempt, executionName: name };
    }
    if (account.status !== 'Failed') return { retried: false, account };
    current = account;
  }
  throw new ConcurrentModificationError(`account ${failed.accountId} keeps changing while its onboarding is retried`);
}

/** The facts rules match on, from an account's record (an admin's retry has no event to take them from). */
export function vendedAccountOf(account: OnboardedAccount): VendedAccount {
  return {
    accountId: account.accountId,
    accountName: account.accountName,
    ...(account.email === undefined ? {} : { email: account.email }),
    organizationalUnit: account.organizationalUnit,
    ...(account.tags === undefined ? {} : { tags: account.tags }),
  };
}

/** The record's facts for a new attempt under `rule`, asked for by `trigger`. */
export function retryFacts(account: VendedAccount, rule: OnboardingRule, trigger: OnboardedAccount['trigger']): RetryFacts {
  return {
    accountName: account.accountName,
    ...(account.email === undefined ? {} : { email: account.email }),
    organizationalUnit: account.organizationalUnit,
    ...(account.tags === undefined ? {} : { tags: account.tags }),
    ruleId: rule.id,
    ruleVersion: rule.version,
    rule,
    trigger,
  };
}
