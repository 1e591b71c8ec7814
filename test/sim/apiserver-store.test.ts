import { describe, expect, it } from 'vitest';
import { ConflictError, InvalidError, NotFoundError } from '../../local/sim/apiserver/errors.ts';
import { crdsFor } from '../../local/sim/apiserver/crds.ts';
import { ClusterStore, clone, type KubeObject, ownerRefTo, type WatchEvent } from '../../local/sim/apiserver/store.ts';

const CAPI = 'cluster.x-k8s.io/v1beta2';

function withNamespace(name = 'ns1'): ClusterStore {
  const store = new ClusterStore({ orphanGcDelayMs: 5 });
  store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return store;
}

function machine(name: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: CAPI, kind: 'Machine', metadata: { name, namespace: 'ns1', ...extra }, spec: { clusterName: 'c1' } };
}

describe('ClusterStore', () => {
  it('creates objects with uid, resourceVersion, generation and creationTimestamp, frozen', () => {
    // Prepare
    const store = withNamespace();
    // Act
    const m = store.create(machine('m1'));
    // Assess
    expect(m.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(m.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(m.metadata.generation).toBe(1);
    expect(m.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Object.isFrozen(m.metadata)).toBe(true);
    expect(store.load({ apiVersion: CAPI, kind: 'Machine', namespace: 'ns1', name: 'm1' })).toBe(m);
  });

  it('refuses a namespaced object whose namespace does not exist', () => {
    // Prepare
    const store = new ClusterStore();
    // Act
    const act = () => store.create(machine('m1'));
    // Assess
    expect(act).toThrow(NotFoundError);
    expect(act).toThrow('namespaces "ns1" not found');
  });

  it('bumps generation on spec changes only and refuses stale resourceVersions', () => {
    // Prepare
    const store = withNamespace();
    const m = store.create(machine('m1'));
    // Act
    const labelled = store.mergePatch(m, { metadata: { labels: { a: 'b' } } });
    const respecced = store.mergePatch(m, { spec: { version: 'v1.31.0' } });
    const stale = clone(m);
    // Assess
    expect(labelled.metadata.generation).toBe(1);
    expect(respecced.metadata.generation).toBe(2);
    expect(() => store.update(stale)).toThrow(ConflictError);
  });

  it('ignores status on the main resource and changes only status through updateStatus', () => {
    // Prepare
    const store = withNamespace();
    const m = store.create({ ...machine('m1'), status: { phase: 'Running' } });
    // Act
    const withStatus = store.updateStatus({ ...clone(m), spec: { clusterName: 'other' }, status: { phase: 'Provisioned' } });
    const mainWrite = store.update({ ...clone(withStatus), status: { phase: 'Failed' } });
    // Assess
    expect(m.status).toBeUndefined();
    expect(withStatus.status).toEqual({ phase: 'Provisioned' });
    expect(withStatus.spec).toEqual({ clusterName: 'c1' });
    expect(mainWrite.status).toEqual({ phase: 'Provisioned' });
  });

  it('keeps an object with finalizers until they are removed, then garbage-collects its dependents', () => {
    // Prepare
    const store = withNamespace();
    const owner = store.create(machine('owner', { finalizers: ['sim/hold'] }));
    store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dep', namespace: 'ns1', ownerReferences: [ownerRefTo(owner)] } });
    const events: WatchEvent[] = [];
    store.subscribe((e) => events.push(e));
    // Act
    const first = store.delete(owner);
    const stillThere = store.get(owner);
    store.mergePatch(owner, { metadata: { finalizers: null } });
    // Assess
    expect(first.deleted).toBe(false);
    expect(stillThere?.metadata.deletionTimestamp).toBeDefined();
    expect(store.get(owner)).toBeUndefined();
    expect(store.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns1', name: 'dep' })).toBeUndefined();
    expect(events.map((e) => `${e.type} ${e.object.kind}`)).toEqual(['MODIFIED Machine', 'MODIFIED Machine', 'DELETED Machine', 'DELETED ConfigMap']);
  });

  it('applies with field ownership: conflicts between managers, force takes over', () => {
    // Prepare
    const store = withNamespace();
    store.apply({ ...machine('m1'), spec: { clusterName: 'c1', version: 'v1.31.0' } }, { fieldManager: 'a' });
    // Act
    let conflict: unknown;
    try {
      store.apply({ ...machine('m1'), spec: { version: 'v1.32.0' } }, { fieldManager: 'b' });
    } catch (err) {
      conflict = err;
    }
    const forced = store.apply({ ...machine('m1'), spec: { version: 'v1.32.0' } }, { fieldManager: 'b', force: true });
    // Assess
    expect(conflict).toBeInstanceOf(ConflictError);
    expect((conflict as ConflictError).message).toContain('conflict with "a" using cluster.x-k8s.io/v1beta2: .spec.version');
    expect(forced.spec).toEqual({ clusterName: 'c1', version: 'v1.32.0' });
    expect(forced.metadata.managedFields?.map((f) => f.manager).sort()).toEqual(['a', 'b']);
  });

  it('requires a fieldManager for apply', () => {
    // Prepare
    const store = withNamespace();
    // Act
    const act = () => store.apply(machine('m1'), { fieldManager: '' });
    // Assess
    expect(act).toThrow(InvalidError);
  });

  it('lists by namespace and label selector', () => {
    // Prepare
    const store = withNamespace();
    store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns2' } });
    store.create(machine('a', { labels: { role: 'cp' } }));
    store.create(machine('b', { labels: { role: 'worker' } }));
    store.create({ ...machine('c', { labels: { role: 'cp' } }), metadata: { name: 'c', namespace: 'ns2', labels: { role: 'cp' } } });
    // Act
    const cps = store.list({ apiVersion: CAPI, kind: 'Machine', labelSelector: 'role=cp' });
    const notCpInNs1 = store.list({ apiVersion: CAPI, kind: 'Machine', namespace: 'ns1', labelSelector: 'role notin (cp)' });
    // Assess
    expect(cps.map((m) => m.metadata.name).sort()).toEqual(['a', 'c']);
    expect(notCpInNs1.map((m) => m.metadata.name)).toEqual(['b']);
  });

  it('deletes the content of a namespace with it', () => {
    // Prepare
    const store = withNamespace();
    store.create(machine('m1'));
    // Act
    const result = store.delete({ apiVersion: 'v1', kind: 'Namespace', name: 'ns1' });
    // Assess
    expect(result.deleted).toBe(true);
    expect(store.size).toBe(0);
  });

  it('garbage-collects an object whose owner uid does not exist', async () => {
    // Prepare
    const store = withNamespace();
    const ghost = { apiVersion: CAPI, kind: 'MachineSet', name: 'gone', uid: '00000000-0000-0000-0000-000000000000' };
    // Act
    store.create(machine('m1', { ownerReferences: [ghost] }));
    await new Promise((r) => setTimeout(r, 30));
    // Assess
    expect(store.get({ apiVersion: CAPI, kind: 'Machine', namespace: 'ns1', name: 'm1' })).toBeUndefined();
  });

  it('runs admission checks on main-resource writes, not on status writes', () => {
    // Prepare
    const store = withNamespace();
    store.addValidator('controlplane.cluster.x-k8s.io', 'KubeadmControlPlane', (obj) => {
      const replicas = (obj.spec as { replicas?: number } | undefined)?.replicas ?? 1;
      return replicas % 2 === 0 ? [{ field: 'spec.replicas', type: 'FieldValueForbidden', detail: 'cannot be an even number when etcd is stacked' }] : [];
    });
    const kcp = (replicas: number): KubeObject => ({
      apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2',
      kind: 'KubeadmControlPlane',
      metadata: { name: 'cp', namespace: 'ns1' },
      spec: { replicas },
    });
    // Act
    const even = () => store.create(kcp(2));
    const created = store.create(kcp(3));
    const status = store.updateStatus({ ...clone(created), status: { replicas: 2 } });
    // Assess
    expect(even).toThrow(InvalidError);
    expect(even).toThrow('spec.replicas: Forbidden: cannot be an even number when etcd is stacked');
    expect(status.status).toEqual({ replicas: 2 });
  });

  it('serves custom kinds of a CRD-gated store only while their CRD exists', () => {
    // Prepare
    const store = new ClusterStore({ crdGated: true });
    store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns1' } });
    const crd = crdsFor(['cluster-api']).find((c) => c.metadata.name === 'machines.cluster.x-k8s.io')!;
    // Act
    const before = () => store.create(machine('m1'));
    store.create(crd);
    const created = store.create(machine('m1'));
    store.delete(crd);
    // Assess
    expect(before).toThrow('no matches for kind "Machine" in version "cluster.x-k8s.io/v1beta2"');
    expect(created.metadata.uid).toBeTruthy();
    expect(store.getByUid(created.metadata.uid ?? '')).toBeUndefined();
    expect(() => store.list({ apiVersion: CAPI, kind: 'Machine' })).toThrow(NotFoundError);
  });

  it('defers garbage collection and namespace cleanup by gcDelayMs, like real controllers', async () => {
    // Prepare
    const store = new ClusterStore({ gcDelayMs: 20 });
    store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns1' } });
    const owner = store.create(machine('owner'));
    store.create(machine('dep', { ownerReferences: [ownerRefTo(owner)] }));
    // Act
    store.delete(owner);
    const depRightAfter = store.get({ apiVersion: CAPI, kind: 'Machine', namespace: 'ns1', name: 'dep' });
    const nsResult = store.delete({ apiVersion: 'v1', kind: 'Namespace', name: 'ns1' });
    await new Promise((r) => setTimeout(r, 100));
    // Assess
    expect(depRightAfter).toBeDefined();
    expect(nsResult.deleted).toBe(false);
    expect(nsResult.object.metadata.deletionTimestamp).toBeDefined();
    expect(store.size).toBe(0);
  });

  it('merges associative lists by key in apply: two managers, two conditions, each owning its own', () => {
    // Prepare
    const store = withNamespace();
    store.create(machine('m1'));
    const cond = (type: string, status: string) => ({ ...machine('m1'), status: { conditions: [{ type, status }] } });
    // Act
    store.apply(cond('Ready', 'True'), { fieldManager: 'capi-machine', subresource: 'status' });
    const both = store.apply(cond('BootstrapReady', 'True'), { fieldManager: 'capi-bootstrap', subresource: 'status' });
    const dropped = store.apply({ ...machine('m1'), status: { conditions: [] } }, { fieldManager: 'capi-bootstrap', subresource: 'status' });
    // Assess
    expect((both.status as { conditions: unknown[] }).conditions).toEqual([
      { type: 'Ready', status: 'True' },
      { type: 'BootstrapReady', status: 'True' },
    ]);
    expect(JSON.stringify(both.metadata.managedFields)).toContain('k:{\\"type\\":\\"Ready\\"}');
    expect((dropped.status as { conditions: unknown[] }).conditions).toEqual([{ type: 'Ready', status: 'True' }]);
  });

  it('reports a conflict inside an associative list item by its key', () => {
    // Prepare
    const store = withNamespace();
    const cluster = (mds: { name: string; replicas: number }[]): KubeObject => ({
      apiVersion: CAPI,
      kind: 'Cluster',
      metadata: { name: 'c1', namespace: 'ns1' },
      spec: { topology: { workers: { machineDeployments: mds.map((md) => ({ class: 'default-worker', ...md })) } } },
    });
    store.apply(cluster([{ name: 'a', replicas: 1 }]), { fieldManager: 'slipway' });
    store.apply(cluster([{ name: 'b', replicas: 2 }]), { fieldManager: 'autoscaler' });
    // Act
    let conflict: unknown;
    try {
      store.apply(cluster([{ name: 'a', replicas: 5 }]), { fieldManager: 'autoscaler' });
    } catch (err) {
      conflict = err;
    }
    const current = store.load({ apiVersion: CAPI, kind: 'Cluster', namespace: 'ns1', name: 'c1' });
    // Assess
    expect((conflict as ConflictError).message).toContain('.spec.topology.workers.machineDeployments[name="a"].replicas');
    expect((current.spec as { topology: { workers: { machineDeployments: { name: string }[] } } }).topology.workers.machineDeployments.map((m) => m.name)).toEqual(['a', 'b']);
  });

  it('checks dry-run writes without storing them or sending events', () => {
    // Prepare
    const store = withNamespace();
    const m = store.create(machine('m1'));
    const events: WatchEvent[] = [];
    store.subscribe((e) => events.push(e));
    // Act
    const created = store.dryRun(() => store.create(machine('m2')));
    const patched = store.dryRun(() => store.mergePatch(m, { spec: { version: 'v1.32.0' } }));
    const deleted = store.dryRun(() => store.delete(m));
    const invalid = () => store.dryRun(() => store.create(machine('Bad_Name')));
    // Assess
    expect(created.metadata.resourceVersion).toBeUndefined();
    expect(patched.metadata.generation).toBe(2);
    expect(deleted.deleted).toBe(true);
    expect(invalid).toThrow(InvalidError);
    expect(events).toEqual([]);
    expect(store.get(m)).toBe(m);
    expect(store.get({ apiVersion: CAPI, kind: 'Machine', namespace: 'ns1', name: 'm2' })).toBeUndefined();
  });
});
