/**
 * The portable half of the contract: behaviours of point 1 that any conformant cluster shows with built-in
 * kinds. Runs against the simulator by default and unchanged against SLIPWAY_TEST_KUBECONFIG.
 */
import { KubernetesObjectApi, PatchStrategy, setHeaderOptions, type V1ConfigMap, type V1Deployment, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, eventually, failure, isGone, type Target, unique } from './harness.ts';

let t: Target;

beforeAll(async () => {
  t = await connect();
});

afterAll(async () => {
  await t.close();
});

function configMap(name: string, extra: Partial<V1ConfigMap> = {}): V1ConfigMap & { metadata: { name: string } } {
  return { apiVersion: 'v1', kind: 'ConfigMap', ...extra, metadata: { name, namespace: t.namespace, ...extra.metadata } };
}

function deployment(name: string): V1Deployment & { metadata: { name: string } } {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: t.namespace },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } },
    },
  };
}

describe('CRUD through client-node', () => {
  it('creates, reads, replaces and deletes a ConfigMap with KubernetesObjectApi', async () => {
    // Prepare
    const name = unique('crud');
    // Act
    const created = await t.objects.create(configMap(name, { data: { a: '1' } }));
    const read = await t.objects.read<V1ConfigMap>(configMap(name));
    const replaced = await t.objects.replace({ ...read, data: { a: '2' } });
    const deleted = await t.objects.delete(configMap(name));
    // Assess
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.creationTimestamp).toBeInstanceOf(Date);
    expect(read.data).toEqual({ a: '1' });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    expect(replaced.data).toEqual({ a: '2' });
    expect(deleted.kind).toBe('Status');
    expect(deleted.status).toBe('Success');
    expect(await isGone(t.objects, configMap(name))).toBe(true);
  });

  it('works through the typed CoreV1Api and AppsV1Api too', async () => {
    // Prepare
    const name = unique('typed');
    // Act
    await t.core.createNamespacedSecret({ namespace: t.namespace, body: { metadata: { name }, stringData: { password: 's3cret' } } });
    const secret = await t.core.readNamespacedSecret({ namespace: t.namespace, name });
    const dep = await t.apps.createNamespacedDeployment({ namespace: t.namespace, body: deployment(name) });
    const deps = await t.apps.listNamespacedDeployment({ namespace: t.namespace });
    // Assess
    expect(secret.data?.password).toBe(Buffer.from('s3cret').toString('base64'));
    expect(secret.stringData).toBeUndefined();
    expect(dep.metadata?.generation).toBe(1);
    expect(deps.items.map((d) => d.metadata?.name)).toContain(name);
  });

  it('answers AlreadyExists (409) with a real Status body', async () => {
    // Prepare
    const name = unique('dup');
    await t.objects.create(configMap(name));
    // Act
    const { code, status } = await failure(t.objects.create(configMap(name)));
    // Assess
    expect(code).toBe(409);
    expect(status).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', code: 409 });
    expect(status.message).toBe(`configmaps "${name}" already exists`);
    expect(status.details).toMatchObject({ name, kind: 'configmaps' });
  });

  it('answers NotFound (404) for a missing object', async () => {
    // Prepare
    const name = unique('missing');
    // Act
    const { code, status } = await failure(t.core.readNamespacedConfigMap({ namespace: t.namespace, name }));
    // Assess
    expect(code).toBe(404);
    expect(status).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', message: `configmaps "${name}" not found` });
  });

  it('refuses a write with a stale resourceVersion (409 Conflict)', async () => {
    // Prepare
    const name = unique('stale');
    const v1 = await t.objects.create(configMap(name, { data: { a: '1' } }));
    await t.objects.replace({ ...v1, data: { a: '2' } });
    // Act
    const { code, status } = await failure(t.objects.replace({ ...v1, data: { a: '3' } }));
    // Assess
    expect(code).toBe(409);
    expect(status.reason).toBe('Conflict');
    expect(status.message).toContain('the object has been modified');
    expect((await t.objects.read<V1ConfigMap>(configMap(name))).data).toEqual({ a: '2' });
  });

  it('refuses to create an object that still carries a resourceVersion (a copy not cleaned)', async () => {
    // Prepare
    const name = unique('copied');
    const original = await t.objects.create(configMap(name));
    const copy = configMap(unique('copy'), { metadata: { name: unique('copy'), resourceVersion: original.metadata?.resourceVersion } });
    // Act
    const { code, status } = await failure(t.objects.create(copy));
    // Assess
    expect(code).toBe(500);
    expect(status.message).toContain('resourceVersion should not be set on objects to be created');
    expect(await isGone(t.objects, copy)).toBe(true);
  });

  it('answers dryRun=All writes without storing anything', async () => {
    // Prepare
    const name = unique('dry');
    const kept = unique('dry-kept');
    await t.objects.create(configMap(kept, { data: { a: '1' } }));
    // Act
    const created = await t.objects.create(configMap(name, { data: { a: '1' } }), undefined, 'All');
    const replaced = await t.objects.replace({ ...(await t.objects.read<V1ConfigMap>(configMap(kept))), data: { a: '2' } }, undefined, 'All');
    await t.objects.delete(configMap(kept), undefined, 'All');
    const after = await t.objects.read<V1ConfigMap>(configMap(kept));
    // Assess
    expect(created.metadata?.name).toBe(name);
    expect(await isGone(t.objects, configMap(name))).toBe(true);
    expect(replaced.data).toEqual({ a: '2' });
    expect(after.data).toEqual({ a: '1' });
  });

  it('refuses malformed names with 422 Invalid', async () => {
    // Prepare
    const bad = configMap('Not_A_Name');
    // Act
    const { code, status } = await failure(t.objects.create(bad));
    // Assess
    expect(code).toBe(422);
    expect(status.reason).toBe('Invalid');
    expect(status.details?.kind).toBe('ConfigMap');
    expect(status.details?.causes?.[0]?.field).toBe('metadata.name');
  });
});

