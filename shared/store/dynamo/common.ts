/**
 * Plumbing shared by the DynamoDB adapters: the context they run in, item ↔ entity mapping, transactions
 * with typed cancellation reasons, audit items and Query-based pagination with validated tokens.
 */
import { randomBytes } from 'node:crypto';
import type { AttributeValue, CancellationReason } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  type NativeAttributeValue,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../errors.ts';
import { keys } from '../keys.ts';
import type { Actor, Page, PageRequest } from '../ports.ts';

export type Item = Record<string, NativeAttributeValue>;
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface DynamoContext {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** The clock; injectable so tests can place records in time. */
  now: () => Date;
}

/** Attributes that exist for the table's sake and never leave the adapter. */
const STORAGE_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'entity', 'ttl'] as const;

/** Drops key/index/bookkeeping attributes (plus `extra` adapter-internal ones) from a stored item. */
export function stripItem<T>(item: Item, extra: readonly string[] = []): T {
  const out: Item = { ...item };
  for (const k of STORAGE_ATTRIBUTES) delete out[k];
  for (const k of extra) delete out[k];
  return out as T;
}

// ---------- time and ids ----------

let lastIdTime = 0;
let lastIdSeq = 0;

/**
 * A ULID-like id: 12 hex digits of milliseconds, a per-process sequence and randomness. Sorts by creation
 * within one process even inside a millisecond; the random tail keeps ids of concurrent writers distinct.
 */
export function sortableId(now: Date): string {
  const t = now.getTime();
  if (t > lastIdTime) {
    lastIdTime = t;
    lastIdSeq = 0;
  } else {
    lastIdSeq += 1;
  }
  return `${lastIdTime.toString(16).padStart(12, '0')}${lastIdSeq.toString(16).padStart(6, '0')}${randomBytes(5).toString('hex')}`;
}

/** Money in the store is kept to the cent so that sums and limit checks in DynamoDB stay exact. */
export function toCents(usd: number): number {
  return Math.round(usd * 100);
}

export function fromCents(cents: number): number {
  return cents / 100;
}

// ---------- audit ----------

export interface AuditEntry {
  actor: Actor;
  action: string;
  resource: string;
  detail?: Record<string, unknown>;
}

/** The Put of an audit record, to be placed in the same transaction as the write it describes. */
export function auditPut(ctx: DynamoContext, entry: AuditEntry): TransactItem {
  const at = ctx.now().toISOString();
  return {
    Put: {
      TableName: ctx.tableName,
      Item: {
        ...keys.audit(at, sortableId(ctx.now())),
        entity: 'Audit',
        at,
        actor: entry.actor.principal,
        action: entry.action,
        resource: entry.resource,
        detail: entry.detail,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

// ---------- transactions ----------

/** A transaction was cancelled for a reason other than a transient conflict; `reasons` align with the items. */
export class TransactionCancelled extends Error {
  override readonly name = 'TransactionCancelled';
  constructor(readonly reasons: readonly CancellationReason[], cause: unknown) {
    super(`transaction cancelled: ${reasons.map((r) => r.Code ?? 'None').join(', ')}`, { cause });
  }

  failed(index: number): boolean {
    return this.reasons[index]?.Code === 'ConditionalCheckFailed';
  }

  /** The item as it was when the condition failed (needs `ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`). */
  oldItem(index: number): Record<string, AttributeValue> | undefined {
    return this.reasons[index]?.Item;
  }
}

const TRANSIENT_CODES = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

/**
 * Runs TransactWriteItems. Cancellations caused only by concurrent transactions on the same items
 * (`TransactionConflict`) are retried with jittered backoff — they say nothing about the conditions. Any
 * other cancellation surfaces as TransactionCancelled for the caller to map to a domain error.
 */
export async function transact(ctx: DynamoContext, items: TransactItem[], attempts = 8): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.client.send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const reasons = err.CancellationReasons ?? [];
      const transient = reasons.some((r) => TRANSIENT_CODES.has(r.Code ?? '')) && reasons.every((r) => r.Code === 'None' || TRANSIENT_CODES.has(r.Code ?? ''));
      if (!transient || attempt >= attempts) throw new TransactionCancelled(reasons, err);
      await backoff(attempt);
    }
  }
}

/** True when every reason is a transient conflict (exhausted retries), not a failed condition. */
export function onlyConflicts(err: TransactionCancelled): boolean {
  return err.reasons.every((r) => r.Code === 'None' || TRANSIENT_CODES.has(r.Code ?? ''));
}

export function backoff(attempt: number): Promise<void> {
  const ms = Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());
  return new Promise((r) => setTimeout(r, ms));
}

export function isConditionalCheckFailed(err: unknown): err is ConditionalCheckFailedException {
  return err instanceof ConditionalCheckFailedException;
}

// ---------- raw attribute values (errors are not unmarshalled by the DocumentClient) ----------

/** Converts a raw AttributeValue map (as in cancellation reasons) to plain JS. */
export function fromAttributeMap(item: Record<string, AttributeValue>): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) out[k] = fromAttribute(v);
  return out;
}

function fromAttribute(v: AttributeValue): NativeAttributeValue {
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return Number(v.N);
  if (v.BOOL !== undefined) return v.BOOL;
  if (v.NULL !== undefined) return null;
  if (v.M !== undefined) return fromAttributeMap(v.M);
  if (v.L !== undefined) return v.L.map(fromAttribute);
  if (v.SS !== undefined) return new Set(v.SS);
  if (v.NS !== undefined) return new Set(v.NS.map(Number));
  if (v.B !== undefined) return v.B;
  return undefined;
}

