/**
 * The admin configuration collections (cloud accesses, network plans, compute templates, policies): one
 * partition per collection, optimistic locking on `version`, every write audited in its own transaction.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AlreadyExistsError, ConcurrentModificationError, NotFoundError } from '../../errors.ts';
import type { Actor, ConfigCollection, Page, PageRequest } from '../ports.ts';
import {
  auditPut,
  backoff,
  type DynamoContext,
  fromAttributeMap,
  type Item,
  onlyConflicts,
  queryPage,
  stripItem,
  TransactionCancelled,
  toPage,
  transact,
} from './common.ts';

export interface ConfigCollectionSpec<T> {
  /** Value of the `entity` attribute, also the audit action prefix (e.g. `NetworkPlan` → `NetworkPlan.create`). */
  entity: string;
  /** Resource path prefix for audit records, e.g. `network-plans`. */
  resource: string;
  key(id: string): { pk: string; sk: string };
  partition(): { pk: string };
  /** Whether the entity carries `updatedAt` (cloud accesses do not). */
  hasUpdatedAt: boolean;
  /** Extra index attributes derived from the entity (e.g. a policy's scope on gsi1). */
  indexKeys?(entity: T): Item;
  /** Human-readable name in error messages. */
  label: string;
}

/** How often a replace without `expectedVersion` re-reads after losing a race before giving up. */
const REPLACE_ATTEMPTS = 3;

export class DynamoConfigCollection<T extends { id: string; version: number }, New extends { id: string }> implements ConfigCollection<T, New> {
  constructor(
    protected readonly ctx: DynamoContext,
    protected readonly spec: ConfigCollectionSpec<T>,
  ) {}

  protected toItem(entity: T): Item {
    return { ...this.spec.key(entity.id), ...(this.spec.indexKeys?.(entity) ?? {}), entity: this.spec.entity, ...entity };
  }

  protected fromItem(item: Item): T {
    return stripItem<T>(item);
  }

  async create(item: New, actor: Actor): Promise<T> {
    const now = this.ctx.now().toISOString();
    const { version: _ignored, ...content } = item as New & { version?: number };
    const entity = {
      ...content,
      createdAt: now,
      createdBy: actor.principal,
      ...(this.spec.hasUpdatedAt ? { updatedAt: now } : {}),
      version: 1,
    } as unknown as T;
    try {
      await transact(this.ctx, [
        { Put: { TableName: this.ctx.tableName, Item: this.toItem(entity), ConditionExpression: 'attribute_not_exists(pk)' } },
        auditPut(this.ctx, { actor, action: `${this.spec.entity}.create`, resource: this.resourceOf(entity.id), detail: { version: 1 } }),
      ]);
    } catch (err) {
      if (err instanceof TransactionCancelled && err.failed(0)) {
        throw new AlreadyExistsError(`${this.spec.label} "${entity.id}" already exists`, { cause: err });
      }
      throw err;
    }
    return entity;
  }

  async get(id: string): Promise<T | null> {
    const out = await this.ctx.client.send(new GetCommand({ TableName: this.ctx.tableName, Key: this.spec.key(id), ConsistentRead: true }));
    return out.Item ? this.fromItem(out.Item) : null;
  }

  async load(id: string): Promise<T> {
    const found = await this.get(id);
    if (!found) throw this.notFound(id);
    return found;
  }

  async list(page?: PageRequest): Promise<Page<T>> {
    const result = await queryPage(this.ctx, { partition: { name: 'pk', value: this.spec.partition().pk } }, page);
    return toPage(result, (i) => this.fromItem(i));
  }

  async replace(id: string, content: New, actor: Actor, expectedVersion?: number): Promise<T> {
    const { version: _ignored, ...fields } = content as New & { version?: number };
    for (let attempt = 1; ; attempt++) {
      // Read first: the new item keeps createdAt/createdBy and we return exactly what was written.
      const current = await this.load(id);
      if (expectedVersion !== undefined && current.version !== expectedVersion) throw this.stale(id, expectedVersion, current.version);
      const next = {
        ...fields,
        id,
        createdAt: (current as unknown as { createdAt: string }).createdAt,
        createdBy: (current as unknown as { createdBy: string }).createdBy,
        ...(this.spec.hasUpdatedAt ? { updatedAt: this.ctx.now().toISOString() } : {}),
        version: current.version + 1,
      } as unknown as T;
      try {
        await transact(this.ctx, [
          {
            Put: {
              TableName: this.ctx.tableName,
              Item: this.toItem(next),
              ConditionExpression: 'attribute_exists(pk) AND #version = :v',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':v': current.version },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          auditPut(this.ctx, { actor, action: `${this.spec.entity}.replace`, resource: this.resourceOf(id), detail: { version: next.version } }),
        ]);
        return next;
      } catch (err) {
        if (!(err instanceof TransactionCancelled)) throw err;
        if (onlyConflicts(err)) throw this.stale(id, current.version, null, err);
        // ALL_OLD tells a deletion (no item) from a concurrent update (newer version) without another read.
        const old = err.oldItem(0);
        if (!old) throw this.notFound(id, err);
        const stored = fromAttributeMap(old).version;
        if (expectedVersion !== undefined || attempt >= REPLACE_ATTEMPTS) {
          throw this.stale(id, expectedVersion ?? current.version, typeof stored === 'number' ? stored : null, err);
        }
        await backoff(attempt);
      }
    }
  }

  async delete(id: string, actor: Actor): Promise<void> {
    try {
      await transact(this.ctx, [
        { Delete: { TableName: this.ctx.tableName, Key: this.spec.key(id), ConditionExpression: 'attribute_exists(pk)' } },
        auditPut(this.ctx, { actor, action: `${this.spec.entity}.delete`, resource: this.resourceOf(id) }),
      ]);
    } catch (err) {
      if (err instanceof TransactionCancelled && err.failed(0)) throw this.notFound(id, err);
      throw err;
    }
  }

  /** A system (non-admin) field update: bumps the version so stale admin replaces are refused. */
  protected async updateFields(id: string, fields: Record<string, unknown>): Promise<T> {
    const names: Record<string, string> = { '#version': 'version' };
    const values: Item = { ':one': 1 };
    const sets = Object.entries(fields).map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:f${i}`] = v;
      return `#f${i} = :f${i}`;
    });
    try {
      const out = await this.ctx.client.send(
        new UpdateCommand({
          TableName: this.ctx.tableName,
          Key: this.spec.key(id),
          UpdateExpression: `SET ${[...sets, '#version = #version + :one'].join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (!out.Attributes) throw this.notFound(id);
      return this.fromItem(out.Attributes);
    } catch (err) {
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') throw this.notFound(id, err);
      throw err;
    }
  }

  protected resourceOf(id: string): string {
    return `${this.spec.resource}/${id}`;
  }

  protected notFound(id: string, cause?: unknown): NotFoundError {
    return new NotFoundError(`${this.spec.label} "${id}" not found`, cause === undefined ? undefined : { cause });
  }

  protected stale(id: string, expected: number, actual: number | null, cause?: unknown): ConcurrentModificationError {
    const now = actual === null ? '' : ` (stored version is ${actual})`;
    return new ConcurrentModificationError(
      `${this.spec.label} "${id}" was modified concurrently: expected version ${expected}${now}`,
      cause === undefined ? undefined : { cause },
    );
  }
}