describe('lists and label selectors', () => {
  const run = unique('sel');
  beforeAll(async () => {
    const labels: Record<string, Record<string, string>> = {
      a: { run, tier: 'web', env: 'prod' },
      b: { run, tier: 'db', env: 'prod' },
      c: { run, tier: 'web', env: 'dev', canary: 'true' },
      d: { run },
    };
    for (const [n, l] of Object.entries(labels)) await t.objects.create(configMap(`${run}-${n}`, { metadata: { name: `${run}-${n}`, labels: l } }));
  });

  const names = async (selector: string): Promise<string[]> =>
    (await t.objects.list<V1ConfigMap>('v1', 'ConfigMap', t.namespace, undefined, undefined, undefined, undefined, `run=${run},${selector}`)).items
      .map((o) => o.metadata?.name?.slice(run.length + 1) ?? '')
      .sort();

  it('supports =, ==, !=, in, notin, exists and !key', async () => {
    // Prepare: four labelled ConfigMaps (beforeAll)
    // Act
    const results = {
      eq: await names('tier=web'),
      eqeq: await names('tier==db'),
      neq: await names('tier!=web'),
      in: await names('env in (prod,dev)'),
      notin: await names('env notin (prod)'),
      exists: await names('canary'),
      absent: await names('!tier'),
    };
    // Assess
    expect(results).toEqual({
      eq: ['a', 'c'],
      eqeq: ['b'],
      neq: ['b', 'd'],
      in: ['a', 'b', 'c'],
      notin: ['c', 'd'],
      exists: ['c'],
      absent: ['d'],
    });
  });

  it('returns a typed List with a resourceVersion, namespaced and across namespaces', async () => {
    // Prepare: the labelled ConfigMaps (beforeAll)
    // Act
    const namespaced = await t.core.listNamespacedConfigMap({ namespace: t.namespace, labelSelector: `run=${run}` });
    const everywhere = await t.core.listConfigMapForAllNamespaces({ labelSelector: `run=${run}` });
    const byObjectApi = await t.objects.list('v1', 'ConfigMap', undefined, undefined, undefined, undefined, undefined, `run=${run}`);
    // Assess
    expect(namespaced.items).toHaveLength(4);
    expect(Number(namespaced.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(everywhere.items).toHaveLength(4);
    expect(byObjectApi.kind).toBe('ConfigMapList');
    expect(byObjectApi.items.every((o) => o.metadata?.namespace === t.namespace)).toBe(true);
  });

  it('supports field selectors on metadata.name and kind-specific fields, 400 for others', async () => {
    // Prepare
    const cm = `${run}-a`;
    await t.core.createNamespacedEvent({
      namespace: t.namespace,
      body: {
        metadata: { name: `${run}-ev` },
        involvedObject: { kind: 'ConfigMap', name: cm, namespace: t.namespace },
        reason: 'Tested',
        message: 'contract',
        type: 'Normal',
      },
    });
    // Act
    const byName = await t.core.listNamespacedConfigMap({ namespace: t.namespace, fieldSelector: `metadata.name=${cm}` });
    const notByName = await t.core.listNamespacedConfigMap({ namespace: t.namespace, labelSelector: `run=${run}`, fieldSelector: `metadata.name!=${cm}` });
    const events = await t.core.listNamespacedEvent({ namespace: t.namespace, fieldSelector: `involvedObject.name=${cm},involvedObject.kind=ConfigMap` });
    const unsupported = await failure(t.objects.list('v1', 'ConfigMap', t.namespace, undefined, undefined, undefined, 'data.a=1'));
    // Assess
    expect(byName.items.map((o) => o.metadata?.name)).toEqual([cm]);
    expect(notByName.items).toHaveLength(3);
    expect(events.items.map((e) => e.reason)).toEqual(['Tested']);
    expect(unsupported.code).toBe(400);
    expect(unsupported.status.reason).toBe('BadRequest');
    expect(unsupported.status.message).toContain('field label not supported: data.a');
  });

  it('pages with limit and continue', async () => {
    // Prepare: the labelled ConfigMaps (beforeAll)
    // Act
    const first = await t.core.listNamespacedConfigMap({ namespace: t.namespace, labelSelector: `run=${run}`, limit: 3 });
    const rest = await t.core.listNamespacedConfigMap({ namespace: t.namespace, labelSelector: `run=${run}`, limit: 3, _continue: first.metadata?._continue });
    // Assess
    expect(first.items).toHaveLength(3);
    expect(first.metadata?._continue).toBeTruthy();
    expect(rest.items).toHaveLength(1);
    expect(new Set([...first.items, ...rest.items].map((o) => o.metadata?.name)).size).toBe(4);
  });
});

describe('metadata semantics', () => {
  it('bumps metadata.generation on spec changes only', async () => {
    // Prepare
    const name = unique('gen');
    const created = await t.objects.create(deployment(name));
    // Act
    const labelled = await t.objects.patch<V1Deployment>(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: t.namespace, labels: { x: 'y' } } },
      undefined, undefined, undefined, undefined, PatchStrategy.MergePatch,
    );
    const scaled = await t.objects.patch(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: t.namespace }, spec: { replicas: 0, paused: true } } as V1Deployment,
      undefined, undefined, undefined, undefined, PatchStrategy.MergePatch,
    );
    // Assess
    expect(created.metadata?.generation).toBe(1);
    expect(labelled.metadata?.generation).toBe(1);
    expect(scaled.metadata?.generation).toBe(2);
  });

  it('keeps an object with a finalizer, with deletionTimestamp, until the finalizer is removed', async () => {
    // Prepare
    const name = unique('fin');
    await t.objects.create(configMap(name, { metadata: { name, finalizers: ['slipway.dev/contract'] } }));
    // Act
    await t.objects.delete(configMap(name));
    const terminating = await t.objects.read<V1ConfigMap>(configMap(name));
    await t.objects.patch(configMap(name, { metadata: { name, finalizers: [] } }), undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    // Assess
    expect(terminating.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect(terminating.metadata?.finalizers).toEqual(['slipway.dev/contract']);
    expect(await eventually(() => isGone(t.objects, configMap(name)))).toBe(true);
  });

  it('garbage-collects dependents of a deleted owner (ownerReferences by uid)', async () => {
    // Prepare
    const owner = await t.objects.create(configMap(unique('owner')));
    const dependent = configMap(unique('dep'), {
      metadata: {
        name: unique('dep'),
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '' }],
      },
    });
    await t.objects.create(dependent);
    // Act
    await t.objects.delete(configMap(owner.metadata.name ?? ''));
    // Assess
    expect(await eventually(() => isGone(t.objects, dependent))).toBe(true);
  });

  it('orphans dependents with propagationPolicy Orphan', async () => {
    // Prepare
    const owner = await t.objects.create(configMap(unique('owner')));
    const depName = unique('kept');
    await t.objects.create(
      configMap(depName, { metadata: { name: depName, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '' }] } }),
    );
    // Act
    await t.objects.delete(configMap(owner.metadata?.name ?? ''), undefined, undefined, undefined, undefined, 'Orphan');
    const released = await eventually(async () => (await t.objects.read<V1ConfigMap>(configMap(depName))).metadata?.ownerReferences === undefined);
    // Assess
    expect(released).toBe(true);
    expect(await eventually(() => isGone(t.objects, configMap(owner.metadata?.name ?? '')))).toBe(true);
    expect(await isGone(t.objects, configMap(depName))).toBe(false);
  });

  it('deletes in the foreground: the owner waits, with foregroundDeletion, until its dependents are gone', async () => {
    // Prepare
    const owner = await t.objects.create(configMap(unique('fg-owner')));
    const ownerName = owner.metadata?.name ?? '';
    const depName = unique('fg-dep');
    await t.objects.create(
      configMap(depName, {
        metadata: {
          name: depName,
          finalizers: ['slipway.dev/contract'],
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: ownerName, uid: owner.metadata?.uid ?? '', blockOwnerDeletion: true }],
        },
      }),
    );
    // Act
    await t.objects.delete(configMap(ownerName), undefined, undefined, undefined, undefined, 'Foreground');
    const waiting = await eventually(async () => {
      const o = await t.objects.read<V1ConfigMap>(configMap(ownerName));
      const d = await t.objects.read<V1ConfigMap>(configMap(depName));
      return o.metadata?.finalizers?.includes('foregroundDeletion') === true && d.metadata?.deletionTimestamp !== undefined;
    });
    const ownerWhileWaiting = await t.objects.read<V1ConfigMap>(configMap(ownerName));
    await t.objects.patch(configMap(depName, { metadata: { name: depName, finalizers: [] } }), undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    // Assess
    expect(waiting).toBe(true);
    expect(ownerWhileWaiting.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect(await eventually(() => isGone(t.objects, configMap(depName)))).toBe(true);
    expect(await eventually(() => isGone(t.objects, configMap(ownerName)))).toBe(true);
  });

  it('honours delete preconditions (uid, resourceVersion) with 409', async () => {
    // Prepare
    const name = unique('precond');
    const created = await t.objects.create(configMap(name));
    await t.objects.replace({ ...created, data: { changed: 'yes' } });
    // Act
    const stale = await failure(
      t.core.deleteNamespacedConfigMap({ name, namespace: t.namespace, body: { preconditions: { resourceVersion: created.metadata?.resourceVersion } } }),
    );
    const wrongUid = await failure(
      t.core.deleteNamespacedConfigMap({ name, namespace: t.namespace, body: { preconditions: { uid: '6b0e6e5e-0000-4000-8000-000000000001' } } }),
    );
    // Assess
    expect(stale.code).toBe(409);
    expect(stale.status.reason).toBe('Conflict');
    expect(stale.status.message).toContain('Precondition failed: ResourceVersion in precondition');
    expect(wrongUid.code).toBe(409);
    expect(wrongUid.status.message).toContain('Precondition failed: UID in precondition');
    expect(await isGone(t.objects, configMap(name))).toBe(false);
  });

  it('deletes a collection by label selector', async () => {
    // Prepare
    const run = unique('coll');
    for (const n of ['a', 'b']) await t.objects.create(configMap(`${run}-${n}`, { metadata: { name: `${run}-${n}`, labels: { coll: run } } }));
    await t.objects.create(configMap(`${run}-other`));
    // Act
    await t.core.deleteCollectionNamespacedConfigMap({ namespace: t.namespace, labelSelector: `coll=${run}` });
    // Assess
    expect(await eventually(async () => (await t.core.listNamespacedConfigMap({ namespace: t.namespace, labelSelector: `coll=${run}` })).items.length === 0)).toBe(true);
    expect(await isGone(t.objects, configMap(`${run}-other`))).toBe(false);
  });

  it('garbage-collects an object whose owner uid does not exist', async () => {
    // Prepare
    const orphan = configMap(unique('orphan'), {
      metadata: {
        name: unique('orphan'),
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'never-existed', uid: '6b0e6e5e-0000-4000-8000-000000000000' }],
      },
    });
    // Act
    await t.objects.create(orphan);
    // Assess
    expect(await eventually(() => isGone(t.objects, orphan))).toBe(true);
  });
});

