/**
 * Account vending's trigger: the EventBridge target of both vending rules — Control Tower's
 * `CreateManagedAccount` (default bus) and the generic `Account Vended` (Slipway bus). It turns the event into
 * one `Account Vended` detail, finds the first onboarding rule that matches, claims the account (one record
 * per account: the exactly-once decision) and starts onboard-account under a deterministic execution name.
 *
 * An event for an account whose onboarding Failed (and was undone) starts its next attempt, with the rule that
 * matches now (an admin may have fixed it, or the role may exist by now): the record moves from Failed to
 * Onboarding with `attempt + 1` in one conditional write, and the execution name carries the attempt, so
 * duplicate or simultaneous events still give one onboarding per attempt (shared/onboarding/retry.ts, which
 * `POST /v1/accounts/{accountId}/retry` shares). An onboarding in progress or
 * Onboarded de-duplicates as before.
 *
 * A failed vending, an event that is not what the rules promise, or an account no rule matches is ignored
 * and audited, never thrown: throwing would only make EventBridge retry it into the dead-letter queue.
 * Errors that may pass (store, Step Functions) are thrown, so EventBridge retries the delivery.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EventsEnv, parseEnv } from '../../shared/config/env.ts';
import { DetailType } from '../../shared/events/constants.ts';
import { accountVendedFromControlTower, parseControlTowerCreateManagedAccount } from '../../shared/events/controltower.ts';
import { CONTROL_TOWER } from '../../shared/events/patterns.ts';
import { type AccountVendedDetail, parseDetail } from '../../shared/events/schemas.ts';
import type { OnboardedAccount, OnboardingRule } from '../../shared/domain/onboarding.ts';
import { createLogger, type Logger } from '../../shared/log.ts';
import { onboardingExecutionName, retryFacts, retryFailedOnboarding, startOnboarding } from '../../shared/onboarding/retry.ts';
import { cloudAccessIdFor, firstMatchingRule } from '../../shared/onboarding/rules.ts';
import { createDynamoStores } from '../../shared/store/dynamo/index.ts';
import { listAll } from '../../shared/store/paging.ts';
import type { Stores } from '../../shared/store/ports.ts';
import { SfnWorkflowStarter, type WorkflowStarter } from '../../shared/workflow/starter.ts';

export type VendingEvent = EventBridgeEvent<string, unknown>;

export interface VendingDeps {
  stores: Stores;
  workflows: WorkflowStarter;
  clock: () => Date;
  log: Logger;
}

export interface VendingOutcome {
  /** `retried`: the account's onboarding had Failed; this event started its next attempt. */
  outcome: 'started' | 'retried' | 'duplicate' | 'ignored';
  accountId?: string;
  ruleId?: string;
  attempt?: number;
  executionName?: string;
  reason?: string;
}

/** Who the trigger acts as in the audit trail. */
export const VENDING_ACTOR = { principal: 'system:account-vending' };

/** Re-exported from shared/onboarding/retry.ts, where both ways of starting an attempt name it. */
export { onboardingExecutionName };

export const makeHandler = (deps: () => VendingDeps) => {
  let built: VendingDeps | undefined;
  return async (event: VendingEvent): Promise<VendingOutcome> => {
    built ??= deps();
    const outcome = await onAccountVended(event, built);
    built.log.info('account vending event', { eventId: event.id, source: event.source, ...outcome });
    return outcome;
  };
};

export async function onAccountVended(event: VendingEvent, d: VendingDeps): Promise<VendingOutcome> {
  const trigger = { source: String(event.source), detailType: String(event['detail-type']), eventId: String(event.id) };
  const parsed = vendedDetail(event);
  if ('ignored' in parsed) return ignore(d, trigger, parsed.ignored, parsed.accountId);
  const vended = parsed.detail;

  const rules = await listAll((page) => d.stores.onboardingRules.list(page));
  const rule = firstMatchingRule(rules, vended);
  if (!rule) {
    const ou = vended.organizationalUnit.name ?? vended.organizationalUnit.id ?? 'no OU';
    return ignore(d, trigger, `no onboarding rule matches account ${vended.accountName} (${ou})`, vended.accountId);
  }

  const name = onboardingExecutionName(vended.accountId, 1);
  const { account, claimed } = await d.stores.accounts.claim(
    {
      ...accountFacts(vended, rule, trigger),
      status: 'Onboarding',
      attempt: 1,
      executionName: name,
      cloudAccessId: cloudAccessIdFor(vended.accountId),
      workspaceId: null,
      verification: null,
      baselineCluster: null,
      changes: { createdCloudAccess: false, createdWorkspace: false, attachedCloudAccess: false, addedMembers: [] },
      reason: null,
      failedStep: null,
      previousAttempts: [],
    },
    VENDING_ACTOR,
  );

  if (!claimed) return account.status === 'Failed' ? retryOnboarding(d, account, vended, rule, trigger) : duplicate(d, trigger, account);

  try {
    await startOnboarding(d.workflows, vended.accountId, name, 1);
  } catch (error) {
    // Leave no claim behind that nothing works on: EventBridge retries the delivery, which claims afresh.
    await d.stores.accounts.discardClaim(vended.accountId, name);
    throw error;
  }
  return { outcome: 'started', accountId: vended.accountId, ruleId: rule.id, attempt: 1, executionName: name };
}

