/**
 * Deterministic races: a competing write is slipped in between an adapter's read and its conditional
 * transaction, so the condition-failure paths (ALL_OLD diagnosis, retry, no-op) run every time.
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoStores } from '../../shared/store/dynamo/index.ts';
import type { Stores } from '../../shared/store/ports.ts';
import { type FreshStores, freshStores } from '../helpers/dynamo.ts';
import { admin, cluster, errorName, networkPlan, planSpec, workspace } from './fixtures.ts';

let t: FreshStores;
/** Stores whose next TransactWriteItems first runs `hook.next` (once). */
let racy: Stores;
const hook: { next?: () => Promise<void> } = {};

beforeAll(async () => {
  t = await freshStores();
  const client = new Proxy(t.client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (command: TransactWriteCommand) => {
        const competitor = hook.next;
        if (command instanceof TransactWriteCommand && competitor) {
          hook.next = undefined;
          await competitor();
        }
        return target.send(command);
      };
    },
  });
  racy = createDynamoStores({ client, tableName: t.tableName });
});
afterAll(async () => {
  await t.drop();
});

describe('interleaved writes', () => {
  it('replace: the item is deleted between read and write → NotFoundError', async () => {
    // Prepare
    await t.stores.networkPlans.create(networkPlan('gone'), admin);
    hook.next = () => t.stores.networkPlans.delete('gone', admin);

    // Act
    const err = await racy.networkPlans.replace('gone', networkPlan('gone'), admin, 1).catch((e: unknown) => e);

    // Assess
    expect(errorName(err)).toBe('NotFoundError');
    expect(await t.stores.networkPlans.get('gone')).toBeNull();
  });

  it('replace: another replace lands between read and write → ConcurrentModificationError naming the stored version', async () => {
    // Prepare
    await t.stores.networkPlans.create(networkPlan('busy'), admin);
    hook.next = async () => {
      await t.stores.networkPlans.replace('busy', networkPlan('busy', { endpointAccess: 'private' }), admin, 1);
    };

    // Act
    const err = await racy.networkPlans.replace('busy', networkPlan('busy', { vpcCidr: '10.9.0.0/16' }), admin, 1).catch((e: unknown) => e);

    // Assess
    expect(errorName(err)).toBe('ConcurrentModificationError');
    expect((err as Error).message).toContain('stored version is 2');
    expect(await t.stores.networkPlans.load('busy')).toMatchObject({ version: 2, endpointAccess: 'private', vpcCidr: '10.0.0.0/16' });
  });

  it('addRevision: another revision lands first → retried as the next number, nothing overwritten', async () => {
    // Prepare
    await t.stores.clusterPlans.create('plan', planSpec(), admin);
    hook.next = async () => {
      await t.stores.clusterPlans.addRevision('plan', planSpec({ description: 'competitor' }), admin);
    };

    // Act
    const mine = await racy.clusterPlans.addRevision('plan', planSpec({ description: 'mine' }), admin);

    // Assess
    expect(mine.revision).toBe(3);
    expect((await t.stores.clusterPlans.getRevision('plan', 2))?.description).toBe('competitor');
    expect(await t.stores.clusterPlans.get('plan')).toMatchObject({ revision: 3, description: 'mine' });
  });

  it('markDeleted: another markDeleted lands first → a no-op, quota released once', async () => {
    // Prepare
    await t.stores.workspaces.create(workspace('ws-del'), admin);
    await t.stores.clusters.create(cluster('ws-del', 'a'), {});
    await t.stores.clusters.create(cluster('ws-del', 'b'), {});
    hook.next = async () => {
      await t.stores.clusters.markDeleted('ws-del', 'a', 1, admin);
    };

    // Act
    const result = await racy.clusters.markDeleted('ws-del', 'a', 1, admin);

    // Assess
    expect(result.phase).toBe('Deleted');
    expect(await t.stores.clusters.usage('ws-del')).toEqual({ clusters: 1, monthlyUsd: 100 });
  });

  it('beginOperation: another operation begins first → OperationInFlightError', async () => {
    // Prepare
    await t.stores.workspaces.create(workspace('ws-op'), admin);
    await t.stores.clusters.create(cluster('ws-op', 'a', { operation: null, phase: 'Ready' }), {});
    hook.next = async () => {
      await t.stores.clusters.beginOperation('ws-op', 'a', 'delete', { phase: 'Deleting' }, {});
    };

    // Act
    const err = await racy.clusters.beginOperation('ws-op', 'a', 'update', { phase: 'Updating' }, {}).catch((e: unknown) => e);

    // Assess
    expect(errorName(err)).toBe('OperationInFlightError');
    expect(await t.stores.clusters.get('ws-op', 'a')).toMatchObject({ operation: 'delete', generation: 2 });
  });

  it('workspace delete: a cluster is created first → InUseError and the workspace stays whole', async () => {
    // Prepare
    await t.stores.workspaces.create(workspace('ws-busy', [{ principal: 'user:x', role: 'owner' }]), admin);
    hook.next = async () => {
      await t.stores.clusters.create(cluster('ws-busy', 'late'), {});
    };

    // Act
    const err = await racy.workspaces.delete('ws-busy', admin).catch((e: unknown) => e);

    // Assess
    expect(errorName(err)).toBe('InUseError');
    expect((await t.stores.workspaces.get('ws-busy'))?.members).toEqual([{ principal: 'user:x', role: 'owner' }]);
    expect(await t.stores.workspaces.rolesIn('ws-busy', ['user:x'])).toEqual(['owner']);
  });
});
