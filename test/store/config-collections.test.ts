/** Cloud accesses, network plans, compute templates, policies and packages against DynamoDB Local. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FreshStores, freshStores } from '../helpers/dynamo.ts';
import { admin, cloudAccess, computeTemplate, errorName, networkPlan, policy, settle } from './fixtures.ts';

let t: FreshStores;
const today = () => new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  t = await freshStores();
});
afterAll(async () => {
  await t.drop();
});

async function auditFor(resource: string) {
  const page = await t.stores.audit.listDay(today(), { limit: 100 });
  return page.items.filter((r) => r.resource === resource);
}

describe('network plans (optimistic concurrency)', () => {
  it('creates version 1, reads it back without storage attributes, and audits the write', async () => {
    // Act
    const created = await t.stores.networkPlans.create(networkPlan('np-crud'), admin);
    const read = await t.stores.networkPlans.get('np-crud');

    // Assess
    expect(created).toMatchObject({ id: 'np-crud', version: 1, createdBy: 'user:admin', vpcCidr: '10.0.0.0/16' });
    expect(read).toEqual(created);
    for (const k of ['pk', 'sk', 'entity', 'gsi1pk']) expect(read).not.toHaveProperty(k);
    const raw = await t.client.send(new GetCommand({ TableName: t.tableName, Key: { pk: 'NETWORKPLAN', sk: 'np-crud' } }));
    expect(raw.Item?.entity).toBe('NetworkPlan');
    expect(await auditFor('network-plans/np-crud')).toEqual([
      expect.objectContaining({ actor: 'user:admin', action: 'NetworkPlan.create', resource: 'network-plans/np-crud' }),
    ]);
  });

  it('refuses a taken id with AlreadyExistsError and writes no audit record for the failed write', async () => {
    // Prepare
    await t.stores.networkPlans.create(networkPlan('np-dup'), admin);

    // Act
    const err = await t.stores.networkPlans.create(networkPlan('np-dup', { endpointAccess: 'private' }), admin).catch((e: unknown) => e);

    // Assess
    expect(errorName(err)).toBe('AlreadyExistsError');
    expect((await t.stores.networkPlans.load('np-dup')).endpointAccess).toBe('public');
    expect(await auditFor('network-plans/np-dup')).toHaveLength(1);
  });

  it('replaces with the expected version, keeps createdAt/createdBy and bumps the version', async () => {
    // Prepare
    const v1 = await t.stores.networkPlans.create(networkPlan('np-replace'), admin);

    // Act
    const v2 = await t.stores.networkPlans.replace('np-replace', networkPlan('np-replace', { endpointAccess: 'private' }), { principal: 'user:other' }, 1);

    // Assess
    expect(v2).toMatchObject({ version: 2, endpointAccess: 'private', createdAt: v1.createdAt, createdBy: 'user:admin' });
    expect(await t.stores.networkPlans.get('np-replace')).toEqual(v2);
    const audit = await auditFor('network-plans/np-replace');
    expect(audit.map((a) => a.action)).toEqual(['NetworkPlan.create', 'NetworkPlan.replace']);
    expect(audit[1]).toMatchObject({ actor: 'user:other', detail: { version: 2 } });
  });

  it('maps a stale expectedVersion to ConcurrentModificationError and a missing item to NotFoundError', async () => {
    // Prepare
    await t.stores.networkPlans.create(networkPlan('np-stale'), admin);
    await t.stores.networkPlans.replace('np-stale', networkPlan('np-stale'), admin, 1);

    // Act
    const stale = await t.stores.networkPlans.replace('np-stale', networkPlan('np-stale'), admin, 1).catch((e: unknown) => e);
    const missing = await t.stores.networkPlans.replace('np-none', networkPlan('np-none'), admin, 1).catch((e: unknown) => e);

    // Assess
    expect(errorName(stale)).toBe('ConcurrentModificationError');
    expect(errorName(missing)).toBe('NotFoundError');
    expect((await t.stores.networkPlans.load('np-stale')).version).toBe(2);
  });

  it('lets exactly one of several concurrent replaces of the same version win', async () => {
    // Prepare
    await t.stores.networkPlans.create(networkPlan('np-race'), admin);
    const cidrs = ['10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16', '10.4.0.0/16', '10.5.0.0/16'];

    // Act
    const { ok, errors } = await settle(cidrs.map((vpcCidr) => t.stores.networkPlans.replace('np-race', networkPlan('np-race', { vpcCidr }), admin, 1)));

    // Assess
    expect(ok).toHaveLength(1);
    expect(errors.map(errorName)).toEqual(cidrs.slice(1).map(() => 'ConcurrentModificationError'));
    const stored = await t.stores.networkPlans.load('np-race');
    expect(stored).toMatchObject({ version: 2, vpcCidr: ok[0]?.vpcCidr });
    expect((await auditFor('network-plans/np-race')).filter((a) => a.action === 'NetworkPlan.replace')).toHaveLength(1);
  });

  it('replace without expectedVersion retries a lost race instead of failing (last writer wins)', async () => {
    // Prepare
    await t.stores.networkPlans.create(networkPlan('np-lww'), admin);

    // Act
    const { ok } = await settle(['10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16'].map((vpcCidr) => t.stores.networkPlans.replace('np-lww', networkPlan('np-lww', { vpcCidr }), admin)));

    // Assess: every successful replace produced its own version; none was silently merged.
    const versions = ok.map((p) => p.version).sort();
    expect(new Set(versions).size).toBe(versions.length);
    expect((await t.stores.networkPlans.load('np-lww')).version).toBe(1 + ok.length);
  });

  it('deletes with an audit record; deleting again is NotFoundError; load of a missing id is NotFoundError', async () => {
    // Prepare
    await t.stores.networkPlans.create(networkPlan('np-del'), admin);

    // Act
    await t.stores.networkPlans.delete('np-del', admin);
    const again = await t.stores.networkPlans.delete('np-del', admin).catch((e: unknown) => e);

    // Assess
    expect(await t.stores.networkPlans.get('np-del')).toBeNull();
    expect(errorName(again)).toBe('NotFoundError');
    await expect(t.stores.networkPlans.load('np-del')).rejects.toMatchObject({ name: 'NotFoundError' });
    expect((await auditFor('network-plans/np-del')).map((a) => a.action)).toEqual(['NetworkPlan.create', 'NetworkPlan.delete']);
  });
});

describe('cloud accesses and compute templates', () => {
  it('stores a cloud access and records its verification with a version bump', async () => {
    // Prepare
    await t.stores.cloudAccesses.create(cloudAccess('ca-1'), admin);

    // Act
    const verified = await t.stores.cloudAccesses.setVerification('ca-1', {
      status: 'Verified',
      lastVerifiedAt: '2026-01-01T00:00:00.000Z',
      offerings: { 'eu-west-1': ['m6i.large'] },
    });
    const missing = await t.stores.cloudAccesses.setVerification('ca-none', { status: 'Failed' }).catch((e: unknown) => e);

    // Assess
    expect(verified).toMatchObject({ id: 'ca-1', version: 2, verification: { status: 'Verified', offerings: { 'eu-west-1': ['m6i.large'] } } });
    expect(verified).not.toHaveProperty('updatedAt');
    expect(await t.stores.cloudAccesses.get('ca-1')).toEqual(verified);
    expect(errorName(missing)).toBe('NotFoundError');
  });

  it('round-trips a compute template with labels and taints', async () => {
    // Prepare
    const body = computeTemplate('ct-1');
    const pool = body.nodePools[0];
    if (pool) {
      pool.labels = { 'example.com/tier': 'web' };
      pool.taints = [{ key: 'dedicated', value: 'web', effect: 'NoSchedule' }];
    }

    // Act
    await t.stores.computeTemplates.create(body, admin);

    // Assess
    expect((await t.stores.computeTemplates.load('ct-1')).nodePools).toEqual(body.nodePools);
  });
});

describe('policies', () => {
  it('finds global and workspace policies through the scope index, and follows a scope change', async () => {
    // Prepare
    await t.stores.policies.create(policy('pol-global', null), admin);
    await t.stores.policies.create(policy('pol-team-a', 'team-a'), admin);
    await t.stores.policies.create(policy('pol-team-b', 'team-b'), admin);

    // Act
    const forA = await t.stores.policies.applicableTo('team-a');
    await t.stores.policies.replace('pol-team-b', policy('pol-team-b', 'team-a'), admin, 1);
    const forAAfter = await t.stores.policies.applicableTo('team-a');
    const forB = await t.stores.policies.applicableTo('team-b');

    // Assess
    expect(forA.map((p) => p.id).sort()).toEqual(['pol-global', 'pol-team-a']);
    expect(forAAfter.map((p) => p.id).sort()).toEqual(['pol-global', 'pol-team-a', 'pol-team-b']);
    expect(forB.map((p) => p.id)).toEqual(['pol-global']);
    expect(forA.find((p) => p.id === 'pol-team-a')).toMatchObject({ workspaceId: 'team-a', rules: { maxClustersPerWorkspace: 5 }, version: 1 });
    for (const p of forAAfter) expect(p).not.toHaveProperty('gsi1pk');
  });
});

describe('packages', () => {
  it('creates immutable name@version packages and refuses a second create of the same version', async () => {
    // Prepare
    const helm = { repoURL: 'oci://registry.example.com/charts', chart: 'metrics-server', version: '3.12.2', values: { args: ['--kubelet-insecure-tls'] } };

    // Act
    const created = await t.stores.packages.create({ name: 'metrics-server', version: '3.12.2', helm }, admin);
    await t.stores.packages.create({ name: 'metrics-server', version: '3.13.0', helm: { ...helm, version: '3.13.0' } }, admin);
    const dup = await t.stores.packages.create({ name: 'metrics-server', version: '3.12.2', helm }, admin).catch((e: unknown) => e);

    // Assess
    expect(errorName(dup)).toBe('AlreadyExistsError');
    expect(await t.stores.packages.get('metrics-server', '3.12.2')).toEqual(created);
    expect(await t.stores.packages.get('metrics-server', '9.9.9')).toBeNull();
    const listed = await t.stores.packages.list();
    expect(listed.items.map((p) => `${p.name}@${p.version}`)).toEqual(['metrics-server@3.12.2', 'metrics-server@3.13.0']);
    expect(listed.nextToken).toBeNull();
    expect(await auditFor('packages/metrics-server/3.12.2')).toHaveLength(1);
  });
});

describe('pagination', () => {
  it('walks a collection in pages with nextToken null exactly at the end', async () => {
    // Prepare
    const ids = Array.from({ length: 7 }, (_, i) => `pg-${i}`);
    for (const id of ids) await t.stores.cloudAccesses.create(cloudAccess(id), admin);
    const all = (await t.stores.cloudAccesses.list({ limit: 100 })).items.map((c) => c.id);

    // Act
    const seen: string[] = [];
    const sizes: number[] = [];
    let token: string | undefined;
    do {
      const page = await t.stores.cloudAccesses.list({ limit: 3, nextToken: token });
      seen.push(...page.items.map((c) => c.id));
      sizes.push(page.items.length);
      token = page.nextToken ?? undefined;
    } while (token);

    // Assess
    expect(seen).toEqual(all);
    expect(all).toEqual(expect.arrayContaining(ids));
    expect(sizes.slice(0, -1).every((s) => s === 3)).toBe(true);
    expect(sizes[sizes.length - 1]).toBeGreaterThan(0);
  });

  it('refuses a token from another list, a forged token and an out-of-range limit with ValidationError', async () => {
    // Prepare
    for (const id of ['tok-1', 'tok-2']) await t.stores.networkPlans.create(networkPlan(id), admin);
    const networkPage = await t.stores.networkPlans.list({ limit: 1 });
    const foreign = networkPage.nextToken ?? '';
    const forged = Buffer.from(JSON.stringify({ pk: 'WS#team-a', sk: 'CLUSTER#x' })).toString('base64url');

    // Act
    const results = await Promise.all([
      t.stores.cloudAccesses.list({ nextToken: foreign }).catch((e: unknown) => e),
      t.stores.cloudAccesses.list({ nextToken: forged }).catch((e: unknown) => e),
      t.stores.cloudAccesses.list({ nextToken: 'not json at all' }).catch((e: unknown) => e),
      t.stores.cloudAccesses.list({ nextToken: Buffer.from('[1,2]').toString('base64url') }).catch((e: unknown) => e),
      t.stores.cloudAccesses.list({ limit: 0 }).catch((e: unknown) => e),
      t.stores.cloudAccesses.list({ limit: 101 }).catch((e: unknown) => e),
    ]);

    // Assess
    expect(foreign).not.toBe('');
    expect(results.map(errorName)).toEqual(Array(6).fill('ValidationError'));
    expect((results[0] as Error).message).toBe('invalid nextToken');
    expect((await t.stores.networkPlans.list({ limit: 1, nextToken: foreign })).items).toHaveLength(1);
  });
});
