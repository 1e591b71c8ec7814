/** Idempotency keys (claim / complete / release, 24 h expiry) and the admin audit trail. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FreshStores, freshStores } from '../helpers/dynamo.ts';
import { admin, errorName, networkPlan, settle } from './fixtures.ts';

let t: FreshStores;
let clock = new Date('2026-03-01T10:00:00.000Z');

beforeAll(async () => {
  t = await freshStores({ now: () => clock });
});
afterAll(async () => {
  await t.drop();
});

const response = { statusCode: 202, headers: { location: '/v1/workspaces/a/clusters/b' }, body: '{"name":"b"}' };

describe('idempotency', () => {
  it('claims a new key, then hands the existing record to later claims; complete stores the response', async () => {
    // Act
    const first = await t.stores.idempotency.claim('user:bob', 'key-1', 'hash-a');
    const whileRunning = await t.stores.idempotency.claim('user:bob', 'key-1', 'hash-a');
    await t.stores.idempotency.complete('user:bob', 'key-1', response);
    const replay = await t.stores.idempotency.claim('user:bob', 'key-1', 'hash-b');
    const otherPrincipal = await t.stores.idempotency.claim('user:alice', 'key-1', 'hash-a');

    // Assess
    expect(first).toBeNull();
    expect(whileRunning).toEqual({ requestHash: 'hash-a', state: 'in-progress' });
    expect(replay).toEqual({ requestHash: 'hash-a', state: 'done', response });
    expect(otherPrincipal).toBeNull();
    const raw = await t.client.send(new GetCommand({ TableName: t.tableName, Key: { pk: 'IDEMPOTENCY#user:bob#key-1', sk: 'META' } }));
    expect(raw.Item?.ttl).toBe(Math.floor(clock.getTime() / 1000) + 24 * 3600);
  });

  it('lets exactly one of concurrent claims of one key win', async () => {
    // Act
    const { ok } = await settle(Array.from({ length: 10 }, () => t.stores.idempotency.claim('user:bob', 'key-race', 'h')));

    // Assess
    expect(ok.filter((r) => r === null)).toHaveLength(1);
    expect(ok.filter((r) => r !== null)).toHaveLength(9);
  });

  it('release frees an in-progress claim but never a completed one', async () => {
    // Prepare
    await t.stores.idempotency.claim('user:bob', 'key-retry', 'h');
    await t.stores.idempotency.claim('user:bob', 'key-done', 'h');
    await t.stores.idempotency.complete('user:bob', 'key-done', response);

    // Act
    await t.stores.idempotency.release('user:bob', 'key-retry');
    await t.stores.idempotency.release('user:bob', 'key-done');
    await t.stores.idempotency.release('user:bob', 'key-never-claimed');

    // Assess
    expect(await t.stores.idempotency.claim('user:bob', 'key-retry', 'h2')).toBeNull();
    expect(await t.stores.idempotency.claim('user:bob', 'key-done', 'h')).toMatchObject({ state: 'done', response });
  });

  it('treats a record past its 24 h expiry as absent (DynamoDB TTL deletes lazily)', async () => {
    // Prepare
    await t.stores.idempotency.claim('user:bob', 'key-old', 'old-hash');
    const start = clock;

    // Act
    clock = new Date(start.getTime() + 24 * 3600 * 1000 + 1000);
    const later = await t.stores.idempotency.claim('user:bob', 'key-old', 'new-hash');
    const again = await t.stores.idempotency.claim('user:bob', 'key-old', 'x');
    clock = start;

    // Assess
    expect(later).toBeNull();
    expect(again).toEqual({ requestHash: 'new-hash', state: 'in-progress' });
  });

  it('complete of an unclaimed key is NotFoundError', async () => {
    // Act
    const err = await t.stores.idempotency.complete('user:bob', 'key-missing', response).catch((e: unknown) => e);

    // Assess
    expect(errorName(err)).toBe('NotFoundError');
  });
});

describe('audit', () => {
  it('appends records to the day partition in time order and pages through them', async () => {
    // Prepare
    clock = new Date('2026-04-02T08:00:00.000Z');
    await t.stores.audit.append({ actor: 'user:admin', action: 'Login.admin', resource: 'me' });
    clock = new Date('2026-04-02T09:00:00.000Z');
    await t.stores.networkPlans.create(networkPlan('audited'), admin);
    clock = new Date('2026-04-02T10:00:00.000Z');
    await t.stores.networkPlans.delete('audited', admin);
    clock = new Date('2026-04-03T00:00:00.000Z');
    await t.stores.audit.append({ actor: 'user:admin', action: 'Next.day', resource: 'x', detail: { n: 1 } });

    // Act
    const p1 = await t.stores.audit.listDay('2026-04-02', { limit: 2 });
    const p2 = await t.stores.audit.listDay('2026-04-02', { limit: 2, nextToken: p1.nextToken ?? undefined });
    const nextDay = await t.stores.audit.listDay('2026-04-03');
    const crossed = await t.stores.audit.listDay('2026-04-03', { nextToken: p1.nextToken ?? undefined }).catch((e: unknown) => e);
    const badDay = await t.stores.audit.listDay('yesterday').catch((e: unknown) => e);

    // Assess
    expect([...p1.items, ...p2.items].map((r) => [r.at, r.action])).toEqual([
      ['2026-04-02T08:00:00.000Z', 'Login.admin'],
      ['2026-04-02T09:00:00.000Z', 'NetworkPlan.create'],
      ['2026-04-02T10:00:00.000Z', 'NetworkPlan.delete'],
    ]);
    expect(p2.nextToken).toBeNull();
    expect(nextDay.items).toEqual([{ at: '2026-04-03T00:00:00.000Z', actor: 'user:admin', action: 'Next.day', resource: 'x', detail: { n: 1 } }]);
    expect(errorName(crossed)).toBe('ValidationError');
    expect(errorName(badDay)).toBe('ValidationError');
  });

  it('a failed admin write leaves no audit record', async () => {
    // Prepare
    clock = new Date('2026-05-05T05:00:00.000Z');
    await t.stores.networkPlans.create(networkPlan('once'), admin);

    // Act
    await t.stores.networkPlans.create(networkPlan('once'), admin).catch(() => undefined);
    await t.stores.networkPlans.delete('never', admin).catch(() => undefined);
    await t.stores.networkPlans.replace('once', networkPlan('once'), admin, 9).catch(() => undefined);

    // Assess
    const day = await t.stores.audit.listDay('2026-05-05');
    expect(day.items.map((r) => `${r.action} ${r.resource}`)).toEqual(['NetworkPlan.create network-plans/once']);
  });
});
