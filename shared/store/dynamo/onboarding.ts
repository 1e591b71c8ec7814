/**
 * Account vending's items: onboarding rules (a config collection like the others) and onboarded accounts
 * (one item per AWS account in one partition; the conditional put of `claim` is what makes onboarding
 * exactly-once per account, whatever the number of duplicate events).
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type OnboardedAccount, type OnboardingRule, PREVIOUS_ATTEMPTS_KEPT } from '../../domain/onboarding.ts';
import { ConcurrentModificationError, NotFoundError } from '../../errors.ts';
import { keys } from '../keys.ts';
import type { AccountPatch, AccountRetry, AccountStore, Actor, NewOnboardedAccount, NewOnboardingRule, OnboardingRuleStore, Page, PageRequest } from '../ports.ts';
import {
  auditPut,
  type DynamoContext,
  type Item,
  isConditionalCheckFailed,
  queryPage,
  stripItem,
  TransactionCancelled,
  toPage,
  transact,
} from './common.ts';
import { DynamoConfigCollection } from './config-collection.ts';

export class DynamoOnboardingRuleStore extends DynamoConfigCollection<OnboardingRule, NewOnboardingRule> implements OnboardingRuleStore {
  constructor(ctx: DynamoContext) {
    super(ctx, {
      entity: 'OnboardingRule',
      resource: 'onboarding-rules',
      label: 'onboarding rule',
      key: keys.onboardingRule,
      partition: keys.onboardingRules,
      hasUpdatedAt: true,
    });
  }
}

export class DynamoAccountStore implements AccountStore {
  constructor(private readonly ctx: DynamoContext) {}

  async claim(account: NewOnboardedAccount, actor: Actor): Promise<{ account: OnboardedAccount; claimed: boolean }> {
    const now = this.ctx.now().toISOString();
    const record: OnboardedAccount = { ...account, createdAt: now, updatedAt: now, version: 1 };
    try {
      await transact(this.ctx, [
        {
          Put: {
            TableName: this.ctx.tableName,
            Item: { ...keys.account(account.accountId), entity: 'Account', ...record },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        auditPut(this.ctx, {
          actor,
          action: 'Account.claim',
          resource: `accounts/${account.accountId}`,
          detail: { ruleId: account.ruleId, executionName: account.executionName, eventId: account.trigger.eventId },
        }),
      ]);
      return { account: record, claimed: true };
    } catch (err) {
      if (!(err instanceof TransactionCancelled && err.failed(0))) throw err;
      return { account: await this.load(account.accountId), claimed: false };
    }
  }

  async discardClaim(accountId: string, executionName: string): Promise<void> {
    try {
      await this.ctx.client.send(
        new DeleteCommand({
          TableName: this.ctx.tableName,
          Key: keys.account(accountId),
          ConditionExpression: '#e = :e AND #s = :s',
          ExpressionAttributeNames: { '#e': 'executionName', '#s': 'status' },
          ExpressionAttributeValues: { ':e': executionName, ':s': 'Onboarding' },
        }),
      );
    } catch (err) {
      // Gone already, or it moved on (another delivery started it): nothing to undo.
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  async retry(failed: OnboardedAccount, next: AccountRetry, actor: Actor): Promise<{ account: OnboardedAccount; retried: boolean }> {
    const now = this.ctx.now().toISOString();
    const previous = {
      attempt: failed.attempt,
      executionName: failed.executionName,
      ruleId: failed.ruleId,
      eventId: failed.trigger.eventId,
      failedStep: failed.failedStep,
      reason: failed.reason,
      retriedAt: now,
    };
    const { email: _email, tags: _tags, ...kept } = failed;
    const record: OnboardedAccount = {
      ...kept,
      ...next,
      status: 'Onboarding',
      attempt: failed.attempt + 1,
      verification: null,
      reason: null,
      failedStep: null,
      previousAttempts: [...failed.previousAttempts, previous].slice(-PREVIOUS_ATTEMPTS_KEPT),
      updatedAt: now,
      version: failed.version + 1,
    };
    try {
      await transact(this.ctx, [
        {
          Put: {
            TableName: this.ctx.tableName,
            Item: { ...keys.account(failed.accountId), entity: 'Account', ...record },
            // Unchanged since read (every write bumps the version) and still Failed: one retry per failed attempt.
            ConditionExpression: '#version = :version AND #status = :failed',
            ExpressionAttributeNames: { '#version': 'version', '#status': 'status' },
            ExpressionAttributeValues: { ':version': failed.version, ':failed': 'Failed' },
          },
        },
        auditPut(this.ctx, {
          actor,
          action: 'Account.retry',
          resource: `accounts/${failed.accountId}`,
          detail: {
            attempt: record.attempt,
            executionName: record.executionName,
            ruleId: record.ruleId,
            eventId: record.trigger.eventId,
            previous: { attempt: previous.attempt, executionName: previous.executionName, failedStep: previous.failedStep, reason: previous.reason },
          },
        }),
      ]);
      return { account: record, retried: true };
    } catch (err) {
      if (!(err instanceof TransactionCancelled && err.failed(0))) throw err;
      return { account: await this.load(failed.accountId), retried: false };
    }
  }

  async revertRetry(failed: OnboardedAccount, executionName: string): Promise<void> {
    try {
      await this.ctx.client.send(
        new PutCommand({
          TableName: this.ctx.tableName,
          Item: { ...keys.account(failed.accountId), entity: 'Account', ...failed, updatedAt: this.ctx.now().toISOString(), version: failed.version + 2 },
          // Still the retry as written (no step has run): anything else means the attempt went ahead.
          ConditionExpression: '#e = :e AND #s = :s AND #version = :version',
          ExpressionAttributeNames: { '#e': 'executionName', '#s': 'status', '#version': 'version' },
          ExpressionAttributeValues: { ':e': executionName, ':s': 'Onboarding', ':version': failed.version + 1 },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  async get(accountId: string): Promise<OnboardedAccount | null> {
    const out = await this.ctx.client.send(new GetCommand({ TableName: this.ctx.tableName, Key: keys.account(accountId), ConsistentRead: true }));
    return out.Item ? accountOf(out.Item) : null;
  }

  async load(accountId: string): Promise<OnboardedAccount> {
    const found = await this.get(accountId);
    if (!found) throw new NotFoundError(`account ${accountId} not found`);
    return found;
  }

  async list(page?: PageRequest): Promise<Page<OnboardedAccount>> {
    const result = await queryPage(this.ctx, { partition: { name: 'pk', value: keys.accounts().pk } }, page);
    return toPage(result, accountOf);
  }

  async update(accountId: string, patch: AccountPatch, expectedVersion?: number): Promise<OnboardedAccount> {
    const names: Record<string, string> = { '#version': 'version', '#updatedAt': 'updatedAt' };
    const values: Item = { ':one': 1, ':now': this.ctx.now().toISOString() };
    const sets = Object.entries(patch)
      .filter(([, v]) => v !== undefined)
      .map(([k, v], i) => {
        names[`#f${i}`] = k;
        values[`:f${i}`] = v;
        return `#f${i} = :f${i}`;
      });
    let condition = 'attribute_exists(pk)';
    if (expectedVersion !== undefined) {
      condition += ' AND #version = :expected';
      values[':expected'] = expectedVersion;
    }
    try {
      const out = await this.ctx.client.send(
        new UpdateCommand({
          TableName: this.ctx.tableName,
          Key: keys.account(accountId),
          UpdateExpression: `SET ${[...sets, '#updatedAt = :now', '#version = #version + :one'].join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      if (!out.Attributes) throw new NotFoundError(`account ${accountId} not found`);
      return accountOf(out.Attributes);
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      if (!err.Item) throw new NotFoundError(`account ${accountId} not found`, { cause: err });
      throw new ConcurrentModificationError(`account ${accountId} was modified concurrently (expected version ${expectedVersion})`, { cause: err });
    }
  }
}

/** Records written before onboarding attempts were counted are their account's first attempt. */
function accountOf(item: Item): OnboardedAccount {
  const account: Partial<OnboardedAccount> & Omit<OnboardedAccount, 'attempt' | 'previousAttempts'> = stripItem<OnboardedAccount>(item);
  return { ...account, attempt: account.attempt ?? 1, previousAttempts: account.previousAttempts ?? [] };
}
