/**
 * Account vending's items: onboarding rules (a config collection like the others) and onboarded accounts
 * (one item per AWS account in one partition; the conditional put of `claim` is what makes onboarding
 * exactly-once per account, whatever the number of duplicate events).
 */
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { OnboardedAccount, OnboardingRule } from '../../domain/onboarding.ts';
import { ConcurrentModificationError, NotFoundError } from '../../errors.ts';
import { keys } from '../keys.ts';
import type { AccountPatch, AccountStore, Actor, NewOnboardedAccount, NewOnboardingRule, OnboardingRuleStore, Page, PageRequest } from '../ports.ts';
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

  async get(accountId: string): Promise<OnboardedAccount | null> {
    const out = await this.ctx.client.send(new GetCommand({ TableName: this.ctx.tableName, Key: keys.account(accountId), ConsistentRead: true }));
    return out.Item ? stripItem<OnboardedAccount>(out.Item) : null;
  }

  async load(accountId: string): Promise<OnboardedAccount> {
    const found = await this.get(accountId);
    if (!found) throw new NotFoundError(`account ${accountId} not found`);
    return found;
  }

  async list(page?: PageRequest): Promise<Page<OnboardedAccount>> {
    const result = await queryPage(this.ctx, { partition: { name: 'pk', value: keys.accounts().pk } }, page);
    return toPage(result, (i) => stripItem<OnboardedAccount>(i));
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
      return stripItem<OnboardedAccount>(out.Attributes);
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      if (!err.Item) throw new NotFoundError(`account ${accountId} not found`, { cause: err });
      throw new ConcurrentModificationError(`account ${accountId} was modified concurrently (expected version ${expectedVersion})`, { cause: err });
    }
  }
}
