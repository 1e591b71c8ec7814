/** Clusters: creation with atomic quota reservation, operations, status history, deletion and sparse indexes. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlipwayError } from '../../shared/errors.ts';
import type { QuotaLimits } from '../../shared/store/ports.ts';
import { type FreshStores, freshStores } from '../helpers/dynamo.ts';
import { admin, cluster, errorName, settle, workspace } from './fixtures.ts';

let t: FreshStores;
const step = { principal: 'step:provision' };

beforeAll(async () => {
  t = await freshStores();
});
afterAll(async () => {
  await t.drop();
});

/** Each test works in its own workspace so usage and lists are its own. */
async function newWorkspace(id: string): Promise<string> {
  await t.stores.workspaces.create(workspace(id), admin);
  return id;
}

/** Finishes the provision operation so the cluster accepts a new one. */
async function finishProvisioning(ws: string, name: string) {
  return t.stores.clusters.recordStatus(ws, name, 1, { phase: 'Ready', operation: null, observedGeneration: 1 }, step);
}

function violations(err: unknown) {
  return (err as SlipwayError).errors;
}

describe('create', () => {
  it('records the cluster, reserves count and cost, writes the first history record', async () => {
    // Prepare
    const ws = await newWorkspace('cr-basic');
    const c = cluster(ws, 'dev-1', { costEstimate: { monthlyUsd: 412.5, currency: 'USD', hoursPerMonth: 730, region: 'eu-west-1', breakdown: [] } });

    // Act
    const created = await t.stores.clusters.create(c, {});

    // Assess
    expect(created).toEqual(c);
    expect(await t.stores.clusters.get(ws, 'dev-1')).toEqual(c);
    expect(await t.stores.clusters.usage(ws)).toEqual({ clusters: 1, monthlyUsd: 412.5 });
    const history = await t.stores.clusters.history(c.uid);
    expect(history.items).toEqual([{ at: c.updatedAt, seq: '0000000001', phase: 'Requested', step: null, message: null, generation: 1, actor: 'user:dev' }]);
    const raw = await t.client.send(new GetCommand({ TableName: t.tableName, Key: { pk: `WS#${ws}`, sk: 'CLUSTER#dev-1' } }));
    expect(raw.Item).toMatchObject({ entity: 'Cluster', gsi1pk: 'ACTIVE', rev: 1, reservedUsdCents: 41250 });
  });

  it('20 concurrent creates of one name: exactly one succeeds, the others are AlreadyExistsError', async () => {
    // Prepare
    const ws = await newWorkspace('cr-race');
    const attempts = Array.from({ length: 20 }, () => cluster(ws, 'same-name'));

    // Act
    const { ok, errors } = await settle(attempts.map((c) => t.stores.clusters.create(c, { maxClusters: { value: 10, policyId: 'p' } })));

    // Assess
    expect(ok).toHaveLength(1);
    expect(errors.map(errorName)).toEqual(Array(19).fill('AlreadyExistsError'));
    expect((await t.stores.clusters.get(ws, 'same-name'))?.uid).toBe(ok[0]?.uid);
    expect(await t.stores.clusters.usage(ws)).toEqual({ clusters: 1, monthlyUsd: 100 });
  });

  it('10 different names racing for 3 cluster slots: exactly 3 succeed, the quota is never exceeded', async () => {
    // Prepare
    const ws = await newWorkspace('cr-slots');
    const limits: QuotaLimits = { maxClusters: { value: 3, policyId: 'guardrails' } };

    // Act
    const { ok, errors } = await settle(Array.from({ length: 10 }, (_, i) => t.stores.clusters.create(cluster(ws, `c${i}`), limits)));

    // Assess
    expect(ok).toHaveLength(3);
    expect(errors.map(errorName)).toEqual(Array(7).fill('PolicyViolationError'));
    for (const err of errors) {
      expect(violations(err)).toEqual([expect.objectContaining({ code: 'quota.clusters_exceeded', policyId: 'guardrails', field: 'workspace' })]);
    }
    expect(await t.stores.clusters.usage(ws)).toEqual({ clusters: 3, monthlyUsd: 300 });
    expect((await t.stores.clusters.list(ws)).items.map((c) => c.name).sort()).toEqual(ok.map((c) => c.name).sort());
  });

  it('10 clusters racing for the monthly cost budget: the budget is never exceeded (cent-exact)', async () => {
    // Prepare: 3 × 333.33 = 999.99 fits in 1000, a fourth does not.
    const ws = await newWorkspace('cr-cost');
    const limits: QuotaLimits = { maxMonthlyUsd: { value: 1000, policyId: 'budget' } };
    const costly = (i: number) => cluster(ws, `c${i}`, { costEstimate: { monthlyUsd: 333.33, currency: 'USD', hoursPerMonth: 730, region: 'eu-west-1', breakdown: [] } });

    // Act
    const { ok, errors } = await settle(Array.from({ length: 10 }, (_, i) => t.stores.clusters.create(costly(i), limits)));

    // Assess
    expect(ok).toHaveLength(3);
    expect(errors.map(errorName)).toEqual(Array(7).fill('PolicyViolationError'));
    for (const err of errors) expect(violations(err)).toEqual([expect.objectContaining({ code: 'quota.monthly_cost_exceeded', policyId: 'budget' })]);
    expect(await t.stores.clusters.usage(ws)).toEqual({ clusters: 3, monthlyUsd: 999.99 });
  });

  it('reports every exceeded limit at once, and refuses a cluster that alone breaks a limit without writing', async () => {
    // Prepare
    const ws = await newWorkspace('cr-both');
    await t.stores.clusters.create(cluster(ws, 'first'), {});
    const both: QuotaLimits = { maxClusters: { value: 1, policyId: 'count' }, maxMonthlyUsd: { value: 150, policyId: 'cost' } };

    // Act
    const full = await t.stores.clusters.create(cluster(ws, 'second'), both).catch((e: unknown) => e);
    const zero = await t.stores.clusters.create(cluster(ws, 'third'), { maxClusters: { value: 0, policyId: 'none' } }).catch((e: unknown) => e);
    const tooCostly = await t.stores.clusters
      .create(cluster(ws, 'fourth', { costEstimate: { monthlyUsd: 500, currency: 'USD', hoursPerMonth: 730, region: 'eu-west-1', breakdown: [] } }), {
        maxMonthlyUsd: { value: 499.99, policyId: 'cost' },
      })
      .catch((e: unknown) => e);

    // Assess
    expect(violations(full).map((v) => (v as { code: string }).code)).toEqual(['quota.clusters_exceeded', 'quota.monthly_cost_exceeded']);
    expect(violations(zero)).toEqual([expect.objectContaining({ code: 'quota.clusters_exceeded', policyId: 'none' })]);
    expect(violations(tooCostly)).toEqual([expect.objectContaining({ code: 'quota.monthly_cost_exceeded', policyId: 'cost' })]);
    expect(await t.stores.clusters.usage(ws)).toEqual({ clusters: 1, monthlyUsd: 100 });
    expect((await t.stores.clusters.list(ws)).items.map((c) => c.name)).toEqual(['first']);
  });

  it('frees a name once its cluster is Deleted; the new incarnation has its own uid and history', async () => {
    // Prepare
    const ws = await newWorkspace('cr-reuse');
    const old = await t.stores.clusters.create(cluster(ws, 'dev'), {});
    await t.stores.clusters.markDeleted(ws, 'dev', 1, step);

    // Act
    const fresh = await t.stores.clusters.create(cluster(ws, 'dev'), { maxClusters: { value: 1, policyId: 'p' } });

    // Assess
    expect(fresh.uid).not.toBe(old.uid);
    expect((await t.stores.clusters.get(ws, 'dev'))?.phase).toBe('Requested');
    expect((await t.stores.clusters.history(fresh.uid)).items).toHaveLength(1);
    expect((await t.stores.clusters.history(old.uid)).items.map((h) => h.phase)).toEqual(['Requested', 'Deleted']);
    expect(await t.stores.clusters.usage(ws)).toEqual({ clusters: 1, monthlyUsd: 100 });
  });

  it('discardCreate removes a still-Requested record, its history and its reservation; idempotent', async () => {
    // Prepare
    const ws = await newWorkspace('cr-discard');
    const c = await t.stores.clusters.create(cluster(ws, 'dev'), {});
    const kept = await t.stores.clusters.create(cluster(ws, 'kept'), {});
    await finishProvisioning(ws, 'kept');

    // Act
    await t.stores.clusters.discardCreate(ws, 'dev', c.uid);
    await t.stores.clusters.discardCreate(ws, 'dev', c.uid);
    await t.stores.clusters.discardCreate(ws, 'kept', kept.uid);

    // Assess
    expect(await t.stores.clusters.get(ws, 'dev')).toBeNull();
    expect((await t.stores.clusters.history(c.uid)).items).toEqual([]);
    expect((await t.stores.clusters.get(ws, 'kept'))?.phase).toBe('Ready');
    expect(await t.stores.clusters.usage(ws)).toEqual({ clusters: 1, monthlyUsd: 100 });
  });
});

