/**
 * /v1/accounts — vended AWS accounts and how their onboarding went (lists summarise). Admins only. The one
 * write is `POST …/retry`: the next attempt of a Failed onboarding, exactly as the vending event sent again
 * would start it (shared/onboarding/retry.ts).
 */
import { requireAdmin } from '../../shared/auth/authorize.ts';
import { summariseAccount } from '../../shared/domain/onboarding.ts';
import { AwsAccountId } from '../../shared/domain/schemas.ts';
import { NotFoundError, SlipwayError, ValidationError } from '../../shared/errors.ts';
import { accepted, ok, pageParams, parseWith, type Route, routeGroup } from '../../shared/http/api.ts';
import { retryFacts, retryFailedOnboarding, vendedAccountOf } from '../../shared/onboarding/retry.ts';
import { firstMatchingRule } from '../../shared/onboarding/rules.ts';
import { listAll } from '../../shared/store/paging.ts';
import { type ApiDeps, awsAccountsApiDeps } from './deps.ts';

/** The onboarding is not Failed (in progress or Onboarded): there is nothing to retry. */
export class OnboardingNotRetryableError extends SlipwayError {
  override readonly name = 'OnboardingNotRetryableError';
  readonly status = 409;
  readonly problemType = 'onboarding-not-retryable';
  readonly title = 'Only a Failed onboarding can be retried';
}

/** No enabled onboarding rule matches the account any more: a retry would have nothing to onboard it by. */
export class NoMatchingOnboardingRuleError extends SlipwayError {
  override readonly name = 'NoMatchingOnboardingRuleError';
  readonly status = 409;
  readonly problemType = 'no-matching-onboarding-rule';
  readonly title = 'No onboarding rule matches the account';
}

/** The trigger an admin's retry records on the account (where a vending event records its own). */
export const ADMIN_RETRY_SOURCE = 'slipway.api';
export const ADMIN_RETRY_DETAIL_TYPE = 'Account Retry Requested';

export const accountRoutes: Record<string, Route<ApiDeps>> = {
  'GET /v1/accounts': async (req, deps) => {
    requireAdmin(req.caller);
    const page = await deps.stores.accounts.list(pageParams(req.query));
    return ok({ items: page.items.map(summariseAccount), nextToken: page.nextToken });
  },
  'GET /v1/accounts/{accountId}': async (req, deps) => {
    requireAdmin(req.caller);
    const accountId = parseWith(AwsAccountId, req.params.accountId, 'accountId');
    const account = await deps.stores.accounts.get(accountId);
    if (!account) throw new NotFoundError(`account ${accountId} not found`);
    return ok(account);
  },
  'POST /v1/accounts/{accountId}/retry': async (req, deps) => {
    requireAdmin(req.caller);
    const accountId = parseWith(AwsAccountId, req.params.accountId, 'accountId');
    // The retry takes the rule that matches now, as the vending event does: there is nothing to choose.
    if (req.body !== undefined) throw new ValidationError('this route takes no body: the retry uses the onboarding rule that matches the account now');
    const failed = await deps.stores.accounts.get(accountId);
    if (!failed) throw new NotFoundError(`account ${accountId} not found`);
    if (failed.status !== 'Failed') throw notRetryable(failed.accountId, failed.status, failed.attempt);

    const account = vendedAccountOf(failed);
    const rule = firstMatchingRule(await listAll((page) => deps.stores.onboardingRules.list(page)), account);
    if (!rule) {
      const ou = account.organizationalUnit.name ?? account.organizationalUnit.id ?? 'no OU';
      throw new NoMatchingOnboardingRuleError(`no enabled onboarding rule matches account ${account.accountName} (${ou}): add or fix one, then retry`);
    }
    const trigger = { source: ADMIN_RETRY_SOURCE, detailType: ADMIN_RETRY_DETAIL_TYPE, eventId: req.requestId };
    const outcome = await retryFailedOnboarding(deps, failed, retryFacts(account, rule, trigger), { principal: req.caller.principal });
    // A simultaneous retry (an admin's or the vending event's) won: this one changes nothing.
    if (!outcome.retried) throw notRetryable(outcome.account.accountId, outcome.account.status, outcome.account.attempt);
    return accepted(outcome.account, `/v1/accounts/${accountId}`);
  },
};

function notRetryable(accountId: string, status: string, attempt: number): OnboardingNotRetryableError {
  const what = status === 'Onboarding' ? `attempt ${attempt} is in progress` : `it is ${status}`;
  return new OnboardingNotRetryableError(`account ${accountId} cannot be retried: ${what}; only a Failed onboarding can be retried`);
}

export const makeHandler = (deps: () => ApiDeps) => routeGroup(accountRoutes, deps);
export const handler = makeHandler(awsAccountsApiDeps);
