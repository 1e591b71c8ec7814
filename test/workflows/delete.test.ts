/**
 * delete-cluster end to end: DELETE on a Ready, self-managed cluster moves its CAPI objects back, deletes
 * them, waits until every machine is gone, forgets the kept access, releases the quota and marks it Deleted —
 * and the name can then be used again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLUSTER_REQUEST, DEMO_DEVELOPER, DEMO_WORKSPACE } from '../../local/seed.ts';
import { ACCESS_NAMESPACE, accessSecretName } from '../../shared/capi/access.ts';
import { ANNOTATION_SLIPWAY_PAUSED } from '../../shared/capi/mover.ts';
import { workspaceNamespace } from '../../shared/capi/render.ts';
import { DetailType } from '../../shared/events/constants.ts';
import { capiObjectsOf, cloudProblems, clusterPath, instancesOf, liveInstancesOf, provisionReady, waitSettled } from '../helpers/clusters.ts';
import { type RuntimeHarness, startRuntimeHarness } from '../helpers/runtime.ts';

const WS = DEMO_WORKSPACE;
const NAME = 'del-1';

let h: RuntimeHarness;
let dev: string;

beforeAll(async () => {
  h = await startRuntimeHarness();
  dev = await h.token(DEMO_DEVELOPER);
});

afterAll(async () => {
  await h?.close();
});

const sim = () => {
  const s = h.runtime.simulator;
  if (!s) throw new Error('the runtime has no simulator');
  return s;
};

describe('delete-cluster', () => {
  it('deletes a self-managed cluster completely, releases its quota, and the name can be reused', async () => {
    // Prepare
    const usageEmpty = await h.runtime.stores.clusters.usage(WS);
    const ready = await provisionReady(h, dev, WS, { ...DEMO_CLUSTER_REQUEST, name: NAME });
    expect(ready.capiLocation).toBe('self');
    const record = await h.runtime.stores.clusters.get(WS, NAME);
    if (!record) throw new Error('cluster record missing');
    const usageReady = await h.runtime.stores.clusters.usage(WS);
    expect(usageReady.clusters).toBe(usageEmpty.clusters + 1);
    expect(usageReady.monthlyUsd).toBeCloseTo(usageEmpty.monthlyUsd + ready.costEstimate.monthlyUsd, 2);
    const launched = instancesOf(sim(), WS, NAME).length;
    expect(liveInstancesOf(sim(), WS, NAME)).toHaveLength(ready.controlPlane.replicas + ready.nodePools[0].desired);
    const accessRef = { apiVersion: 'v1', kind: 'Secret', namespace: ACCESS_NAMESPACE, name: accessSecretName(record) };
    expect(await h.runtime.management.get(accessRef)).not.toBeNull();

    // Act
    const res = await h.call('DELETE', clusterPath(WS, NAME), { token: dev });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.phase).toBe('Deleting');
    const again = await h.call('DELETE', clusterPath(WS, NAME), { token: dev });
    const deleted = await waitSettled(h, dev, WS, NAME);

    // Assess: the record and the answer to a repeated DELETE
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    expect(deleted.phase, `${deleted.step}: ${deleted.message}`).toBe('Deleted');
    expect(h.runtime.workflows.list().filter((e) => e.workflow === 'delete-cluster')).toHaveLength(1);

    // Every instance terminated, none launched for the deletion, none duplicated or leaked.
    await h.waitFor(
      'instances terminated',
      async () => instancesOf(sim(), WS, NAME),
      (all) => all.every((i) => i.state === 'terminated'),
      15_000,
    );
    expect(instancesOf(sim(), WS, NAME)).toHaveLength(launched);
    expect(cloudProblems(sim())).toEqual({ duplicated: 0, leaked: 0 });

    // No CAPI object left: not in the management cluster, and the workload cluster itself is gone.
    expect(await capiObjectsOf(h.runtime.management, WS, NAME)).toEqual([]);
    const vc = `${workspaceNamespace(WS)}--${NAME}`;
    expect(sim().server.getCluster(vc)).toBeUndefined();
    expect(await h.runtime.management.get(accessRef)).toBeNull();

    // The quota is released.
    const usageAfter = await h.runtime.stores.clusters.usage(WS);
    expect(usageAfter.clusters).toBe(usageEmpty.clusters);
    expect(usageAfter.monthlyUsd).toBeCloseTo(usageEmpty.monthlyUsd, 2);

    // History and events.
    const history = (await h.call('GET', `${clusterPath(WS, NAME)}/events`, { token: dev })).body.items.map((r: { phase: string }) => r.phase);
    expect(history.slice(-2)).toEqual(['Deleting', 'Deleted']);
    await h.runtime.events.drain();
    const changes = h.runtime.events
      .history({ source: 'slipway', detailType: DetailType.ClusterPhaseChanged })
      .map((r) => r.event.detail as { cluster: { uid: string }; generation: number; phase: string })
      .filter((d) => d.cluster.uid === record.uid && d.generation === deleted.generation)
      .map((d) => d.phase);
    expect(changes).toEqual(['Deleting', 'Deleted']);
    const gone = h.runtime.events.history({ source: 'slipway', detailType: DetailType.ClusterDeleted });
    expect(gone).toHaveLength(1);
    expect(gone[0]?.event.detail).toMatchObject({ cluster: { workspaceId: WS, name: NAME, uid: record.uid }, phase: 'Deleted' });

    // Act: the name again — and a change asked for while it provisions
    const requested = await h.call('POST', `/v1/workspaces/${WS}/clusters`, { token: dev, body: { ...DEMO_CLUSTER_REQUEST, name: NAME } });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    const early = await h.call('PATCH', clusterPath(WS, NAME), { token: dev, body: { nodePools: [{ name: 'workers', desired: 3 }] } });
    const reused = await waitSettled(h, dev, WS, NAME);

    // Assess: the change was refused before any workflow started (only Ready clusters change)
    expect(early.status, JSON.stringify(early.body)).toBe(409);
    expect(h.runtime.workflows.list().filter((e) => e.workflow === 'update-cluster')).toHaveLength(0);
    // A new incarnation, its own instances, the old ones still terminated
    expect(reused.phase, `${reused.step}: ${reused.message}`).toBe('Ready');
    expect(reused.uid).not.toBe(record.uid);
    expect(reused.generation).toBe(1);
    expect(liveInstancesOf(sim(), WS, NAME)).toHaveLength(reused.controlPlane.replicas + reused.nodePools[0].desired);
    expect(cloudProblems(sim())).toEqual({ duplicated: 0, leaked: 0 });
    const usageReused = await h.runtime.stores.clusters.usage(WS);
    expect(usageReused.clusters).toBe(usageEmpty.clusters + 1);
  }, 180_000);

  it('deletes a cluster that failed before its pivot', async () => {
    // Prepare: the first control-plane machine fails to launch
    const name = 'del-2';
    sim().faults.failNextMachines(1, { namespace: workspaceNamespace(WS), name });
    const usageBefore = await h.runtime.stores.clusters.usage(WS);
    const res = await h.call('POST', `/v1/workspaces/${WS}/clusters`, { token: dev, body: { ...DEMO_CLUSTER_REQUEST, name } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const failed = await waitSettled(h, dev, WS, name);
    expect(failed.phase).toBe('Failed');
    expect(failed.capiLocation).toBe('management');

    // Act
    const del = await h.call('DELETE', clusterPath(WS, name), { token: dev });
    expect(del.status, JSON.stringify(del.body)).toBe(202);
    const deleted = await waitSettled(h, dev, WS, name);

    // Assess
    expect(deleted.phase, `${deleted.step}: ${deleted.message}`).toBe('Deleted');
    await h.waitFor(
      'instances terminated',
      async () => instancesOf(sim(), WS, name),
      (all) => all.every((i) => i.state === 'terminated'),
      15_000,
    );
    expect(await capiObjectsOf(h.runtime.management, WS, name)).toEqual([]);
    const usageAfter = await h.runtime.stores.clusters.usage(WS);
    expect(usageAfter.clusters).toBe(usageBefore.clusters);
    expect(usageAfter.monthlyUsd).toBeCloseTo(usageBefore.monthlyUsd, 2);
    expect(cloudProblems(sim())).toEqual({ duplicated: 0, leaked: 0 });
  });

  it('deletes a cluster whose pivot failed after pausing it', async () => {
    // Prepare: a cluster that failed in the management cluster, left paused the way the mover pauses a Cluster
    // before copying it (a pivot that fails after its pause, e.g. its retries exhausted, leaves exactly this).
    const name = 'del-3';
    sim().faults.failNextMachines(1, { namespace: workspaceNamespace(WS), name });
    const res = await h.call('POST', `/v1/workspaces/${WS}/clusters`, { token: dev, body: { ...DEMO_CLUSTER_REQUEST, name } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await waitSettled(h, dev, WS, name)).phase).toBe('Failed');
    const ref = { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', namespace: workspaceNamespace(WS), name };
    await h.runtime.management.mergePatch(ref, { spec: { paused: true }, metadata: { annotations: { [ANNOTATION_SLIPWAY_PAUSED]: 'true' } } });

    // Act
    const del = await h.call('DELETE', clusterPath(WS, name), { token: dev });
    expect(del.status, JSON.stringify(del.body)).toBe(202);
    const deleted = await waitSettled(h, dev, WS, name);

    // Assess
    expect(deleted.phase, `${deleted.step}: ${deleted.message}`).toBe('Deleted');
    await h.waitFor('instances terminated', async () => instancesOf(sim(), WS, name), (all) => all.every((i) => i.state === 'terminated'), 15_000);
    expect(await capiObjectsOf(h.runtime.management, WS, name)).toEqual([]);
    expect(cloudProblems(sim())).toEqual({ duplicated: 0, leaked: 0 });
  });
});