describe('operations and status', () => {
  it('refuses a new operation while one is in flight, and one on a stale generation', async () => {
    // Prepare
    const ws = await newWorkspace('op-guard');
    await t.stores.clusters.create(cluster(ws, 'dev'), {});

    // Act
    const inFlight = await t.stores.clusters.beginOperation(ws, 'dev', 'update', { phase: 'Updating' }, {}).catch((e: unknown) => e);
    await finishProvisioning(ws, 'dev');
    const stale = await t.stores.clusters.beginOperation(ws, 'dev', 'update', { phase: 'Updating' }, { expectedGeneration: 7 }).catch((e: unknown) => e);
    const missing = await t.stores.clusters.beginOperation(ws, 'nope', 'update', {}, {}).catch((e: unknown) => e);

    // Assess
    expect(errorName(inFlight)).toBe('OperationInFlightError');
    expect(errorName(stale)).toBe('ConcurrentModificationError');
    expect(errorName(missing)).toBe('NotFoundError');
    expect(await t.stores.clusters.get(ws, 'dev')).toMatchObject({ generation: 1, phase: 'Ready', operation: null });
  });

  it('begins an update: bumps the generation, applies the spec, adjusts the reserved cost under the limit', async () => {
    // Prepare
    const ws = await newWorkspace('op-update');
    await t.stores.clusters.create(cluster(ws, 'dev'), {});
    await finishProvisioning(ws, 'dev');
    const limits: QuotaLimits = { maxMonthlyUsd: { value: 250, policyId: 'budget' } };
    const costEstimate = { monthlyUsd: 200, currency: 'USD' as const, hoursPerMonth: 730, region: 'eu-west-1', breakdown: [] };

    // Act
    const begun = await t.stores.clusters.beginOperation(
      ws,
      'dev',
      'update',
      { phase: 'Updating', spec: { kubernetesVersion: 'v1.31.5', costEstimate } },
      { expectedGeneration: 1, costDelta: 100, limits, actor: { principal: 'user:dev' } },
    );
    await t.stores.clusters.recordStatus(ws, 'dev', 2, { phase: 'Ready', operation: null, observedGeneration: 2 }, step);
    const over = await t.stores.clusters
      .beginOperation(ws, 'dev', 'update', { phase: 'Updating' }, { expectedGeneration: 2, costDelta: 50.01, limits })
      .catch((e: unknown) => e);

    // Assess
    expect(begun).toMatchObject({ generation: 2, operation: 'update', phase: 'Updating', kubernetesVersion: 'v1.31.5', costEstimate });
    expect(errorName(over)).toBe('PolicyViolationError');
    expect(violations(over)).toEqual([expect.objectContaining({ code: 'quota.monthly_cost_exceeded', policyId: 'budget' })]);
    expect(await t.stores.clusters.get(ws, 'dev')).toMatchObject({ generation: 2, operation: null, phase: 'Ready' });
    expect(await t.stores.clusters.usage(ws)).toEqual({ clusters: 1, monthlyUsd: 200 });
    const history = await t.stores.clusters.history(begun.uid);
    expect(history.items.map((h) => [h.phase, h.generation, h.actor])).toEqual([
      ['Requested', 1, 'user:dev'],
      ['Ready', 1, 'step:provision'],
      ['Updating', 2, 'user:dev'],
      ['Ready', 2, 'step:provision'],
    ]);
  });

  it('concurrent beginOperation calls: exactly one starts', async () => {
    // Prepare
    const ws = await newWorkspace('op-race');
    await t.stores.clusters.create(cluster(ws, 'dev'), {});
    await finishProvisioning(ws, 'dev');

    // Act
    const { ok, errors } = await settle(Array.from({ length: 8 }, () => t.stores.clusters.beginOperation(ws, 'dev', 'update', { phase: 'Updating' }, { expectedGeneration: 1 })));

    // Assess
    expect(ok).toHaveLength(1);
    expect(errors.every((e) => ['OperationInFlightError', 'ConcurrentModificationError'].includes(errorName(e)))).toBe(true);
    expect((await t.stores.clusters.get(ws, 'dev'))?.generation).toBe(2);
  });

  it('refuses status from a stale generation', async () => {
    // Prepare
    const ws = await newWorkspace('st-stale');
    await t.stores.clusters.create(cluster(ws, 'dev'), {});
    await finishProvisioning(ws, 'dev');
    await t.stores.clusters.beginOperation(ws, 'dev', 'update', { phase: 'Updating' }, {});

    // Act
    const err = await t.stores.clusters.recordStatus(ws, 'dev', 1, { phase: 'Failed', message: 'old workflow' }, step).catch((e: unknown) => e);

    // Assess
    expect(errorName(err)).toBe('ConcurrentModificationError');
    expect(await t.stores.clusters.get(ws, 'dev')).toMatchObject({ phase: 'Updating', generation: 2, message: null });
  });

  it('keeps history in write order even when every write falls in the same millisecond', async () => {
    // Prepare: a frozen clock in the past, so every record gets the creation time.
    const frozen = await freshStores({ now: () => new Date('2020-01-01T00:00:00.000Z') });
    try {
      await frozen.stores.workspaces.create(workspace('frozen'), admin);
      const c = await frozen.stores.clusters.create(cluster('frozen', 'dev'), {});
      const phases = ['Provisioning', 'Pivoting', 'Scaling', 'InstallingAddons', 'Provisioning', 'Scaling', 'InstallingAddons', 'Pivoting', 'Provisioning', 'Scaling', 'Ready'] as const;

      // Act
      for (const [i, phase] of phases.entries()) {
        await frozen.stores.clusters.recordStatus('frozen', 'dev', 1, { phase, step: `step-${i}`, ...(phase === 'Ready' ? { operation: null } : {}) }, step);
      }
      const first = await frozen.stores.clusters.history(c.uid, { limit: 5 });
      const rest = await frozen.stores.clusters.history(c.uid, { limit: 100, nextToken: first.nextToken ?? undefined });

      // Assess
      const all = [...first.items, ...rest.items];
      expect(new Set(all.map((h) => h.at)).size).toBe(1);
      expect(all.map((h) => h.phase)).toEqual(['Requested', ...phases]);
      expect(all.map((h) => h.step)).toEqual([null, ...phases.map((_, i) => `step-${i}`)]);
      expect(all.map((h) => h.seq)).toEqual([...all.map((h) => h.seq)].sort());
    } finally {
      await frozen.drop();
    }
  });
});