describe('defaulting and immutability', () => {
  it('defaults Deployment and Secret fields as the API server does', async () => {
    // Prepare
    const name = unique('defaults');
    const dep = deployment(name);
    delete dep.spec?.replicas;
    // Act
    const created = await t.apps.createNamespacedDeployment({ namespace: t.namespace, body: dep });
    const secret = await t.core.createNamespacedSecret({ namespace: t.namespace, body: { metadata: { name }, data: {} } });
    // Assess
    expect(created.spec?.replicas).toBe(1);
    expect(created.spec?.revisionHistoryLimit).toBe(10);
    expect(created.spec?.strategy?.type).toBe('RollingUpdate');
    expect(secret.type).toBe('Opaque');
  });

  it('refuses to change the data of an immutable ConfigMap (422)', async () => {
    // Prepare
    const name = unique('immutable');
    const created = await t.objects.create(configMap(name, { data: { a: '1' }, immutable: true }));
    // Act
    const { code, status } = await failure(t.objects.replace({ ...created, data: { a: '2' } }));
    // Assess
    expect(code).toBe(422);
    expect(status.reason).toBe('Invalid');
    expect(status.message).toContain('field is immutable when `immutable` is set');
  });
});

describe('namespaces', () => {
  it('refuses a namespaced object in a namespace that does not exist (404)', async () => {
    // Prepare
    const ns = unique('absent');
    // Act
    const { code, status } = await failure(t.objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: ns } }));
    // Assess
    expect(code).toBe(404);
    expect(status.reason).toBe('NotFound');
    expect(status.message).toBe(`namespaces "${ns}" not found`);
    expect(status.details).toMatchObject({ name: ns, kind: 'namespaces' });
  });

  it('deletes what a namespace holds when the namespace is deleted', async () => {
    // Prepare
    const ns = unique('doomed');
    await t.objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inside', namespace: ns } };
    await t.objects.create(cm);
    // Act
    await t.objects.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // Assess
    expect(await eventually(() => isGone(t.objects, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }))).toBe(true);
    expect(await isGone(t.objects, cm)).toBe(true);
  });
});

