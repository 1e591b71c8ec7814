/**
 * Clusters, their workspace's quota usage and their history.
 *
 * Every write to a cluster item is a compare-and-swap on an internal write counter (`rev`) inside a
 * TransactWriteItems that also carries the USAGE update (quota) and the HISTORY record, so the record, the
 * reservation and the history can never disagree. `rev` also orders history records that share a
 * millisecond. Sparse indexes are derived from the entity on every write: gsi1 ACTIVE while an operation
 * is in flight, gsi2 EXPIRY while a not-yet-deleted cluster has an expiry.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Cluster, HistoryRecord } from '../../domain/schemas.ts';
import {
  AlreadyExistsError,
  ConcurrentModificationError,
  NotFoundError,
  OperationInFlightError,
  PolicyViolationError,
  type PolicyViolation,
} from '../../errors.ts';
import { keys } from '../keys.ts';
import type { Actor, ClusterPatch, ClusterStore, Page, PageRequest, QuotaLimits, WorkspaceUsage } from '../ports.ts';
import {
  backoff,
  type DynamoContext,
  fromAttributeMap,
  fromCents,
  type Item,
  queryPage,
  stripItem,
  toCents,
  type TransactItem,
  TransactionCancelled,
  toPage,
  transact,
} from './common.ts';

/** Adapter-internal attributes of a cluster item. */
const INTERNAL = ['rev', 'reservedUsdCents'] as const;
/** Concurrent transactions on one USAGE item conflict a lot under load; these retries absorb that. */
const CONTENDED_ATTEMPTS = 25;
const MUTATE_ATTEMPTS = 5;

interface StoredCluster {
  cluster: Cluster;
  /** Write counter: the compare-and-swap token. */
  rev: number;
  /** What this cluster has reserved in its workspace's USAGE, in cents; released exactly once. */
  reservedCents: number;
}

interface UsageChange {
  clusters: number;
  cents: number;
  limits?: QuotaLimits;
}

interface Mutation {
  next: Cluster;
  reservedCents: number;
  usage?: UsageChange;
  actor: string;
}

export class DynamoClusterStore implements ClusterStore {
  constructor(private readonly ctx: DynamoContext) {}

  async create(cluster: Cluster, limits: QuotaLimits): Promise<Cluster> {
    const ws = cluster.workspaceId;
    const cents = toCents(cluster.costEstimate.monthlyUsd);
    const usage: UsageChange = { clusters: 1, cents, limits };
    // A limit that this one cluster breaks on its own fails without touching the table.
    const upfront = violationsFor(ws, usage, { clusters: 0, cents: 0 });
    if (upfront.length > 0) throw quotaError(upfront);

    const history = this.historyPut(cluster, 1, cluster.createdBy);
    const items: TransactItem[] = [
      // The workspace must exist: together with the workspace delete's USAGE condition this keeps a cluster
      // from being created in a workspace that is being deleted.
      { ConditionCheck: { TableName: this.ctx.tableName, Key: keys.workspace(ws), ConditionExpression: 'attribute_exists(pk)' } },
      {
        Put: {
          TableName: this.ctx.tableName,
          Item: this.item(cluster, 1, cents),
          // A name is free when unused or when its previous cluster is Deleted.
          ConditionExpression: 'attribute_not_exists(pk) OR #phase = :deleted',
          ExpressionAttributeNames: { '#phase': 'phase' },
          ExpressionAttributeValues: { ':deleted': 'Deleted' },
        },
      },
      this.usageUpdate(ws, usage),
      history,
    ];
    try {
      await transact(this.ctx, items, CONTENDED_ATTEMPTS);
    } catch (err) {
      if (!(err instanceof TransactionCancelled)) throw err;
      if (err.failed(0)) throw new NotFoundError(`workspace "${ws}" not found`, { cause: err });
      if (err.failed(1)) throw new AlreadyExistsError(`cluster "${cluster.name}" already exists in workspace "${ws}"`, { cause: err });
      if (err.failed(2)) throw quotaError(violationsFromOld(ws, usage, err.oldItem(2)), err);
      throw new ConcurrentModificationError(`cluster "${cluster.name}" could not be recorded under contention; retry`, { cause: err });
    }
    return cluster;
  }

