/**
 * Versioned cluster plans. The head (PLAN / <id>) holds the latest revision number and a copy of that
 * revision's content, so `get` and `list` are single reads; each revision (PLAN#<id> / REV#nnnnnnnn) is
 * written once with `attribute_not_exists` and never updated. Head and revision change in one transaction,
 * the head guarded by its current revision number, so numbers are consecutive and no revision is lost.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ClusterPlan, ClusterPlanRevision, ClusterPlanSpec } from '../../domain/schemas.ts';
import { AlreadyExistsError, ConcurrentModificationError, NotFoundError } from '../../errors.ts';
import { keys } from '../keys.ts';
import type { Actor, ClusterPlanStore, Page, PageRequest } from '../ports.ts';
import { auditPut, backoff, type DynamoContext, type Item, queryPage, stripItem, TransactionCancelled, toPage, transact } from './common.ts';

/** Re-reads after losing the head to a concurrent addRevision before answering ConcurrentModificationError. */
const ADD_REVISION_ATTEMPTS = 5;

export class DynamoClusterPlanStore implements ClusterPlanStore {
  constructor(private readonly ctx: DynamoContext) {}

  async create(id: string, spec: ClusterPlanSpec, actor: Actor): Promise<ClusterPlan> {
    const now = this.ctx.now().toISOString();
    const content = specOnly(spec);
    const head: ClusterPlan = { ...content, id, revision: 1, createdAt: now, createdBy: actor.principal, updatedAt: now };
    const rev: ClusterPlanRevision = { ...content, planId: id, revision: 1, createdAt: now, createdBy: actor.principal };
    try {
      await transact(this.ctx, [
        { Put: { TableName: this.ctx.tableName, Item: headItem(head), ConditionExpression: 'attribute_not_exists(pk)' } },
        { Put: { TableName: this.ctx.tableName, Item: revisionItem(rev), ConditionExpression: 'attribute_not_exists(pk)' } },
        auditPut(this.ctx, { actor, action: 'ClusterPlan.create', resource: `cluster-plans/${id}`, detail: { revision: 1 } }),
      ]);
    } catch (err) {
      // A leftover revision 1 without a head cannot happen (both are written together), so either failure
      // means the id is taken.
      if (err instanceof TransactionCancelled && (err.failed(0) || err.failed(1))) {
        throw new AlreadyExistsError(`cluster plan "${id}" already exists`, { cause: err });
      }
      throw err;
    }
    return head;
  }

  async addRevision(id: string, spec: ClusterPlanSpec, actor: Actor): Promise<ClusterPlanRevision> {
    const content = specOnly(spec);
    for (let attempt = 1; ; attempt++) {
      const head = await this.get(id);
      if (!head) throw new NotFoundError(`cluster plan "${id}" not found`);
      const now = this.ctx.now().toISOString();
      const revision = head.revision + 1;
      const rev: ClusterPlanRevision = { ...content, planId: id, revision, createdAt: now, createdBy: actor.principal };
      const nextHead: ClusterPlan = { ...content, id, revision, createdAt: head.createdAt, createdBy: head.createdBy, updatedAt: now };
      try {
        await transact(this.ctx, [
          {
            // Put rather than `SET revision = revision + 1`: the head also carries the new content, and the
            // condition on the revision we read makes it the same compare-and-swap.
            Put: {
              TableName: this.ctx.tableName,
              Item: headItem(nextHead),
              ConditionExpression: 'attribute_exists(pk) AND #revision = :cur',
              ExpressionAttributeNames: { '#revision': 'revision' },
              ExpressionAttributeValues: { ':cur': head.revision },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          { Put: { TableName: this.ctx.tableName, Item: revisionItem(rev), ConditionExpression: 'attribute_not_exists(pk)' } },
          auditPut(this.ctx, { actor, action: 'ClusterPlan.addRevision', resource: `cluster-plans/${id}`, detail: { revision } }),
        ]);
        return rev;
      } catch (err) {
        if (!(err instanceof TransactionCancelled)) throw err;
        if (err.failed(0) && !err.oldItem(0)) throw new NotFoundError(`cluster plan "${id}" not found`, { cause: err });
        if (attempt >= ADD_REVISION_ATTEMPTS) {
          throw new ConcurrentModificationError(`cluster plan "${id}" is being revised concurrently; retry`, { cause: err });
        }
        await backoff(attempt);
      }
    }
  }

  async get(id: string): Promise<ClusterPlan | null> {
    const out = await this.ctx.client.send(new GetCommand({ TableName: this.ctx.tableName, Key: keys.clusterPlan(id), ConsistentRead: true }));
    return out.Item ? stripItem<ClusterPlan>(out.Item) : null;
  }

  async list(page?: PageRequest): Promise<Page<ClusterPlan>> {
    const result = await queryPage(this.ctx, { partition: { name: 'pk', value: keys.clusterPlans().pk } }, page);
    return toPage(result, (i) => stripItem<ClusterPlan>(i));
  }

  async getRevision(id: string, revision: number): Promise<ClusterPlanRevision | null> {
    if (!Number.isInteger(revision) || revision < 1 || revision > 99_999_999) return null;
    const out = await this.ctx.client.send(
      new GetCommand({ TableName: this.ctx.tableName, Key: keys.clusterPlanRevision(id, revision), ConsistentRead: true }),
    );
    return out.Item ? stripItem<ClusterPlanRevision>(out.Item) : null;
  }

  async listRevisions(id: string, page?: PageRequest): Promise<Page<ClusterPlanRevision>> {
    const k = keys.clusterPlanRevisions(id);
    const result = await queryPage(
      this.ctx,
      { partition: { name: 'pk', value: k.pk }, sortPrefix: { name: 'sk', value: k.skPrefix } },
      page,
    );
    return toPage(result, (i) => stripItem<ClusterPlanRevision>(i));
  }
}

/** Keeps only the spec fields (callers may pass a parsed body that still has `id`). */
function specOnly(spec: ClusterPlanSpec): ClusterPlanSpec {
  const { id: _id, ...rest } = spec as ClusterPlanSpec & { id?: string };
  return rest;
}

function headItem(head: ClusterPlan): Item {
  return { ...keys.clusterPlan(head.id), entity: 'ClusterPlan', ...head };
}

function revisionItem(rev: ClusterPlanRevision): Item {
  return { ...keys.clusterPlanRevision(rev.planId, rev.revision), entity: 'ClusterPlanRevision', ...rev };
}