describe('patches', () => {
  it('applies a JSON merge patch (RFC 7386): null removes, objects merge', async () => {
    // Prepare
    const name = unique('merge');
    await t.objects.create(configMap(name, { data: { keep: '1', drop: '2' } }));
    // Act
    const patched = await t.objects.patch(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: t.namespace }, data: { drop: null, add: '3' } } as unknown as V1ConfigMap,
      undefined, undefined, undefined, undefined, PatchStrategy.MergePatch,
    );
    // Assess
    expect(patched.data).toEqual({ keep: '1', add: '3' });
  });

  it('applies a JSON patch (RFC 6902) and fails a failed test op with no change', async () => {
    // Prepare
    const name = unique('jsonpatch');
    await t.objects.create(configMap(name, { data: { a: '1' } }));
    const spec = configMap(name);
    // Act (the typed API sends application/json-patch+json for an array body)
    const patched = await t.core.patchNamespacedConfigMap({
      name,
      namespace: t.namespace,
      body: [
        { op: 'test', path: '/data/a', value: '1' },
        { op: 'add', path: '/data/b', value: '2' },
        { op: 'remove', path: '/data/a' },
      ],
    });
    const failed = await failure(
      t.core.patchNamespacedConfigMap({ name, namespace: t.namespace, body: [{ op: 'test', path: '/data/b', value: 'wrong' }, { op: 'remove', path: '/data/b' }] }),
    );
    // Assess
    expect(patched.data).toEqual({ b: '2' });
    expect(failed.code).toBe(422);
    expect((await t.objects.read<V1ConfigMap>(spec)).data).toEqual({ b: '2' });
  });

  it('accepts strategic merge patch on a built-in kind', async () => {
    // Prepare
    const name = unique('smp');
    await t.objects.create(configMap(name, { data: { a: '1' } }));
    // Act
    const patched = await t.objects.patch(configMap(name, { data: { b: '2' } }), undefined, undefined, undefined, undefined, PatchStrategy.StrategicMergePatch);
    // Assess
    expect(patched.data).toEqual({ a: '1', b: '2' });
  });
});

