import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLUSTER_REQUEST, seedDemo } from '../../local/seed.ts';
import { type FreshStores, freshStores } from '../helpers/dynamo.ts';

let db: FreshStores;
beforeAll(async () => {
  db = await freshStores();
});
afterAll(async () => {
  await db.drop();
});

describe('seedDemo', () => {
  it('creates the demo setup once and leaves what exists alone', async () => {
    // Act
    const first = await seedDemo(db.stores);
    const policy = await db.stores.policies.load('demo-guardrails');
    await db.stores.policies.replace('demo-guardrails', { id: 'demo-guardrails', workspaceId: null, rules: { ...policy.rules, maxClustersPerWorkspace: 1 } }, { principal: 'user:admin' });
    const second = await seedDemo(db.stores);

    // Assess
    expect(first.created).toEqual([
      'cloud-access/sim-sandbox',
      'network-plan/standard-net',
      'package/metrics-server@3.12.2',
      'cluster-plan/standard',
      'cluster-plan/next',
      'compute-template/small',
      'compute-template/general',
      'policy/demo-guardrails',
      'workspace/demo',
    ]);
    expect(second.created).toEqual([]);
    expect(second.kept).toEqual(first.created);
    expect((await db.stores.policies.load('demo-guardrails')).rules.maxClustersPerWorkspace).toBe(1);
  });

  it('gives the developer and the owner their roles in the demo workspace', async () => {
    const ws = await db.stores.workspaces.get('demo');

    expect(ws?.cloudAccessIds).toEqual(['sim-sandbox']);
    expect(await db.stores.workspaces.rolesIn('demo', ['user:dev', 'group:demo-devs'])).toEqual(expect.arrayContaining(['member']));
    expect(await db.stores.workspaces.rolesIn('demo', ['user:alice'])).toEqual(['owner']);
    expect((await db.stores.cloudAccesses.get('sim-sandbox'))?.verification.status).toBe('Verified');
  });

  it('plans sit on the simulator ClusterClasses with matching Kubernetes versions', async () => {
    const standard = await db.stores.clusterPlans.get('standard');
    const next = await db.stores.clusterPlans.get('next');

    expect([standard?.clusterClass, standard?.kubernetesVersion]).toEqual(['sim-ferrol-1-31-v1', 'v1.31.4']);
    expect([next?.clusterClass, next?.kubernetesVersion]).toEqual(['sim-ferrol-1-32-v1', 'v1.32.1']);
    expect(DEMO_CLUSTER_REQUEST.plan.id).toBe('standard');
  });
});
