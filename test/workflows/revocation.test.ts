/**
 * Revocation end to end on the local runtime: a cluster provisioned by the real workflows on the simulator,
 * kubeconfigs from the real route, and the runtime's sweep timer carrying out the revocation a member removal
 * wrote — the removed member's token stops working without anyone calling anything else.
 */
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADMIN, DEMO_CLUSTER_REQUEST, DEMO_DEVELOPER, DEMO_OWNER, DEMO_WORKSPACE } from '../../local/seed.ts';
import { provisionReady } from '../helpers/clusters.ts';
import { type RuntimeHarness, startRuntimeHarness } from '../helpers/runtime.ts';

let h: RuntimeHarness;

beforeAll(async () => {
  h = await startRuntimeHarness({ ttlSweepMs: 100 });
});

afterAll(async () => {
  await h?.close();
});

async function kubeconfigOf(who: { sub: string; groups?: readonly string[] }, cluster: string): Promise<CoreV1Api> {
  const res = await h.call('GET', `/v1/workspaces/${DEMO_WORKSPACE}/clusters/${cluster}/kubeconfig`, { token: await h.token(who) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const kc = new KubeConfig();
  kc.loadFromString(String(res.body));
  return kc.makeApiClient(CoreV1Api);
}

async function listPods(core: CoreV1Api): Promise<number> {
  try {
    await core.listPodForAllNamespaces();
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

describe('revocation on the runtime', () => {
  it('the sweep timer revokes a removed owner’s access in the workload cluster; the other owner keeps theirs', async () => {
    // Prepare: a Ready cluster, and two owners with kubeconfigs
    const dev = await h.token(DEMO_DEVELOPER);
    await provisionReady(h, dev, DEMO_WORKSPACE, { ...DEMO_CLUSTER_REQUEST, name: 'revoke-1' });
    const admin = await h.token(DEMO_ADMIN);
    const eve = { sub: 'eve', groups: [] as string[] };
    const put = await h.call('PUT', `/v1/workspaces/${DEMO_WORKSPACE}/members/${encodeURIComponent('user:eve')}`, { token: admin, body: { role: 'owner' } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const eveCore = await kubeconfigOf(eve, 'revoke-1');
    const aliceCore = await kubeconfigOf(DEMO_OWNER, 'revoke-1');
    expect(await listPods(eveCore)).toBe(200);

    // Act
    const removed = await h.call('DELETE', `/v1/workspaces/${DEMO_WORKSPACE}/members/${encodeURIComponent('user:eve')}`, { token: admin });
    expect(removed.status).toBe(204);

    // Assess
    expect(await h.waitFor('eve’s token rejected', () => listPods(eveCore), (code) => code === 401, 30_000)).toBe(401);
    await h.waitFor('outbox empty', async () => (await h.runtime.stores.revocations.listPending()).items.length, (n) => n === 0, 30_000);
    expect(await listPods(aliceCore)).toBe(200);
  });
});