describe('strategic merge patch on built-in kinds', () => {
  it('merges containers by name and removes one with $patch: delete', async () => {
    // Prepare
    const name = unique('smp-list');
    await t.objects.create(deployment(name));
    // The typed API sends the body untouched (KubernetesObjectApi would drop `$patch` while serialising).
    const patch = (containers: Record<string, unknown>[]) =>
      t.apps.patchNamespacedDeployment(
        { name, namespace: t.namespace, body: { spec: { template: { spec: { containers } } } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    // Act
    const added = await patch([{ name: 'sidecar', image: 'registry.k8s.io/pause:3.10' }]);
    const removed = await patch([{ name: 'sidecar', $patch: 'delete' }]);
    // Assess
    expect(added.spec?.template.spec?.containers.map((c) => c.name).sort()).toEqual(['c', 'sidecar']);
    expect(removed.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['c']);
  });
});

describe('server-side apply', () => {
  it('creates the object when it does not exist and records the field manager', async () => {
    // Prepare
    const name = unique('ssa');
    // Act
    const applied = await t.objects.patch(configMap(name, { data: { a: '1' } }), undefined, undefined, 'contract-a', undefined, PatchStrategy.ServerSideApply);
    // Assess
    expect(applied.metadata.uid).toBeTruthy();
    expect(applied.data).toEqual({ a: '1' });
    expect(applied.metadata.managedFields?.some((f) => f.manager === 'contract-a' && f.operation === 'Apply')).toBe(true);
  });

  it('requires a fieldManager (422)', async () => {
    // Prepare
    const name = unique('ssa-nofm');
    // Act
    const { code, status } = await failure(t.objects.patch(configMap(name, { data: { a: '1' } }), undefined, undefined, undefined, undefined, PatchStrategy.ServerSideApply));
    // Assess
    expect(code).toBe(422);
    expect(status.reason).toBe('Invalid');
    expect(status.message).toContain('fieldManager');
  });

  it('answers 409 when another manager owns a field with another value, and force takes it over', async () => {
    // Prepare
    const name = unique('ssa-conflict');
    await t.objects.patch(configMap(name, { data: { shared: 'a', mine: 'x' } }), undefined, undefined, 'contract-a', undefined, PatchStrategy.ServerSideApply);
    // Act
    const conflict = await failure(
      t.objects.patch(configMap(name, { data: { shared: 'b' } }), undefined, undefined, 'contract-b', undefined, PatchStrategy.ServerSideApply),
    );
    const forced = await t.objects.patch(configMap(name, { data: { shared: 'b' } }), undefined, undefined, 'contract-b', true, PatchStrategy.ServerSideApply);
    // Assess
    expect(conflict.code).toBe(409);
    expect(conflict.status.reason).toBe('Conflict');
    expect(conflict.status.message).toContain('conflict with "contract-a"');
    expect(conflict.status.details?.causes?.[0]).toMatchObject({ reason: 'FieldManagerConflict', field: '.data.shared' });
    expect(forced.data).toEqual({ shared: 'b', mine: 'x' });
  });

  it('merges associative lists by key: two managers add a container each to one Deployment', async () => {
    // Prepare
    const name = unique('ssa-list');
    const base = deployment(name);
    await t.objects.patch(base, undefined, undefined, 'contract-a', undefined, PatchStrategy.ServerSideApply);
    const sidecar = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: t.namespace },
      spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'registry.k8s.io/pause:3.10' }] } } },
    } as V1Deployment;
    // Act
    const merged = await t.objects.patch<V1Deployment>(sidecar, undefined, undefined, 'contract-b', undefined, PatchStrategy.ServerSideApply);
    // Assess
    expect(merged.spec?.template.spec?.containers.map((c) => c.name).sort()).toEqual(['c', 'sidecar']);
    expect(merged.metadata?.managedFields?.map((f) => f.manager).sort()).toEqual(['contract-a', 'contract-b']);
  });

  it('removes the fields a manager stops applying', async () => {
    // Prepare
    const name = unique('ssa-prune');
    await t.objects.patch(configMap(name, { data: { a: '1', b: '2' } }), undefined, undefined, 'contract-a', undefined, PatchStrategy.ServerSideApply);
    // Act
    const reapplied = await t.objects.patch(configMap(name, { data: { a: '1' } }), undefined, undefined, 'contract-a', undefined, PatchStrategy.ServerSideApply);
    // Assess
    expect(reapplied.data).toEqual({ a: '1' });
  });
});

