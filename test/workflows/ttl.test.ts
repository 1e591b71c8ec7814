/** Clusters past their TTL are deleted through the normal delete workflow, by the runtime's sweeper. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLUSTER_REQUEST, DEMO_DEVELOPER, DEMO_WORKSPACE } from '../../local/seed.ts';
import { type RuntimeHarness, startRuntimeHarness } from '../helpers/runtime.ts';

let h: RuntimeHarness;
let dev: string;
let offsetMs = 0;

beforeAll(async () => {
  h = await startRuntimeHarness({ clock: () => new Date(Date.now() + offsetMs), ttlSweepMs: 100 });
  dev = await h.token(DEMO_DEVELOPER);
});

afterAll(async () => {
  await h?.close();
});

describe('TTL', () => {
  it('deletes a cluster once it is past its expiry, and not before', async () => {
    // Prepare: a Ready cluster that lives 2 hours.
    const path = `/v1/workspaces/${DEMO_WORKSPACE}/clusters/short-lived`;
    const res = await h.call('POST', `/v1/workspaces/${DEMO_WORKSPACE}/clusters`, { token: dev, body: { ...DEMO_CLUSTER_REQUEST, name: 'short-lived', ttlHours: 2 } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const ready = await h.waitFor('Ready', async () => (await h.call('GET', path, { token: dev })).body, (c) => c.phase === 'Ready' || c.phase === 'Failed');
    expect(ready.phase).toBe('Ready');
    await new Promise((r) => setTimeout(r, 400));
    expect((await h.call('GET', path, { token: dev })).body.phase).toBe('Ready');

    // Act: three hours pass.
    offsetMs = 3 * 3_600_000;

    // Assess
    const gone = await h.waitFor('Deleted', async () => (await h.call('GET', path, { token: dev })).body, (c) => c.phase === 'Deleted' || c.phase === 'Failed');
    expect(gone.phase, gone.message).toBe('Deleted');
    const history = (await h.call('GET', `${path}/events`, { token: dev })).body.items as Array<{ phase: string; actor: string; message: string | null }>;
    const deleting = history.find((r) => r.phase === 'Deleting');
    expect(deleting?.actor).toBe('system:ttl');
    expect(deleting?.message).toMatch(/TTL expired/);
    expect(h.runtime.simulator?.cloud.counters().running ?? -1).toBe(0);
  });
});
