/** Workspaces with member items: membershipsOf / rolesIn indexes, member changes, guarded deletion. */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Member } from '../../shared/domain/schemas.ts';
import { type FreshStores, freshStores } from '../helpers/dynamo.ts';
import { admin, cluster, errorName, workspace } from './fixtures.ts';

let t: FreshStores;

beforeAll(async () => {
  t = await freshStores();
});
afterAll(async () => {
  await t.drop();
});

async function partitionSortKeys(ws: string): Promise<string[]> {
  const out = await t.client.send(
    new QueryCommand({ TableName: t.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `WS#${ws}` }, ConsistentRead: true }),
  );
  return (out.Items ?? []).map((i) => String(i.sk));
}

describe('workspaces', () => {
  it('creates a workspace with members and reads them back', async () => {
    // Prepare
    const members: Member[] = [
      { principal: 'user:bob', role: 'owner' },
      { principal: 'group:team-a-devs', role: 'member' },
    ];

    // Act
    const created = await t.stores.workspaces.create(workspace('team-a', members), admin);
    const read = await t.stores.workspaces.get('team-a');

    // Assess
    expect(created).toMatchObject({ id: 'team-a', version: 1, cloudAccessIds: ['sandbox'], createdBy: 'user:admin' });
    expect(read).toEqual(created);
    expect(read?.members).toEqual([
      { principal: 'group:team-a-devs', role: 'member' },
      { principal: 'user:bob', role: 'owner' },
    ]);
    expect(read).not.toHaveProperty('memberRoles');
    expect(await partitionSortKeys('team-a')).toEqual(['MEMBER#group:team-a-devs', 'MEMBER#user:bob', 'META']);
  });

  it('refuses a taken id without touching the existing members', async () => {
    // Prepare
    await t.stores.workspaces.create(workspace('dup', [{ principal: 'user:first', role: 'owner' }]), admin);

    // Act
    const err = await t.stores.workspaces.create(workspace('dup', [{ principal: 'user:intruder', role: 'owner' }]), admin).catch((e: unknown) => e);

    // Assess
    expect(errorName(err)).toBe('AlreadyExistsError');
    expect(await t.stores.workspaces.rolesIn('dup', ['user:intruder'])).toEqual([]);
    expect((await t.stores.workspaces.get('dup'))?.members).toEqual([{ principal: 'user:first', role: 'owner' }]);
  });

  it('answers membershipsOf with the strongest role per workspace and rolesIn per workspace', async () => {
    // Prepare
    await t.stores.workspaces.create(workspace('ws-x', [{ principal: 'user:carol', role: 'member' }, { principal: 'group:ops', role: 'owner' }]), admin);
    await t.stores.workspaces.create(workspace('ws-y', [{ principal: 'group:ops', role: 'member' }]), admin);
    await t.stores.workspaces.create(workspace('ws-z', [{ principal: 'user:dave', role: 'owner' }]), admin);

    // Act
    const memberships = await t.stores.workspaces.membershipsOf(['user:carol', 'group:ops']);
    const rolesX = await t.stores.workspaces.rolesIn('ws-x', ['user:carol', 'group:ops', 'group:nobody']);
    const rolesZ = await t.stores.workspaces.rolesIn('ws-z', ['user:carol', 'group:ops']);

    // Assess
    expect(memberships).toEqual([
      { id: 'ws-x', role: 'owner' },
      { id: 'ws-y', role: 'member' },
    ]);
    expect(rolesX.sort()).toEqual(['member', 'owner']);
    expect(rolesZ).toEqual([]);
  });

  it('puts and removes members, bumping the version and auditing each change', async () => {
    // Prepare
    await t.stores.workspaces.create(workspace('team-m', [{ principal: 'user:owner', role: 'owner' }]), admin);

    // Act
    const added = await t.stores.workspaces.putMember('team-m', { principal: 'user:eve', role: 'member' }, { principal: 'user:owner' });
    const promoted = await t.stores.workspaces.putMember('team-m', { principal: 'user:eve', role: 'owner' }, { principal: 'user:owner' });
    const removed = await t.stores.workspaces.removeMember('team-m', 'user:owner', admin);
    const missingMember = await t.stores.workspaces.removeMember('team-m', 'user:ghost', admin).catch((e: unknown) => e);
    const missingWs = await t.stores.workspaces.putMember('nope', { principal: 'user:eve', role: 'member' }, admin).catch((e: unknown) => e);

    // Assess
    expect(added.version).toBe(2);
    expect(promoted.members).toEqual([
      { principal: 'user:eve', role: 'owner' },
      { principal: 'user:owner', role: 'owner' },
    ]);
    expect(removed).toMatchObject({ version: 4, members: [{ principal: 'user:eve', role: 'owner' }] });
    expect(errorName(missingMember)).toBe('NotFoundError');
    expect(errorName(missingWs)).toBe('NotFoundError');
    expect(await t.stores.workspaces.rolesIn('team-m', ['user:eve', 'user:owner'])).toEqual(['owner']);
    expect(await t.stores.workspaces.membershipsOf(['user:owner'])).toEqual([]);
    const audit = await t.stores.audit.listDay(new Date().toISOString().slice(0, 10), { limit: 100 });
    expect(audit.items.filter((a) => a.resource.startsWith('workspaces/team-m')).map((a) => a.action)).toEqual([
      'Workspace.create',
      'Workspace.putMember',
      'Workspace.putMember',
      'Workspace.removeMember',
    ]);
  });

  it('creates a workspace with more members than one transaction holds', async () => {
    // Prepare: 150 members > 98 that fit next to META and the audit record.
    const members: Member[] = Array.from({ length: 150 }, (_, i) => ({ principal: `user:u${String(i).padStart(3, '0')}`, role: 'member' }));

    // Act
    const created = await t.stores.workspaces.create(workspace('big', members), admin);

    // Assess
    expect(created.members).toHaveLength(150);
    expect(await t.stores.workspaces.rolesIn('big', ['user:u000', 'user:u097', 'user:u098', 'user:u149'])).toEqual(['member', 'member', 'member', 'member']);
    expect(await t.stores.workspaces.membershipsOf(['user:u149'])).toEqual([{ id: 'big', role: 'member' }]);
    expect((await partitionSortKeys('big')).filter((sk) => sk.startsWith('MEMBER#'))).toHaveLength(150);
  });

  it('lists workspaces in pages', async () => {
    // Prepare
    for (const id of ['list-a', 'list-b', 'list-c']) await t.stores.workspaces.create(workspace(id, [{ principal: 'user:x', role: 'member' }]), admin);

    // Act
    const ids: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await t.stores.workspaces.list({ limit: 2, nextToken: token });
      ids.push(...page.items.map((w) => w.id));
      token = page.nextToken ?? undefined;
      pages++;
    } while (token);

    // Assess
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['list-a', 'list-b', 'list-c']));
    expect(pages).toBe(Math.ceil(ids.length / 2));
    const firstPage = await t.stores.workspaces.list({ limit: 100 });
    expect(firstPage.items.find((w) => w.id === 'list-a')?.members).toEqual([{ principal: 'user:x', role: 'member' }]);
  });

  it('refuses to delete a workspace with live clusters, then deletes META, members, usage and Deleted cluster records', async () => {
    // Prepare
    await t.stores.workspaces.create(workspace('doomed', [{ principal: 'user:frank', role: 'owner' }]), admin);
    const c = await t.stores.clusters.create(cluster('doomed', 'c1'), {});

    // Act
    const refused = await t.stores.workspaces.delete('doomed', admin).catch((e: unknown) => e);
    const stillThere = await t.stores.workspaces.get('doomed');
    await t.stores.clusters.markDeleted('doomed', 'c1', c.generation, admin);
    await t.stores.workspaces.delete('doomed', admin);
    const again = await t.stores.workspaces.delete('doomed', admin).catch((e: unknown) => e);

    // Assess
    expect(errorName(refused)).toBe('InUseError');
    expect(stillThere?.members).toHaveLength(1);
    expect(await t.stores.workspaces.get('doomed')).toBeNull();
    expect(await partitionSortKeys('doomed')).toEqual([]);
    expect(await t.stores.workspaces.membershipsOf(['user:frank'])).toEqual([]);
    expect(errorName(again)).toBe('NotFoundError');
  });

  it('does not create a cluster in a workspace that does not exist', async () => {
    // Act
    const err = await t.stores.clusters.create(cluster('ghost-ws', 'c1'), {}).catch((e: unknown) => e);

    // Assess
    expect(errorName(err)).toBe('NotFoundError');
    expect(await t.stores.clusters.usage('ghost-ws')).toEqual({ clusters: 0, monthlyUsd: 0 });
  });
});
