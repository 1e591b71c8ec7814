/** Versioned cluster plans: immutable, consecutively numbered revisions, also under concurrency. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FreshStores, freshStores } from '../helpers/dynamo.ts';
import { admin, errorName, planSpec, settle } from './fixtures.ts';

let t: FreshStores;

beforeAll(async () => {
  t = await freshStores();
});
afterAll(async () => {
  await t.drop();
});

describe('cluster plans', () => {
  it('creates the head and revision 1 together', async () => {
    // Act
    const head = await t.stores.clusterPlans.create('standard', planSpec(), admin);

    // Assess
    expect(head).toMatchObject({ id: 'standard', revision: 1, clusterClass: 'aws-ferrol-1-31-v2', createdBy: 'user:admin' });
    expect(await t.stores.clusterPlans.get('standard')).toEqual(head);
    expect(await t.stores.clusterPlans.getRevision('standard', 1)).toMatchObject({ planId: 'standard', revision: 1, kubernetesVersion: 'v1.31.4' });
    expect(await t.stores.clusterPlans.getRevision('standard', 2)).toBeNull();
  });

  it('refuses a taken id', async () => {
    // Prepare
    await t.stores.clusterPlans.create('taken', planSpec(), admin);

    // Act
    const err = await t.stores.clusterPlans.create('taken', planSpec({ kubernetesVersion: 'v1.31.9' }), admin).catch((e: unknown) => e);

    // Assess
    expect(errorName(err)).toBe('AlreadyExistsError');
    expect((await t.stores.clusterPlans.get('taken'))?.kubernetesVersion).toBe('v1.31.4');
  });

  it('appends revisions without touching earlier ones; get shows the latest content', async () => {
    // Prepare
    const head = await t.stores.clusterPlans.create('evolving', planSpec(), admin);

    // Act
    const r2 = await t.stores.clusterPlans.addRevision('evolving', planSpec({ clusterClass: 'aws-ferrol-1-32-v1', kubernetesVersion: 'v1.32.1' }), { principal: 'user:b' });
    const r3 = await t.stores.clusterPlans.addRevision('evolving', planSpec({ podSecurity: 'baseline' }), admin);

    // Assess
    expect([r2.revision, r3.revision]).toEqual([2, 3]);
    expect(await t.stores.clusterPlans.getRevision('evolving', 1)).toMatchObject({ kubernetesVersion: 'v1.31.4', podSecurity: 'restricted' });
    expect(await t.stores.clusterPlans.getRevision('evolving', 2)).toMatchObject({ kubernetesVersion: 'v1.32.1', createdBy: 'user:b' });
    expect(await t.stores.clusterPlans.get('evolving')).toMatchObject({
      revision: 3,
      podSecurity: 'baseline',
      kubernetesVersion: 'v1.31.4',
      createdAt: head.createdAt,
      createdBy: 'user:admin',
    });
    const revisions = await t.stores.clusterPlans.listRevisions('evolving');
    expect(revisions.items.map((r) => r.revision)).toEqual([1, 2, 3]);
    expect(revisions.nextToken).toBeNull();
    const audit = await t.stores.audit.listDay(new Date().toISOString().slice(0, 10), { limit: 100 });
    expect(audit.items.filter((a) => a.resource === 'cluster-plans/evolving').map((a) => a.action)).toEqual([
      'ClusterPlan.create',
      'ClusterPlan.addRevision',
      'ClusterPlan.addRevision',
    ]);
  });

  it('refuses a revision of an unknown plan', async () => {
    // Act
    const err = await t.stores.clusterPlans.addRevision('nope', planSpec(), admin).catch((e: unknown) => e);

    // Assess
    expect(errorName(err)).toBe('NotFoundError');
    expect(await t.stores.clusterPlans.getRevision('nope', 1)).toBeNull();
  });

  it('10 concurrent addRevision calls: distinct consecutive numbers or clean conflicts, never a lost revision', async () => {
    // Prepare
    await t.stores.clusterPlans.create('contended', planSpec(), admin);
    const descriptions = Array.from({ length: 10 }, (_, i) => `change ${i}`);

    // Act
    const { ok, errors } = await settle(descriptions.map((description) => t.stores.clusterPlans.addRevision('contended', planSpec({ description }), admin)));

    // Assess
    expect(errors.map(errorName).every((n) => n === 'ConcurrentModificationError')).toBe(true);
    expect(ok.length).toBeGreaterThan(0);
    const numbers = ok.map((r) => r.revision).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: ok.length }, (_, i) => i + 2));
    const head = await t.stores.clusterPlans.get('contended');
    expect(head?.revision).toBe(1 + ok.length);
    const stored = await t.stores.clusterPlans.listRevisions('contended', { limit: 100 });
    expect(stored.items.map((r) => r.revision)).toEqual(Array.from({ length: 1 + ok.length }, (_, i) => i + 1));
    // Each winner's content is exactly what is stored under its number (nothing overwritten).
    for (const r of ok) expect((await t.stores.clusterPlans.getRevision('contended', r.revision))?.description).toBe(r.description);
    const latest = ok.find((r) => r.revision === head?.revision);
    expect(head?.description).toBe(latest?.description);
  });

  it('pages through plans and revisions; a revisions token does not work for another plan', async () => {
    // Prepare
    await t.stores.clusterPlans.create('paged', planSpec(), admin);
    for (let i = 0; i < 4; i++) await t.stores.clusterPlans.addRevision('paged', planSpec({ description: `r${i + 2}` }), admin);
    await t.stores.clusterPlans.create('other', planSpec(), admin);

    // Act
    const first = await t.stores.clusterPlans.listRevisions('paged', { limit: 2 });
    const second = await t.stores.clusterPlans.listRevisions('paged', { limit: 2, nextToken: first.nextToken ?? undefined });
    const third = await t.stores.clusterPlans.listRevisions('paged', { limit: 2, nextToken: second.nextToken ?? undefined });
    const crossed = await t.stores.clusterPlans.listRevisions('other', { limit: 2, nextToken: first.nextToken ?? undefined }).catch((e: unknown) => e);
    const plansPage = await t.stores.clusterPlans.list({ limit: 2 });

    // Assess
    expect([first, second, third].map((p) => p.items.map((r) => r.revision))).toEqual([[1, 2], [3, 4], [5]]);
    expect(third.nextToken).toBeNull();
    expect(errorName(crossed)).toBe('ValidationError');
    expect(plansPage.items).toHaveLength(2);
    expect(plansPage.nextToken).not.toBeNull();
  });
});