describe('authentication', () => {
  it('answers 401 Unauthorized with a Status for a wrong bearer token', async () => {
    // Prepare
    // (KubernetesObjectApi keeps the raw body; the typed APIs drop it for a 401)
    const intruder = KubernetesObjectApi.makeApiClient(t.withToken('not-the-token'));
    // Act
    const { code, status } = await failure(intruder.list('v1', 'Namespace'));
    // Assess
    expect(code).toBe(401);
    expect(status).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
  });
});

describe('watch', () => {
  it('streams ADDED, MODIFIED and DELETED events for a namespace', async () => {
    // Prepare
    const name = unique('watched');
    const seen: string[] = [];
    const watch = new Watch(t.kc);
    const list = await t.core.listNamespacedConfigMap({ namespace: t.namespace });
    const controller = await watch.watch(
      `/api/v1/namespaces/${t.namespace}/configmaps`,
      { resourceVersion: list.metadata?.resourceVersion ?? '' },
      (phase, obj: V1ConfigMap) => {
        if (obj.metadata?.name === name) seen.push(phase);
      },
      () => undefined,
    );
    // Act
    await t.objects.create(configMap(name, { data: { a: '1' } }));
    await t.objects.patch(configMap(name, { data: { a: '2' } }), undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    await t.objects.delete(configMap(name));
    const complete = await eventually(async () => seen.length >= 3, 10_000);
    controller.abort();
    // Assess
    expect(complete).toBe(true);
    expect(seen).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
  });

  it('with a label selector, sends ADDED when an object starts matching and DELETED when it stops', async () => {
    // Prepare
    const name = unique('watch-sel');
    const seen: string[] = [];
    const list = await t.core.listNamespacedConfigMap({ namespace: t.namespace });
    await t.objects.create(configMap(name));
    const controller = await new Watch(t.kc).watch(
      `/api/v1/namespaces/${t.namespace}/configmaps`,
      { resourceVersion: list.metadata?.resourceVersion ?? '', labelSelector: `watched=${name}` },
      (phase, obj: V1ConfigMap) => {
        if (obj.metadata?.name === name) seen.push(phase);
      },
      () => undefined,
    );
    // Act
    await t.objects.patch(configMap(name, { metadata: { name, labels: { watched: name } } }), undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    await t.objects.patch(configMap(name, { data: { a: '1' } }), undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    await t.objects.patch(configMap(name, { metadata: { name, labels: { watched: null } } } as unknown as V1ConfigMap), undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    const complete = await eventually(async () => seen.length >= 3, 10_000);
    controller.abort();
    // Assess
    expect(complete).toBe(true);
    expect(seen).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
  });
});
