/**
 * The access-revocation outbox (keys.revocation). Items are written only by the workspace store, inside the
 * membership change's own transaction (`revocationPut`), so a removal is never recorded without its
 * revocation; the processor reads them with one Query, records each cluster it handled and deletes the item
 * when none is left.
 */
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../keys.ts';
import type { AccessRevocation, Actor, Page, PageRequest, RevocationReason, RevocationStore } from '../ports.ts';
import { type DynamoContext, type Item, isConditionalCheckFailed, queryPage, sortableId, stripItem, type TransactItem, toPage } from './common.ts';

/** The Put of a new revocation, for the transaction of the membership change that calls for it. */
export function revocationPut(ctx: DynamoContext, input: { workspaceId: string; principal: string; reason: RevocationReason; actor: Actor }): TransactItem {
  const now = ctx.now();
  const at = now.toISOString();
  const id = `${at}#${sortableId(now)}`;
  return {
    Put: {
      TableName: ctx.tableName,
      Item: {
        ...keys.revocation(id),
        entity: 'AccessRevocation',
        id,
        workspaceId: input.workspaceId,
        principal: input.principal,
        reason: input.reason,
        at,
        actor: input.actor.principal,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

export class DynamoRevocationStore implements RevocationStore {
  constructor(private readonly ctx: DynamoContext) {}

  async listPending(page?: PageRequest): Promise<Page<AccessRevocation>> {
    const result = await queryPage(this.ctx, { partition: { name: 'pk', value: keys.revocations().pk } }, page);
    return toPage(result, toRevocation);
  }

  async markClusterDone(id: string, clusterUid: string): Promise<void> {
    try {
      await this.ctx.client.send(
        new UpdateCommand({
          TableName: this.ctx.tableName,
          Key: keys.revocation(id),
          UpdateExpression: 'ADD doneClusters :uid',
          // Never resurrect a completed revocation as a fragment.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':uid': new Set([clusterUid]) },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  async complete(id: string): Promise<void> {
    await this.ctx.client.send(new DeleteCommand({ TableName: this.ctx.tableName, Key: keys.revocation(id) }));
  }
}

function toRevocation(item: Item): AccessRevocation {
  const { doneClusters, ...rest } = stripItem<Omit<AccessRevocation, 'doneClusters'> & { doneClusters?: Set<string> }>(item);
  return { ...rest, doneClusters: [...(doneClusters ?? [])].sort() };
}