// ---------- pagination ----------

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export function pageSize(page: PageRequest | undefined): number {
  const limit = page?.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`, {
      errors: [{ field: 'limit', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}` }],
    });
  }
  return limit;
}

/** What a list reads: the partition (table or index) and, for shared partitions, the sort-key prefix. */
export interface ListScope {
  index?: 'gsi1' | 'gsi2';
  /** The partition key attribute and value (pk, gsi1pk or gsi2pk). */
  partition: { name: string; value: string };
  /** Sort key attribute and required prefix, when the list is a slice of a partition. */
  sortPrefix?: { name: string; value: string };
  /** Extra key conditions (e.g. `gsi2sk < :now`), with their values. */
  sortCondition?: { expression: string; values: Item };
  ascending?: boolean;
}

function keyAttributes(scope: ListScope): string[] {
  if (scope.index === 'gsi1') return ['pk', 'sk', 'gsi1pk', 'gsi1sk'];
  if (scope.index === 'gsi2') return ['pk', 'sk', 'gsi2pk', 'gsi2sk'];
  return ['pk', 'sk'];
}

function invalidToken(): ValidationError {
  return new ValidationError('invalid nextToken', { errors: [{ field: 'nextToken', message: 'invalid nextToken' }] });
}

export function encodeToken(key: Item): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * Decodes and checks a token: exactly the key attributes of this list, all strings, and the partition (and
 * sort prefix) of this list — so a token crafted or copied from another list cannot read anything else.
 */
export function decodeToken(token: string, scope: ListScope): Item {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token) || token.length > 4096) throw invalidToken();
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidToken();
  const record = parsed as Record<string, unknown>;
  const expected = keyAttributes(scope);
  const present = Object.keys(record);
  if (present.length !== expected.length || !expected.every((k) => typeof record[k] === 'string')) throw invalidToken();
  if (record[scope.partition.name] !== scope.partition.value) throw invalidToken();
  if (scope.sortPrefix) {
    const sortValue = record[scope.sortPrefix.name];
    if (typeof sortValue !== 'string' || !sortValue.startsWith(scope.sortPrefix.value)) throw invalidToken();
  }
  return record as Item;
}

/**
 * One page of a Query. Reads limit+1 items so that `nextToken` is null exactly when there is nothing more
 * (no trailing empty page); the token is the key of the last returned item.
 */
export async function queryPage(ctx: DynamoContext, scope: ListScope, page: PageRequest | undefined): Promise<{ items: Item[]; nextToken: string | null }> {
  const limit = pageSize(page);
  const start = page?.nextToken === undefined || page.nextToken === null ? undefined : decodeToken(page.nextToken, scope);
  const collected: Item[] = [];
  let exclusiveStartKey: Item | undefined = start;
  // A Query stops at 1 MB; keep reading until limit+1 items or the end.
  do {
    const out = await ctx.client.send(
      new QueryCommand({ ...queryInput(ctx, scope), Limit: limit + 1 - collected.length, ExclusiveStartKey: exclusiveStartKey }),
    );
    collected.push(...(out.Items ?? []));
    exclusiveStartKey = out.LastEvaluatedKey;
  } while (exclusiveStartKey && collected.length <= limit);
  const more = collected.length > limit;
  const items = collected.slice(0, limit);
  const last = items[items.length - 1];
  let nextToken: string | null = null;
  if (more && last) {
    const key: Item = {};
    for (const k of keyAttributes(scope)) key[k] = last[k];
    nextToken = encodeToken(key);
  }
  return { items, nextToken };
}

/** Every item of a Query (bounded sets only: members of one workspace, a principal's memberships). */
export async function queryAll(ctx: DynamoContext, scope: ListScope, consistent = false): Promise<Item[]> {
  const items: Item[] = [];
  let exclusiveStartKey: Item | undefined;
  do {
    const out = await ctx.client.send(
      new QueryCommand({ ...queryInput(ctx, scope), ExclusiveStartKey: exclusiveStartKey, ConsistentRead: scope.index ? undefined : consistent }),
    );
    items.push(...(out.Items ?? []));
    exclusiveStartKey = out.LastEvaluatedKey;
  } while (exclusiveStartKey);
  return items;
}

function queryInput(ctx: DynamoContext, scope: ListScope): QueryCommandInput {
  const names: Record<string, string> = { '#p': scope.partition.name };
  const values: Item = { ':p': scope.partition.value };
  let condition = '#p = :p';
  if (scope.sortPrefix) {
    names['#s'] = scope.sortPrefix.name;
    values[':s'] = scope.sortPrefix.value;
    condition += ' AND begins_with(#s, :s)';
  }
  if (scope.sortCondition) {
    condition += ` AND ${scope.sortCondition.expression}`;
    Object.assign(values, scope.sortCondition.values);
    if (scope.index) names['#s'] = scope.index === 'gsi1' ? 'gsi1sk' : 'gsi2sk';
    else names['#s'] = 'sk';
  }
  return {
    TableName: ctx.tableName,
    IndexName: scope.index,
    KeyConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ScanIndexForward: scope.ascending ?? true,
  };
}

export function toPage<T>(result: { items: Item[]; nextToken: string | null }, map: (item: Item) => T): Page<T> {
  return { items: result.items.map(map), nextToken: result.nextToken };
}
