/**
 * The access-revocation outbox: written in the membership change's own transaction (removal, demotion from
 * owner), read with one Query in time order, cluster progress recorded, deleted when done.
 */
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDynamoStores } from '../../shared/store/dynamo/index.ts';
import { keys } from '../../shared/store/keys.ts';
import { type FreshStores, freshStores } from '../helpers/dynamo.ts';
import { admin, errorName, workspace } from './fixtures.ts';

let t: FreshStores;

beforeEach(async () => {
  t = await freshStores();
  await t.stores.workspaces.create(
    workspace('team-a', [
      { principal: 'user:alice', role: 'owner' },
      { principal: 'user:bob', role: 'member' },
      { principal: 'group:devs', role: 'member' },
    ]),
    admin,
  );
});
afterEach(async () => {
  await t.drop();
});

async function pending() {
  return (await t.stores.revocations.listPending()).items;
}

async function outboxKeys(): Promise<string[]> {
  const out = await t.client.send(
    new QueryCommand({ TableName: t.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.revocations().pk }, ConsistentRead: true }),
  );
  return (out.Items ?? []).map((i) => String(i.sk));
}

describe('revocation outbox', () => {
  it('a removed member and a removed group each leave a pending revocation, oldest first', async () => {
    // Act
    await t.stores.workspaces.removeMember('team-a', 'user:bob', { principal: 'user:alice' });
    await t.stores.workspaces.removeMember('team-a', 'group:devs', { principal: 'user:alice' });
    // Assess
    const items = await pending();
    expect(items.map((r) => [r.workspaceId, r.principal, r.reason, r.actor])).toEqual([
      ['team-a', 'user:bob', 'member-removed', 'user:alice'],
      ['team-a', 'group:devs', 'member-removed', 'user:alice'],
    ]);
    expect(items[0]?.doneClusters).toEqual([]);
    expect(Date.parse(items[0]?.at ?? '')).not.toBeNaN();
    expect(items[0]?.id.startsWith(items[0]?.at ?? 'x')).toBe(true);
  });

  it('pages with nextToken', async () => {
    // Prepare
    await t.stores.workspaces.removeMember('team-a', 'user:bob', admin);
    await t.stores.workspaces.removeMember('team-a', 'group:devs', admin);
    // Act
    const first = await t.stores.revocations.listPending({ limit: 1 });
    const second = await t.stores.revocations.listPending({ limit: 1, nextToken: first.nextToken ?? '' });
    // Assess
    expect(first.items.map((r) => r.principal)).toEqual(['user:bob']);
    expect(second.items.map((r) => r.principal)).toEqual(['group:devs']);
    expect(second.nextToken).toBeNull();
  });

  it('demoting an owner writes one; promoting, re-putting the same role or adding a member writes none', async () => {
    // Act
    await t.stores.workspaces.putMember('team-a', { principal: 'user:bob', role: 'owner' }, admin);
    await t.stores.workspaces.putMember('team-a', { principal: 'user:bob', role: 'owner' }, admin);
    await t.stores.workspaces.putMember('team-a', { principal: 'user:new', role: 'member' }, admin);
    const before = await pending();
    await t.stores.workspaces.putMember('team-a', { principal: 'user:alice', role: 'member' }, admin);
    // Assess
    expect(before).toEqual([]);
    expect((await pending()).map((r) => [r.principal, r.reason])).toEqual([['user:alice', 'owner-demoted']]);
  });

  it('removing someone who is not a member writes nothing', async () => {
    // Act
    const err = await t.stores.workspaces.removeMember('team-a', 'user:nobody', admin).catch((e: unknown) => e);
    // Assess
    expect(errorName(err)).toBe('NotFoundError');
    expect(await outboxKeys()).toEqual([]);
  });

  it('records handled clusters idempotently, deletes on completion and never resurrects a completed item', async () => {
    // Prepare
    await t.stores.workspaces.removeMember('team-a', 'user:bob', admin);
    const [revocation] = await pending();
    const id = revocation?.id ?? '';
    // Act
    await t.stores.revocations.markClusterDone(id, 'uid-2');
    await t.stores.revocations.markClusterDone(id, 'uid-1');
    await t.stores.revocations.markClusterDone(id, 'uid-1');
    const progressed = await pending();
    await t.stores.revocations.complete(id);
    await t.stores.revocations.complete(id);
    await t.stores.revocations.markClusterDone(id, 'uid-3');
    // Assess
    expect(progressed[0]?.doneClusters).toEqual(['uid-1', 'uid-2']);
    expect(await outboxKeys()).toEqual([]);
  });

  it('a membership change whose transaction fails writes neither the change nor its revocation', async () => {
    // Prepare: a client that lets a concurrent writer bump the workspace's version before every transaction,
    // so each attempt's condition fails inside DynamoDB and the store gives up.
    const racing = DynamoDBDocumentClient.from(t.raw, { marshallOptions: { removeUndefinedValues: true } });
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'TransactWriteItemsCommand') {
          await t.client.send(
            new UpdateCommand({ TableName: t.tableName, Key: keys.workspace('team-a'), UpdateExpression: 'ADD #v :one', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':one': 1 } }),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'concurrentWriter' },
    );
    const stores = createDynamoStores({ client: racing, tableName: t.tableName });
    // Act
    const removal = await stores.workspaces.removeMember('team-a', 'user:bob', admin).catch((e: unknown) => e);
    const demotion = await stores.workspaces.putMember('team-a', { principal: 'user:alice', role: 'member' }, admin).catch((e: unknown) => e);
    // Assess
    expect(errorName(removal)).toBe('ConcurrentModificationError');
    expect(errorName(demotion)).toBe('ConcurrentModificationError');
    expect(await outboxKeys()).toEqual([]);
    expect(await t.stores.workspaces.rolesIn('team-a', ['user:bob'])).toEqual(['member']);
    expect((await t.stores.workspaces.get('team-a'))?.members).toContainEqual({ principal: 'user:alice', role: 'owner' });
  });
});