describe('deletion', () => {
  it('markDeleted releases count and cost exactly once, even when called twice and concurrently', async () => {
    // Prepare
    const ws = await newWorkspace('del-once');
    await t.stores.clusters.create(cluster(ws, 'a'), {});
    await t.stores.clusters.create(cluster(ws, 'b', { costEstimate: { monthlyUsd: 50.5, currency: 'USD', hoursPerMonth: 730, region: 'eu-west-1', breakdown: [] } }), {});

    // Act
    const { ok, errors } = await settle(Array.from({ length: 5 }, () => t.stores.clusters.markDeleted(ws, 'b', 1, step)));
    const again = await t.stores.clusters.markDeleted(ws, 'b', 1, step);

    // Assess
    expect(errors).toEqual([]);
    expect(ok.every((c) => c.phase === 'Deleted')).toBe(true);
    expect(again).toMatchObject({ phase: 'Deleted', operation: null, observedGeneration: 1 });
    expect(await t.stores.clusters.usage(ws)).toEqual({ clusters: 1, monthlyUsd: 100 });
    expect((await t.stores.clusters.history(again.uid)).items.filter((h) => h.phase === 'Deleted')).toHaveLength(1);
  });

  it('refuses markDeleted from a stale generation', async () => {
    // Prepare
    const ws = await newWorkspace('del-stale');
    await t.stores.clusters.create(cluster(ws, 'dev'), {});
    await finishProvisioning(ws, 'dev');
    await t.stores.clusters.beginOperation(ws, 'dev', 'delete', { phase: 'Deleting' }, {});

    // Act
    const stale = await t.stores.clusters.markDeleted(ws, 'dev', 1, step).catch((e: unknown) => e);
    const done = await t.stores.clusters.markDeleted(ws, 'dev', 2, step);

    // Assess
    expect(errorName(stale)).toBe('ConcurrentModificationError');
    expect(done.phase).toBe('Deleted');
    expect(await t.stores.clusters.usage(ws)).toEqual({ clusters: 0, monthlyUsd: 0 });
  });
});

