/**
 * Request → Ready end to end: the API, the real provision-cluster ASL on the local runner, the step
 * handlers, and the CAPI simulator standing in for the management cluster and every workload cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAccess } from '../../shared/capi/access.ts';
import { connectKubeconfig } from '../../shared/capi/connect.ts';
import { workspaceNamespace } from '../../shared/capi/render.ts';
import { DEMO_CLUSTER_REQUEST, DEMO_DEVELOPER, DEMO_OWNER, DEMO_WORKSPACE } from '../../local/seed.ts';
import { type RuntimeHarness, startRuntimeHarness } from '../helpers/runtime.ts';

let h: RuntimeHarness;
let dev: string;

beforeAll(async () => {
  h = await startRuntimeHarness();
  dev = await h.token(DEMO_DEVELOPER);
});

afterAll(async () => {
  await h?.close();
});

describe('provision-cluster', () => {
  it('takes a request to a complete, self-managed cluster', async () => {
    // Act
    const res = await h.call('POST', `/v1/workspaces/${DEMO_WORKSPACE}/clusters`, { token: dev, body: DEMO_CLUSTER_REQUEST });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const path = `/v1/workspaces/${DEMO_WORKSPACE}/clusters/${DEMO_CLUSTER_REQUEST.name}`;
    const ready = await h.waitFor(
      'cluster Ready',
      async () => (await h.call('GET', path, { token: dev })).body,
      (c) => c.phase === 'Ready' || c.phase === 'Failed',
    );

    // Assess: the record
    expect(ready.phase, `${ready.step}: ${ready.message}`).toBe('Ready');
    expect(ready.capiLocation).toBe('self');
    expect(ready.observedGeneration).toBe(ready.generation);
    expect(ready.operation).toBeNull();

    // The workload cluster holds its own CAPI objects, at the requested size.
    const cluster = await h.runtime.stores.clusters.get(DEMO_WORKSPACE, DEMO_CLUSTER_REQUEST.name);
    if (!cluster) throw new Error('cluster record missing');
    const workload = await connectAccess(h.runtime.management, cluster);
    const ns = workspaceNamespace(DEMO_WORKSPACE);
    const inWorkload = await workload.list('cluster.x-k8s.io/v1beta2', 'Cluster', { namespace: ns });
    expect(inWorkload.map((c) => c.metadata.name)).toEqual([cluster.name]);
    const inManagement = await h.runtime.management.list('cluster.x-k8s.io/v1beta2', 'Cluster', { namespace: ns });
    expect(inManagement).toEqual([]);
    expect(await h.runtime.management.list('cluster.x-k8s.io/v1beta2', 'Machine', { namespace: ns })).toEqual([]);
    const machines = await workload.list('cluster.x-k8s.io/v1beta2', 'Machine', { namespace: ns });
    const cp = machines.filter((m) => m.metadata.labels?.['cluster.x-k8s.io/control-plane'] !== undefined);
    const workers = cluster.nodePools.reduce((n, p) => n + p.desired, 0);
    expect(cp).toHaveLength(cluster.controlPlane.replicas);
    expect(machines).toHaveLength(cluster.controlPlane.replicas + workers);
    const nodes = await workload.list('v1', 'Node');
    expect(nodes).toHaveLength(cluster.controlPlane.replicas + workers);

    // Add-ons, policies and access.
    const releases = await workload.list('addons.cluster.x-k8s.io/v1alpha1', 'HelmReleaseProxy', { namespace: ns });
    expect(releases.length).toBeGreaterThan(0);
    const defaultNs = await workload.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' });
    expect(defaultNs?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBeDefined();
    const bindings = await workload.list('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', { labelSelector: { 'slipway.dev/cluster': cluster.name } });
    expect(bindings.length).toBeGreaterThan(0);

    // History and events, in order.
    const history = (await h.call('GET', `${path}/events`, { token: dev })).body.items.map((r: { phase: string }) => r.phase);
    const phases = history.filter((p: string, i: number) => i === 0 || p !== history[i - 1]);
    expect(phases).toEqual(['Requested', 'Provisioning', 'Pivoting', 'Scaling', 'InstallingAddons', 'Ready']);
    await h.runtime.events.drain();
    const published = h.runtime.events
      .history({ source: 'slipway' })
      .filter((e) => e.event['detail-type'] === 'Cluster Phase Changed')
      .map((e) => (e.event.detail as { phase: string }).phase);
    expect(published).toEqual(['Provisioning', 'Pivoting', 'Scaling', 'InstallingAddons', 'Ready']);
    expect(h.runtime.events.history({ source: 'slipway', detailType: 'Cluster Ready' })).toHaveLength(1);

    // Members get a kubeconfig of their own with the plan's role for their group (`edit`: workloads, not
    // nodes); the owner is cluster-admin; strangers get 404.
    const kc = await h.call('GET', `${path}/kubeconfig`, { token: dev });
    expect(kc.status).toBe(200);
    expect(kc.headers['content-type']).toBe('application/yaml');
    expect(kc.headers['cache-control']).toBe('no-store');
    expect(kc.headers['slipway-cluster-roles']).toBe('edit');
    const viaKubeconfig = await connectKubeconfig({ text: String(kc.body) });
    expect((await viaKubeconfig.list('v1', 'Pod')).length).toBeGreaterThanOrEqual(0);
    await expect(viaKubeconfig.list('v1', 'Node')).rejects.toMatchObject({ code: 403 });
    const owner = await h.call('GET', `${path}/kubeconfig`, { token: await h.token(DEMO_OWNER) });
    expect(owner.headers['slipway-cluster-roles']).toBe('cluster-admin');
    expect(await (await connectKubeconfig({ text: String(owner.body) })).list('v1', 'Node')).toHaveLength(nodes.length);
    const stranger = await h.token({ sub: 'mallory', groups: [] });
    expect((await h.call('GET', `${path}/kubeconfig`, { token: stranger })).status).toBe(404);

    // The simulated cloud: no duplicated or leaked instances.
    const counters = h.runtime.simulator?.counters() ?? {};
    const instances = Object.values(counters)[0]?.instances;
    expect(instances?.duplicated ?? 0).toBe(0);
    expect(instances?.leaked ?? 0).toBe(0);
  });
});
