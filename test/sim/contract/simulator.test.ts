/**
 * The simulator-only half of the contract: behaviours that need the CAPI custom resources (a plain cluster has
 * no such CRDs) or the simulator's own controls (faults, counters). Still talks through client-node only,
 * except for the admin endpoint, which is the simulator's own.
 */
import { ApiException, CoreV1Api, KubeConfig, type KubernetesObject, KubernetesObjectApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crdsFor } from '../../../local/sim/apiserver/crds.ts';
import { KINDS } from '../../../local/sim/apiserver/kinds.ts';
import { kubeconfigText } from '../../../local/sim/apiserver/kubeconfig.ts';
import { createApiServer } from '../../../local/sim/apiserver/server.ts';
import { selfSignedCertificate } from '../../../local/sim/apiserver/tls.ts';
import { connect, eventually, failure, isGone, realCluster, type Target, unique } from './harness.ts';

const CAPI = 'cluster.x-k8s.io/v1beta2';

describe.runIf(!realCluster)('simulator-only contract', () => {
  let t: Target;
  let sim: NonNullable<Target['sim']>;

  beforeAll(async () => {
    t = await connect();
    if (t.sim === undefined) throw new Error('the simulator-only suite needs the simulator');
    sim = t.sim;
  });

  afterAll(async () => {
    await t.close();
  });

  function machine(name: string, extra: Record<string, unknown> = {}): KubernetesObject & { metadata: { name: string }; [k: string]: unknown } {
    return { apiVersion: CAPI, kind: 'Machine', metadata: { name, namespace: t.namespace }, spec: { clusterName: 'c1' }, ...extra };
  }

  const patchAs = (obj: KubernetesObject, strategy: PatchStrategy, fieldManager?: string, force?: boolean) =>
    t.objects.patch(obj, undefined, undefined, fieldManager, force, strategy);

  describe('discovery', () => {
    it.each(KINDS.map((k) => [`${k.group || 'core'}/${k.versions[0]} ${k.kind}`, k] as const))(
      'serves %s through KubernetesObjectApi (create, read, list, delete)',
      async (_label, info) => {
        // Prepare
        const apiVersion = info.group === '' ? (info.versions[0] ?? 'v1') : `${info.group}/${info.versions[0]}`;
        const name = unique(info.singular);
        const metadata = info.namespaced ? { name, namespace: t.namespace } : { name };
        const api = KubernetesObjectApi.makeApiClient(t.kc);
        // Act
        const created: KubernetesObject = await api.create({ apiVersion, kind: info.kind, metadata });
        const read: KubernetesObject = await api.read({ apiVersion, kind: info.kind, metadata });
        const listed = await api.list(apiVersion, info.kind, info.namespaced ? t.namespace : undefined);
        await api.delete({ apiVersion, kind: info.kind, metadata });
        // Assess
        expect(created.metadata?.uid).toBeTruthy();
        expect(read.metadata?.uid).toBe(created.metadata?.uid);
        expect(listed.items.map((o) => o.metadata?.name)).toContain(name);
        expect(await eventually(() => isGone(api, { apiVersion, kind: info.kind, metadata }), 5_000)).toBe(true);
      },
    );

    it('lists each main resource before its status subresource', async () => {
      // Prepare
      const url = `${sim.cluster.url}/apis/cluster.x-k8s.io/v1beta2`;
      // Act
      const res = await fetch(url, { headers: { Authorization: `Bearer ${sim.cluster.token}` } });
      const body = (await res.json()) as { kind: string; resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[] };
      // Assess
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(body.kind).toBe('APIResourceList');
      const names = body.resources.map((r) => r.name);
      expect(names.indexOf('clusters')).toBeLessThan(names.indexOf('clusters/status'));
      expect(body.resources.find((r) => r.kind === 'Cluster')).toMatchObject({ name: 'clusters', namespaced: true });
    });

    it('answers an unknown path with a 404 Status', async () => {
      // Prepare
      const url = `${sim.cluster.url}/apis/example.com/v1/widgets`;
      // Act
      const res = await fetch(url, { headers: { Authorization: `Bearer ${sim.cluster.token}` } });
      const head = await fetch(`${sim.cluster.url}/api/v1/namespaces`, { method: 'HEAD', headers: { Authorization: `Bearer ${sim.cluster.token}` } });
      // Assess
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
      expect(head.status).toBe(404);
    });

    it('answers malformed JSON with 400 BadRequest', async () => {
      // Prepare
      const url = `${sim.cluster.url}/api/v1/namespaces/${t.namespace}/configmaps`;
      // Act
      const res = await fetch(url, { method: 'POST', body: '{"metadata":', headers: { Authorization: `Bearer ${sim.cluster.token}`, 'Content-Type': 'application/json' } });
      // Assess
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    });
  });

  describe('custom resources', () => {
    it('refuses strategic merge patch with 415', async () => {
      // Prepare
      const name = unique('m');
      await t.objects.create(machine(name));
      // Act
      const { code, status } = await failure(patchAs(machine(name, { spec: { version: 'v1.31.0' } }), PatchStrategy.StrategicMergePatch));
      // Assess
      expect(code).toBe(415);
      expect(status.reason).toBe('UnsupportedMediaType');
      expect(status.message).toContain('application/merge-patch+json');
    });

    it('refuses an unconditional update (no resourceVersion) with 422, as the CRD strategy does', async () => {
      // Prepare
      const name = unique('m');
      await t.objects.create(machine(name));
      // Act
      const { code, status } = await failure(t.objects.replace(machine(name, { spec: { clusterName: 'c2' } })));
      // Assess
      expect(code).toBe(422);
      expect(status.details?.causes?.[0]?.field).toBe('metadata.resourceVersion');
    });

    it('bumps generation on spec changes, not on metadata or status changes', async () => {
      // Prepare
      const name = unique('m');
      await t.objects.create(machine(name));
      // Act
      const labelled = await patchAs(machine(name, { metadata: { name, namespace: t.namespace, labels: { a: 'b' } }, spec: undefined }), PatchStrategy.MergePatch);
      const withStatus = (await t.custom.patchNamespacedCustomObjectStatus({
        group: 'cluster.x-k8s.io', version: 'v1beta2', namespace: t.namespace, plural: 'machines', name,
        body: { apiVersion: CAPI, kind: 'Machine', metadata: { name }, status: { phase: 'Running' } },
        fieldManager: 'sim-contract', force: true,
      }, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply))) as KubernetesObject & { status?: { phase?: string } };
      const respecced = await patchAs(machine(name, { spec: { clusterName: 'c1', version: 'v1.32.0' } }), PatchStrategy.MergePatch);
      // Assess
      expect(labelled.metadata?.generation).toBe(1);
      expect(withStatus.metadata?.generation).toBe(1);
      expect(withStatus.status?.phase).toBe('Running');
      expect(respecced.metadata?.generation).toBe(2);
    });
  });

  describe('status subresource', () => {
    it('ignores .status on writes to the main resource', async () => {
      // Prepare
      const name = unique('m');
      // Act
      const created = (await t.objects.create(machine(name, { status: { phase: 'Running' } }))) as KubernetesObject & { status?: unknown };
      const patched = (await patchAs(machine(name, { status: { phase: 'Failed' } }), PatchStrategy.MergePatch)) as KubernetesObject & { status?: unknown };
      // Assess
      expect(created.status).toBeUndefined();
      expect(patched.status).toBeUndefined();
    });

    it('changes only .status through …/status (GET, PUT, PATCH)', async () => {
      // Prepare
      const name = unique('m');
      await t.objects.create(machine(name));
      const ref = { group: 'cluster.x-k8s.io', version: 'v1beta2', namespace: t.namespace, plural: 'machines', name };
      const current = (await t.custom.getNamespacedCustomObjectStatus(ref)) as KubernetesObject & { spec: Record<string, unknown> };
      // Act
      const put = (await t.custom.replaceNamespacedCustomObjectStatus({
        ...ref,
        body: { ...current, spec: { clusterName: 'hijacked' }, status: { phase: 'Provisioning' } },
      })) as KubernetesObject & { spec: Record<string, unknown>; status: Record<string, unknown> };
      await patchAs(machine(name, { status: { phase: 'Running' } }), PatchStrategy.MergePatch);
      const afterMainPatch = (await t.custom.getNamespacedCustomObjectStatus(ref)) as KubernetesObject & { status: Record<string, unknown> };
      const merged = (await t.custom.patchNamespacedCustomObjectStatus(
        { ...ref, body: { status: { nodeRef: { name: 'n1' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as KubernetesObject & { spec: Record<string, unknown>; status: Record<string, unknown> };
      // Assess
      expect(put.spec).toEqual({ clusterName: 'c1' });
      expect(put.status).toEqual({ phase: 'Provisioning' });
      expect(afterMainPatch.status).toEqual({ phase: 'Provisioning' });
      expect(merged.status).toEqual({ phase: 'Provisioning', nodeRef: { name: 'n1' } });
      expect(merged.spec).toEqual({ clusterName: 'c1' });
    });

    it('takes a JSON patch on …/status', async () => {
      // Prepare
      const name = unique('m');
      await t.objects.create(machine(name));
      const ref = { group: 'cluster.x-k8s.io', version: 'v1beta2', namespace: t.namespace, plural: 'machines', name };
      // Act
      const patched = (await t.custom.patchNamespacedCustomObjectStatus({ ...ref, body: [{ op: 'add', path: '/status', value: { phase: 'Running' } }] })) as KubernetesObject & {
        status: Record<string, unknown>;
      };
      // Assess
      expect(patched.status).toEqual({ phase: 'Running' });
    });
  });

  describe('namespaces', () => {
    it('refuses new content in a terminating namespace (403) while a finalizer holds it', async () => {
      // Prepare
      const ns = unique('term');
      await t.objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      await t.objects.create({ apiVersion: CAPI, kind: 'Machine', metadata: { name: 'held', namespace: ns, finalizers: ['sim/hold'] } });
      await t.objects.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      // Act
      const { code, status } = await failure(t.objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace: ns } }));
      const phase = (await t.core.readNamespace({ name: ns })).status?.phase;
      await patchAs({ apiVersion: CAPI, kind: 'Machine', metadata: { name: 'held', namespace: ns, finalizers: [] } }, PatchStrategy.MergePatch);
      // Assess
      expect(code).toBe(403);
      expect(status.reason).toBe('Forbidden');
      expect(phase).toBe('Terminating');
      expect(await eventually(() => isGone(t.objects, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }), 5_000)).toBe(true);
    });
  });

  describe('faults', () => {
    it('answers a seeded share of requests with 503 ServiceUnavailable', async () => {
      // Prepare
      sim.server.setFaults(sim.cluster.name, { errorRate: 0.5, seed: 7, verbs: ['get'] });
      const outcomes: number[] = [];
      // Act
      for (let i = 0; i < 40; i++) {
        try {
          await t.core.readNamespace({ name: t.namespace });
          outcomes.push(200);
        } catch (err) {
          outcomes.push(err instanceof ApiException ? err.code : -1);
        }
      }
      sim.server.setFaults(sim.cluster.name, undefined);
      const counters = sim.server.counters(sim.cluster.name);
      // Assess
      const failures = outcomes.filter((c) => c === 503).length;
      expect(outcomes.every((c) => c === 200 || c === 503)).toBe(true);
      expect(failures).toBeGreaterThan(5);
      expect(failures).toBeLessThan(35);
      expect(counters.faults.injectedErrors).toBe(failures);
    });

    it('returns a 503 Status body', async () => {
      // Prepare
      sim.server.setFaults('*', { errorRate: 1 });
      // Act
      const { code, status } = await failure(t.objects.list('v1', 'ConfigMap', t.namespace));
      sim.server.setFaults('*', undefined);
      // Assess
      expect(code).toBe(503);
      expect(status).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'ServiceUnavailable', code: 503 });
    });

    it('drops connections after N requests, then recovers when cleared', async () => {
      // Prepare
      sim.server.setFaults(sim.cluster.name, { dropAfterRequests: 2, dropCount: 1 });
      const results: string[] = [];
      // Act
      for (let i = 0; i < 4; i++) {
        try {
          await t.core.readNamespace({ name: t.namespace });
          results.push('ok');
        } catch (err) {
          results.push(err instanceof ApiException ? `http ${err.code}` : 'dropped');
        }
      }
      sim.server.setFaults(sim.cluster.name, undefined);
      // Assess
      expect(results).toEqual(['ok', 'ok', 'dropped', 'ok']);
      expect(sim.server.counters(sim.cluster.name).faults.droppedConnections).toBe(1);
    });

    it('takes faults through the admin endpoint too', async () => {
      // Prepare
      const set = await fetch(`${sim.server.url}/sim/faults/${sim.cluster.name}`, { method: 'PUT', body: JSON.stringify({ errorRate: 1 }) });
      // Act
      const { code } = await failure(t.core.readNamespace({ name: t.namespace }));
      const cleared = await fetch(`${sim.server.url}/sim/faults/${sim.cluster.name}`, { method: 'PUT', body: '{}' });
      const after = await t.core.readNamespace({ name: t.namespace });
      // Assess
      expect(set.status).toBe(200);
      expect(code).toBe(503);
      expect(cleared.status).toBe(200);
      expect(after.metadata?.name).toBe(t.namespace);
    });

    it('adds latency', async () => {
      // Prepare
      sim.server.setFaults(sim.cluster.name, { latencyMs: 120 });
      const started = performance.now();
      // Act
      await t.core.readNamespace({ name: t.namespace });
      const elapsed = performance.now() - started;
      sim.server.setFaults(sim.cluster.name, undefined);
      // Assess
      expect(elapsed).toBeGreaterThanOrEqual(110);
    });
  });

  describe('CRD-gated clusters (kinds appear when their CRDs are installed)', () => {
    it('serves a CAPI kind only once its CRD exists, and deleting the CRD deletes its instances', async () => {
      // Prepare
      const gated = sim.server.addCluster(unique('fresh'), { crdGated: true });
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfigText({ name: gated.name, server: gated.url, token: gated.token }));
      const api = KubernetesObjectApi.makeApiClient(kc);
      const m = { apiVersion: CAPI, kind: 'Machine', metadata: { name: 'm1', namespace: 'default' } };
      const crds = crdsFor(['cluster-api']);
      const machineCrd = crds.find((c) => c.metadata.name === 'machines.cluster.x-k8s.io');
      try {
        // Act
        const before = await api.create(m).then(
          () => 'created',
          (err: unknown) => (err instanceof Error ? err.message : String(err)),
        );
        for (const crd of crds) await api.create(crd as KubernetesObject);
        const created: KubernetesObject = await api.create(m);
        const crd = (await api.read({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'machines.cluster.x-k8s.io' } })) as KubernetesObject & {
          status?: { conditions?: { type: string; status: string }[] };
        };
        await api.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'machines.cluster.x-k8s.io' } });
        const afterDelete = await fetch(`${gated.url}/apis/cluster.x-k8s.io/v1beta2/namespaces/default/machines/m1`, { headers: { Authorization: `Bearer ${gated.token}` } });
        await api.create(machineCrd as KubernetesObject);
        const reinstalled = await KubernetesObjectApi.makeApiClient(kc).list(CAPI, 'Machine', 'default');
        // Assess
        expect(before).not.toBe('created');
        expect(machineCrd).toBeDefined();
        expect(created.metadata?.uid).toBeTruthy();
        expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
        expect(afterDelete.status).toBe(404);
        expect(reinstalled.items).toEqual([]);
      } finally {
        sim.server.removeCluster(gated.name);
      }
    });

    it('stores the CRD of a kind it does not know, Established, without serving the kind', async () => {
      // Prepare
      const gated = sim.server.addCluster(unique('unknown'), { crdGated: true });
      const headers = { Authorization: `Bearer ${gated.token}`, 'Content-Type': 'application/json' };
      const crdsUrl = `${gated.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`;
      const crd = {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'widgets.example.com', labels: { app: 'widgets' } },
        spec: {
          group: 'example.com',
          scope: 'Namespaced',
          names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
          versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
        },
      };
      try {
        // Act (wire JSON as kubectl sends it: client-node's models would rename the x-kubernetes-* field)
        const created = await fetch(crdsUrl, { method: 'POST', headers, body: JSON.stringify(crd) });
        const res = await fetch(`${crdsUrl}/widgets.example.com`, { headers });
        const stored = (await res.json()) as { spec: unknown; status?: { conditions?: { type: string; status: string }[] } };
        const widgets = await fetch(`${gated.url}/apis/example.com/v1/namespaces/default/widgets`, { headers });
        const deleted = await fetch(`${crdsUrl}/widgets.example.com`, { method: 'DELETE', headers });
        // Assess
        expect(created.status).toBe(201);
        expect(deleted.status).toBe(200);
        expect(stored.spec).toEqual(crd.spec);
        expect(stored.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
        expect(widgets.status).toBe(404);
      } finally {
        sim.server.removeCluster(gated.name);
      }
    });

    it('labels CRDs as clusterctl does, so move-style discovery by label finds the movable types', async () => {
      // Prepare
      const crds = crdsFor();
      // Act
      const movable = crds.filter((c) => c.metadata.labels?.['clusterctl.cluster.x-k8s.io'] === '' && c.metadata.labels['clusterctl.cluster.x-k8s.io/core'] !== 'inventory');
      // Assess
      expect(movable.map((c) => c.metadata.name)).toContain('clusters.cluster.x-k8s.io');
      expect(movable.map((c) => c.metadata.name)).toContain('simmachines.infrastructure.cluster.x-k8s.io');
      expect(movable.map((c) => c.metadata.name)).not.toContain('providers.clusterctl.cluster.x-k8s.io');
      expect(crds.find((c) => c.metadata.name === 'machines.cluster.x-k8s.io')?.metadata.labels?.['cluster.x-k8s.io/provider']).toBe('cluster-api');
    });
  });

  describe('https', () => {
    it('serves HTTPS with a self-signed certificate that a kubeconfig trusts through certificate-authority-data', async () => {
      // Prepare
      const server = await createApiServer({ tls: selfSignedCertificate() });
      const cluster = server.addCluster('secure');
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfigText({ name: 'secure', server: cluster.url, token: cluster.token, caData: server.caData }));
      try {
        // Act
        const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
        // Assess
        expect(cluster.url.startsWith('https://')).toBe(true);
        expect(namespaces.items.map((n) => n.metadata?.name)).toContain('kube-system');
      } finally {
        await server.close();
      }
    });
  });

  describe('counters', () => {
    it('counts requests by verb and kind, programmatically and at /sim/counters', async () => {
      // Prepare
      sim.server.resetCounters(sim.cluster.name);
      const name = unique('counted');
      // Act
      await t.objects.create(machine(name));
      await t.objects.read(machine(name));
      await t.objects.list(CAPI, 'Machine', t.namespace);
      const res = await fetch(`${sim.server.url}/sim/counters`);
      const body = (await res.json()) as { clusters: Record<string, { requests: { byVerbKind: Record<string, number> } }> };
      // Assess
      const mine = sim.server.counters(sim.cluster.name);
      expect(mine.requests.byVerbKind).toMatchObject({ 'create Machine': 1, 'get Machine': 1, 'list Machine': 1 });
      expect(mine.requests.byVerb.create).toBe(1);
      expect(mine.latencyMs.samples).toBeGreaterThanOrEqual(3);
      expect(mine.latencyMs.p99).toBeGreaterThanOrEqual(mine.latencyMs.p50);
      expect(body.clusters[sim.cluster.name]?.requests.byVerbKind['create Machine']).toBe(1);
    });

    it('merges counters from added sources', async () => {
      // Prepare
      sim.server.addCounterSource((cluster) => ({ instances: { running: cluster.length, duplicated: 0, leaked: 0 } }));
      // Act
      const counters = sim.server.counters(sim.cluster.name);
      // Assess
      expect(counters.instances).toEqual({ running: sim.cluster.name.length, duplicated: 0, leaked: 0 });
    });
  });

  describe('server-side apply on custom resources', () => {
    it('tracks ownership per manager on the status subresource separately from the spec', async () => {
      // Prepare
      const name = unique('m');
      await patchAs(machine(name, { spec: { clusterName: 'c1', version: 'v1.31.0' } }), PatchStrategy.ServerSideApply, 'capi-topology');
      // Act
      const status = (await t.custom.patchNamespacedCustomObjectStatus(
        {
          group: 'cluster.x-k8s.io', version: 'v1beta2', namespace: t.namespace, plural: 'machines', name,
          body: { apiVersion: CAPI, kind: 'Machine', metadata: { name }, status: { phase: 'Running' } },
          fieldManager: 'capi-machine', force: true,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      )) as KubernetesObject & { spec: Record<string, unknown>; status: Record<string, unknown> };
      const reapplied = await patchAs(machine(name, { spec: { clusterName: 'c1', version: 'v1.32.0' } }), PatchStrategy.ServerSideApply, 'capi-topology');
      // Assess
      expect(status.status).toEqual({ phase: 'Running' });
      expect(status.spec).toEqual({ clusterName: 'c1', version: 'v1.31.0' });
      expect(status.metadata?.managedFields?.find((f) => f.manager === 'capi-machine')?.subresource).toBe('status');
      expect((reapplied as KubernetesObject & { spec: Record<string, unknown> }).spec).toEqual({ clusterName: 'c1', version: 'v1.32.0' });
    });
  });
});