describe('sparse indexes and lists', () => {
  it('listActive holds exactly the clusters with an operation in flight', async () => {
    // Prepare
    const act = await freshStores();
    try {
      await act.stores.workspaces.create(workspace('w1'), admin);
      await act.stores.workspaces.create(workspace('w2'), admin);
      for (const name of ['a', 'b', 'c']) await act.stores.clusters.create(cluster('w1', name), {});
      await act.stores.clusters.create(cluster('w2', 'd'), {});

      // Act
      await act.stores.clusters.recordStatus('w1', 'b', 1, { phase: 'Ready', operation: null }, step);
      await act.stores.clusters.markDeleted('w2', 'd', 1, step);
      const first = await act.stores.clusters.listActive({ limit: 1 });
      const second = await act.stores.clusters.listActive({ limit: 1, nextToken: first.nextToken ?? undefined });
      const all = await act.stores.clusters.listActive();

      // Assess
      expect(all).toEqual({ items: [{ workspaceId: 'w1', name: 'a' }, { workspaceId: 'w1', name: 'c' }], nextToken: null });
      expect([...first.items, ...second.items]).toEqual(all.items);
      expect(second.nextToken).toBeNull();
    } finally {
      await act.drop();
    }
  });

  it('listExpired finds clusters whose expiry passed, and not Deleted ones', async () => {
    // Prepare
    const exp = await freshStores();
    try {
      await exp.stores.workspaces.create(workspace('w'), admin);
      await exp.stores.clusters.create(cluster('w', 'old', { ttlHours: 1, expiresAt: '2026-01-01T00:00:00.000Z' }), {});
      await exp.stores.clusters.create(cluster('w', 'older', { ttlHours: 1, expiresAt: '2025-06-01T00:00:00.000Z' }), {});
      await exp.stores.clusters.create(cluster('w', 'future', { ttlHours: 1, expiresAt: '2030-01-01T00:00:00.000Z' }), {});
      await exp.stores.clusters.create(cluster('w', 'forever'), {});
      await exp.stores.clusters.create(cluster('w', 'gone', { ttlHours: 1, expiresAt: '2025-01-01T00:00:00.000Z' }), {});
      await exp.stores.clusters.markDeleted('w', 'gone', 1, step);

      // Act
      const expired = await exp.stores.clusters.listExpired('2026-06-01T00:00:00.000Z');
      const atBoundary = await exp.stores.clusters.listExpired('2026-01-01T00:00:00.000Z');

      // Assess
      expect(expired.items).toEqual([
        { workspaceId: 'w', name: 'older' },
        { workspaceId: 'w', name: 'old' },
      ]);
      expect(atBoundary.items).toEqual([{ workspaceId: 'w', name: 'older' }]);
    } finally {
      await exp.drop();
    }
  });

  it('lists a workspace in pages and refuses a token from another workspace', async () => {
    // Prepare
    const a = await newWorkspace('list-a');
    const b = await newWorkspace('list-b');
    for (const name of ['c1', 'c2', 'c3']) await t.stores.clusters.create(cluster(a, name), {});
    await t.stores.clusters.create(cluster(b, 'c1'), {});

    // Act
    const p1 = await t.stores.clusters.list(a, { limit: 2 });
    const p2 = await t.stores.clusters.list(a, { limit: 2, nextToken: p1.nextToken ?? undefined });
    const crossed = await t.stores.clusters.list(b, { nextToken: p1.nextToken ?? undefined }).catch((e: unknown) => e);
    const forged = await t.stores.clusters
      .list(b, { nextToken: Buffer.from(JSON.stringify({ pk: 'WS#list-b', sk: 'MEMBER#user:x' })).toString('base64url') })
      .catch((e: unknown) => e);

    // Assess
    expect([...p1.items, ...p2.items].map((c) => c.name)).toEqual(['c1', 'c2', 'c3']);
    expect(p2.nextToken).toBeNull();
    expect(errorName(crossed)).toBe('ValidationError');
    expect(errorName(forged)).toBe('ValidationError');
    for (const c of p1.items) {
      expect(c).not.toHaveProperty('rev');
      expect(c).not.toHaveProperty('reservedUsdCents');
      expect(c).not.toHaveProperty('gsi1pk');
    }
  });
});