/** The account's facts from the event, the rule that matched and the event itself, as the record keeps them. */
function accountFacts(vended: AccountVendedDetail, rule: OnboardingRule, trigger: OnboardedAccount['trigger']) {
  return {
    accountId: vended.accountId,
    accountName: vended.accountName,
    ...(vended.email === undefined ? {} : { email: vended.email }),
    organizationalUnit: vended.organizationalUnit,
    ...(vended.tags === undefined ? {} : { tags: vended.tags }),
    ruleId: rule.id,
    ruleVersion: rule.version,
    rule,
    trigger,
  };
}

/** The account's onboarding Failed: this event starts its next attempt (unless a simultaneous one just did). */
async function retryOnboarding(d: VendingDeps, failed: OnboardedAccount, vended: AccountVendedDetail, rule: OnboardingRule, trigger: OnboardedAccount['trigger']): Promise<VendingOutcome> {
  // A failed start is compensated and rethrown: EventBridge's retry of the delivery tries again.
  const outcome = await retryFailedOnboarding(d, failed, retryFacts(vended, rule, trigger), VENDING_ACTOR);
  // Someone else changed the record since it was read: a simultaneous event started the attempt, most likely.
  if (!outcome.retried) return duplicate(d, trigger, outcome.account);
  return { outcome: 'retried', accountId: outcome.account.accountId, ruleId: outcome.account.ruleId, attempt: outcome.attempt, executionName: outcome.executionName };
}

/** The account is being onboarded (this attempt already started) or is onboarded: audited, nothing new starts. */
async function duplicate(d: VendingDeps, trigger: OnboardedAccount['trigger'], account: OnboardedAccount): Promise<VendingOutcome> {
  await d.stores.audit.append({
    actor: VENDING_ACTOR.principal,
    action: 'AccountVending.duplicate',
    resource: `accounts/${account.accountId}`,
    detail: { ...trigger, status: account.status, attempt: account.attempt, executionName: account.executionName },
  });
  // The delivery that claimed this attempt may have lost its start: starting again under the same name and input
  // is a no-op when it did not, and repairs it when it did.
  if (account.status === 'Onboarding') await startOnboarding(d.workflows, account.accountId, account.executionName, account.attempt);
  return { outcome: 'duplicate', accountId: account.accountId, ruleId: account.ruleId, attempt: account.attempt, executionName: account.executionName };
}

/** The event as one `Account Vended` detail, or why it is ignored. */
function vendedDetail(event: VendingEvent): { detail: AccountVendedDetail } | { ignored: string; accountId?: string } {
  if (event.source === CONTROL_TOWER.source) {
    try {
      const ct = parseControlTowerCreateManagedAccount(event);
      if (!ct.succeeded) return { ignored: `Control Tower vending ${ct.state}${ct.message ? `: ${ct.message}` : ''}`, accountId: ct.accountId };
      return { detail: accountVendedFromControlTower(ct) };
    } catch (err) {
      return { ignored: err instanceof Error ? err.message : String(err) };
    }
  }
  if (event['detail-type'] === DetailType.AccountVended) {
    try {
      return { detail: parseDetail(DetailType.AccountVended, event.detail) };
    } catch (err) {
      return { ignored: err instanceof Error ? err.message : String(err) };
    }
  }
  return { ignored: `not an account-vending event (${event.source} / ${event['detail-type']})` };
}

async function ignore(d: VendingDeps, trigger: { source: string; detailType: string; eventId: string }, reason: string, accountId?: string): Promise<VendingOutcome> {
  await d.stores.audit.append({
    actor: VENDING_ACTOR.principal,
    action: 'AccountVending.ignored',
    resource: accountId === undefined ? `events/${trigger.eventId}` : `accounts/${accountId}`,
    detail: { ...trigger, reason },
  });
  return { outcome: 'ignored', ...(accountId === undefined ? {} : { accountId }), reason };
}

export function awsVendingDeps(): VendingDeps {
  const env = parseEnv(EventsEnv);
  const ddb = new DynamoDBClient(env.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB } : {});
  return {
    stores: createDynamoStores({ client: DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), tableName: env.SLIPWAY_TABLE_NAME }),
    workflows: new SfnWorkflowStarter(new SFNClient({}), { 'onboard-account': env.SLIPWAY_ONBOARD_STATE_MACHINE_ARN }),
    clock: () => new Date(),
    log: createLogger({ component: 'account-vending' }),
  };
}

export const handler = makeHandler(awsVendingDeps);
