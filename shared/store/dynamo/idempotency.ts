/**
 * Idempotency keys per principal. A claim is a conditional Put; a record whose `ttl` has passed counts as
 * absent even before DynamoDB's (lazy, up to days late) TTL deletion removes it.
 */
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../../errors.ts';
import { keys } from '../keys.ts';
import type { IdempotencyRecord, IdempotencyStore } from '../ports.ts';
import { type DynamoContext, fromAttributeMap, isConditionalCheckFailed } from './common.ts';

export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(private readonly ctx: DynamoContext) {}

  async claim(principal: string, key: string, requestHash: string): Promise<IdempotencyRecord | null> {
    const nowSeconds = Math.floor(this.ctx.now().getTime() / 1000);
    try {
      await this.ctx.client.send(
        new PutCommand({
          TableName: this.ctx.tableName,
          Item: {
            ...keys.idempotency(principal, key),
            entity: 'Idempotency',
            requestHash,
            state: 'in-progress',
            createdAt: this.ctx.now().toISOString(),
            ttl: nowSeconds + IDEMPOTENCY_TTL_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': nowSeconds },
          // The existing record comes back with the failure: no second read to replay or refuse.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return null;
    } catch (err) {
      if (!isConditionalCheckFailed(err) || !err.Item) throw err;
      const old = fromAttributeMap(err.Item);
      const record: IdempotencyRecord = { requestHash: String(old.requestHash), state: old.state === 'done' ? 'done' : 'in-progress' };
      if (old.response !== undefined) record.response = old.response as NonNullable<IdempotencyRecord['response']>;
      return record;
    }
  }

  async complete(principal: string, key: string, response: NonNullable<IdempotencyRecord['response']>): Promise<void> {
    try {
      await this.ctx.client.send(
        new UpdateCommand({
          TableName: this.ctx.tableName,
          Key: keys.idempotency(principal, key),
          UpdateExpression: 'SET #state = :done, #response = :response',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
          ExpressionAttributeValues: { ':done': 'done', ':response': response },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new NotFoundError(`idempotency key "${key}" is not claimed`, { cause: err });
      throw err;
    }
  }

  async release(principal: string, key: string): Promise<void> {
    try {
      await this.ctx.client.send(
        new DeleteCommand({
          TableName: this.ctx.tableName,
          Key: keys.idempotency(principal, key),
          // Only an unfinished claim: a completed response must keep replaying.
          ConditionExpression: '#state = :inProgress',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':inProgress': 'in-progress' },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }
}