  /**
   * Compensation for a create whose workflow could not start: deletes the record (still incarnation `uid`,
   * still Requested, unchanged since read) and its history, and releases its reservation, in one
   * transaction. Idempotent; a cluster that moved on (a workflow did start after all) is left alone.
   */
  async discardCreate(ws: string, name: string, uid: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const cur = await this.read(ws, name);
      if (!cur || cur.cluster.uid !== uid || cur.cluster.phase !== 'Requested') return;
      const history = await queryPage(this.ctx, { partition: { name: 'pk', value: keys.histories(uid).pk } }, { limit: 90 });
      const items: TransactItem[] = [
        {
          Delete: {
            TableName: this.ctx.tableName,
            Key: keys.cluster(ws, name),
            ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: { '#rev': 'rev' },
            ExpressionAttributeValues: { ':rev': cur.rev },
          },
        },
        this.usageUpdate(ws, { clusters: -1, cents: -cur.reservedCents }),
        ...history.items.map((h) => ({ Delete: { TableName: this.ctx.tableName, Key: { pk: h.pk, sk: h.sk } } })),
      ];
      try {
        await transact(this.ctx, items, CONTENDED_ATTEMPTS);
        return;
      } catch (err) {
        if (!(err instanceof TransactionCancelled) || attempt >= MUTATE_ATTEMPTS) throw err;
        await backoff(attempt);
      }
    }
  }

  async get(ws: string, name: string): Promise<Cluster | null> {
    return (await this.read(ws, name))?.cluster ?? null;
  }

  async list(ws: string, page?: PageRequest): Promise<Page<Cluster>> {
    const k = keys.clusters(ws);
    const result = await queryPage(this.ctx, { partition: { name: 'pk', value: k.pk }, sortPrefix: { name: 'sk', value: k.skPrefix } }, page);
    return toPage(result, (i) => stripItem<Cluster>(i, INTERNAL));
  }

  async usage(ws: string): Promise<WorkspaceUsage> {
    const out = await this.ctx.client.send(new GetCommand({ TableName: this.ctx.tableName, Key: keys.usage(ws), ConsistentRead: true }));
    const clusters = typeof out.Item?.clusters === 'number' ? out.Item.clusters : 0;
    const cents = typeof out.Item?.monthlyUsdCents === 'number' ? out.Item.monthlyUsdCents : 0;
    return { clusters, monthlyUsd: fromCents(cents) };
  }

  beginOperation(
    ws: string,
    name: string,
    op: NonNullable<Cluster['operation']>,
    patch: ClusterPatch,
    opts: { expectedGeneration?: number; costDelta?: number; limits?: QuotaLimits; actor?: Actor },
  ): Promise<Cluster> {
    return this.mutate(ws, name, (cur) => {
      const c = cur.cluster;
      if (c.phase === 'Deleted') throw notFound(ws, name);
      if (opts.expectedGeneration !== undefined && opts.expectedGeneration !== c.generation) {
        throw new ConcurrentModificationError(
          `cluster "${name}" is at generation ${c.generation}, not ${opts.expectedGeneration}; reload and retry`,
        );
      }
      if (c.operation !== null) throw new OperationInFlightError(`cluster "${name}" has a ${c.operation} operation in flight`);
      const next = applyPatch(c, patch);
      next.generation = c.generation + 1;
      next.operation = op;
      const delta = toCents(opts.costDelta ?? 0);
      const mutation: Mutation = { next, reservedCents: cur.reservedCents + delta, actor: opts.actor?.principal ?? 'system' };
      if (delta !== 0) {
        mutation.usage = { clusters: 0, cents: delta, limits: opts.limits };
        const upfront = violationsFor(ws, mutation.usage, { clusters: 0, cents: 0 });
        if (upfront.length > 0) throw quotaError(upfront);
      }
      return mutation;
    });
  }

  recordStatus(ws: string, name: string, generation: number, patch: ClusterPatch, actor: Actor): Promise<Cluster> {
    if (patch.phase === 'Deleted') return this.markDeleted(ws, name, generation, actor, patch);
    return this.mutate(ws, name, (cur) => {
      const c = cur.cluster;
      // A workflow of an older generation must not overwrite what a newer operation wrote.
      if (c.generation !== generation) {
        throw new ConcurrentModificationError(`stale status for cluster "${name}": generation ${generation}, record is at ${c.generation}`);
      }
      if (c.phase === 'Deleted') throw new ConcurrentModificationError(`cluster "${name}" is already Deleted`);
      const { generation: _ignored, ...rest } = patch;
      return { next: applyPatch(c, rest), reservedCents: cur.reservedCents, actor: actor.principal };
    });
  }

  /**
   * Idempotent: the first call releases the cluster's count and reserved cost; the compare-and-swap on the
   * cluster item plus the phase check make a second (or concurrent) call a no-op.
   */
  markDeleted(ws: string, name: string, generation: number, actor: Actor, patch: ClusterPatch = {}): Promise<Cluster> {
    return this.mutate(ws, name, (cur) => {
      const c = cur.cluster;
      if (c.phase === 'Deleted') return null;
      if (c.generation !== generation) {
        throw new ConcurrentModificationError(`stale delete for cluster "${name}": generation ${generation}, record is at ${c.generation}`);
      }
      const { generation: _ignored, ...rest } = patch;
      const next = applyPatch(c, rest);
      next.phase = 'Deleted';
      next.operation = null;
      next.observedGeneration = generation;
      return { next, reservedCents: 0, usage: { clusters: -1, cents: -cur.reservedCents }, actor: actor.principal };
    });
  }

  async history(uid: string, page?: PageRequest): Promise<Page<HistoryRecord>> {
    const result = await queryPage(this.ctx, { partition: { name: 'pk', value: keys.histories(uid).pk } }, page);
    return toPage(result, (i) => stripItem<HistoryRecord>(i, ['clusterUid']));
  }

  async listActive(page?: PageRequest): Promise<Page<{ workspaceId: string; name: string }>> {
    const result = await queryPage(this.ctx, { index: 'gsi1', partition: { name: 'gsi1pk', value: keys.activeClusters().gsi1pk } }, page);
    return toPage(result, ref);
  }

  async listExpired(now: string, page?: PageRequest): Promise<Page<{ workspaceId: string; name: string }>> {
    const result = await queryPage(
      this.ctx,
      {
        index: 'gsi2',
        partition: { name: 'gsi2pk', value: keys.expiringClusters().gsi2pk },
        // gsi2sk is `<expiresAt>#<ws>#<name>`: everything sorting below `now` expired strictly before it.
        sortCondition: { expression: '#s < :now', values: { ':now': now } },
      },
      page,
    );
    return toPage(result, ref);
  }

  // ---------- internals ----------

  private async read(ws: string, name: string): Promise<StoredCluster | null> {
    const out = await this.ctx.client.send(new GetCommand({ TableName: this.ctx.tableName, Key: keys.cluster(ws, name), ConsistentRead: true }));
    if (!out.Item) return null;
    return {
      cluster: stripItem<Cluster>(out.Item, INTERNAL),
      rev: typeof out.Item.rev === 'number' ? out.Item.rev : 0,
      reservedCents: typeof out.Item.reservedUsdCents === 'number' ? out.Item.reservedUsdCents : 0,
    };
  }

  /**
   * Read, decide, write with a compare-and-swap on `rev`; on losing a race, read again and decide again
   * (the decision may now be an error such as OperationInFlightError, or a no-op: `null`).
   */
  private async mutate(ws: string, name: string, decide: (cur: StoredCluster) => Mutation | null): Promise<Cluster> {
    for (let attempt = 1; ; attempt++) {
      const cur = await this.read(ws, name);
      if (!cur) throw notFound(ws, name);
      const m = decide(cur);
      if (!m) return cur.cluster;
      // Time never runs backwards within one cluster's record, so history sorts by (time, rev).
      const nowIso = this.ctx.now().toISOString();
      m.next.updatedAt = nowIso;
      if (nowIso < cur.cluster.updatedAt) m.next.updatedAt = cur.cluster.updatedAt;
      const rev = cur.rev + 1;
      const items: TransactItem[] = [
        {
          Put: {
            TableName: this.ctx.tableName,
            Item: this.item(m.next, rev, m.reservedCents),
            ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: { '#rev': 'rev' },
            ExpressionAttributeValues: { ':rev': cur.rev },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        this.historyPut(m.next, rev, m.actor),
      ];
      if (m.usage) items.push(this.usageUpdate(ws, m.usage));
      try {
        await transact(this.ctx, items, CONTENDED_ATTEMPTS);
        return m.next;
      } catch (err) {
        if (!(err instanceof TransactionCancelled)) throw err;
        if (err.failed(0) && !err.oldItem(0)) throw notFound(ws, name, err);
        if (m.usage && err.failed(2)) throw quotaError(violationsFromOld(ws, m.usage, err.oldItem(2)), err);
        if (attempt >= MUTATE_ATTEMPTS) throw new ConcurrentModificationError(`cluster "${name}" is being changed concurrently; retry`, { cause: err });
        await backoff(attempt);
      }
    }
  }

  private item(c: Cluster, rev: number, reservedCents: number): Item {
    return {
      ...keys.cluster(c.workspaceId, c.name),
      ...(c.operation !== null ? keys.activeClusterIndex(c.workspaceId, c.name) : {}),
      ...(c.expiresAt !== null && c.phase !== 'Deleted' ? keys.expiryIndex(c.expiresAt, c.workspaceId, c.name) : {}),
      entity: 'Cluster',
      ...c,
      rev,
      reservedUsdCents: reservedCents,
    };
  }

  private historyPut(c: Cluster, rev: number, actor: string): TransactItem {
    const seq = String(rev).padStart(10, '0');
    const record: HistoryRecord = {
      at: c.updatedAt,
      seq,
      phase: c.phase,
      step: c.step,
      message: c.message,
      generation: c.generation,
      actor,
    };
    return {
      Put: {
        TableName: this.ctx.tableName,
        Item: { ...keys.history(c.uid, record.at, seq), entity: 'ClusterHistory', clusterUid: c.uid, ...record },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /** Adds to the workspace's usage; positive changes are conditioned on the limits. */
  private usageUpdate(ws: string, change: UsageChange): TransactItem {
    const conditions: string[] = [];
    const values: Item = { ':zero': 0, ':dc': change.clusters, ':dm': change.cents, ':entity': 'WorkspaceUsage', ':ws': ws };
    const maxClusters = change.limits?.maxClusters;
    if (maxClusters && change.clusters > 0) {
      conditions.push('(attribute_not_exists(#clusters) OR #clusters <= :maxc)');
      values[':maxc'] = maxClusters.value - change.clusters;
    }
    const maxUsd = change.limits?.maxMonthlyUsd;
    if (maxUsd && change.cents > 0) {
      // No arithmetic in conditions: compare against (limit - this reservation), both in cents.
      conditions.push('(attribute_not_exists(#cents) OR #cents <= :maxm)');
      values[':maxm'] = toCents(maxUsd.value) - change.cents;
    }
    return {
      Update: {
        TableName: this.ctx.tableName,
        Key: keys.usage(ws),
        UpdateExpression:
          'SET #clusters = if_not_exists(#clusters, :zero) + :dc, #cents = if_not_exists(#cents, :zero) + :dm, #entity = :entity, #ws = :ws',
        ConditionExpression: conditions.length > 0 ? conditions.join(' AND ') : undefined,
        ExpressionAttributeNames: { '#clusters': 'clusters', '#cents': 'monthlyUsdCents', '#entity': 'entity', '#ws': 'workspaceId' },
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }
}

function applyPatch(c: Cluster, patch: ClusterPatch): Cluster {
  const next: Cluster = { ...c, ...(patch.spec ?? {}) };
  if (patch.phase !== undefined) next.phase = patch.phase;
  if (patch.step !== undefined) next.step = patch.step;
  if (patch.message !== undefined) next.message = patch.message;
  if (patch.conditions !== undefined) next.conditions = patch.conditions;
  if (patch.observedGeneration !== undefined) next.observedGeneration = patch.observedGeneration;
  if (patch.capiLocation !== undefined) next.capiLocation = patch.capiLocation;
  if (patch.executionId !== undefined) next.executionId = patch.executionId;
  if (patch.operation !== undefined) next.operation = patch.operation;
  if (patch.generation !== undefined) next.generation = patch.generation;
  return next;
}

/** Which limits `change` breaks on top of `current` usage. */
function violationsFor(ws: string, change: UsageChange, current: { clusters: number; cents: number }): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  const maxClusters = change.limits?.maxClusters;
  if (maxClusters && change.clusters > 0 && current.clusters + change.clusters > maxClusters.value) {
    out.push({
      code: 'quota.clusters_exceeded',
      policyId: maxClusters.policyId,
      field: 'workspace',
      message: `workspace "${ws}" has ${current.clusters} cluster(s); policy "${maxClusters.policyId}" allows at most ${maxClusters.value}`,
    });
  }
  const maxUsd = change.limits?.maxMonthlyUsd;
  if (maxUsd && change.cents > 0 && current.cents + change.cents > toCents(maxUsd.value)) {
    out.push({
      code: 'quota.monthly_cost_exceeded',
      policyId: maxUsd.policyId,
      field: 'workspace',
      message: `workspace "${ws}" has ${fromCents(current.cents)} USD/month reserved; another ${fromCents(change.cents)} would exceed the ${maxUsd.value} USD/month of policy "${maxUsd.policyId}"`,
    });
  }
  return out;
}

/** From the USAGE item returned with the failed condition (ALL_OLD): which limit was hit. */
function violationsFromOld(ws: string, change: UsageChange, old: Parameters<typeof fromAttributeMap>[0] | undefined): PolicyViolation[] {
  const item = old ? fromAttributeMap(old) : {};
  const current = {
    clusters: typeof item.clusters === 'number' ? item.clusters : 0,
    cents: typeof item.monthlyUsdCents === 'number' ? item.monthlyUsdCents : 0,
  };
  const found = violationsFor(ws, change, current);
  if (found.length > 0) return found;
  // The condition failed yet the old values look fine: it changed again meanwhile. Report every limit set.
  return violationsFor(ws, change, { clusters: Number.MAX_SAFE_INTEGER / 2, cents: Number.MAX_SAFE_INTEGER / 2 });
}

function quotaError(violations: PolicyViolation[], cause?: unknown): PolicyViolationError {
  return new PolicyViolationError(violations.map((v) => v.message).join('; '), {
    errors: violations,
    ...(cause === undefined ? {} : { cause }),
  });
}

function notFound(ws: string, name: string, cause?: unknown): NotFoundError {
  return new NotFoundError(`cluster "${name}" not found in workspace "${ws}"`, cause === undefined ? undefined : { cause });
}

function ref(item: Item): { workspaceId: string; name: string } {
  return { workspaceId: String(item.workspaceId), name: String(item.name) };
}
