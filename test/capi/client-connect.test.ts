/**
 * The KubeClient port and the connections, through client-node against the simulator's API server: named
 * errors, idempotent writes, in-place retries with backoff, kubeconfig handling (never leaking credentials),
 * the workload kubeconfig Secret, and EKS connections that re-authenticate before the token expires.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { kubeconfigText } from '../../local/sim/apiserver/kubeconfig.ts';
import { type ApiServer, createApiServer } from '../../local/sim/apiserver/server.ts';
import type { EksToken } from '../../shared/aws/eks-token.ts';
import { createKubeClient } from '../../shared/capi/client.ts';
import { clearEksCache, connectEks, connectKubeconfig, connectWorkload, kubeconfigFromText, loadKubeconfig } from '../../shared/capi/connect.ts';
import {
  KubeAlreadyExistsError,
  KubeApiError,
  KubeconfigError,
  KubeconfigNotFoundError,
  KubeConflictError,
  KubeKindNotServedError,
  KubeNotFoundError,
  KubeTransientError,
} from '../../shared/capi/errors.ts';

let server: ApiServer;
let seq = 0;

beforeAll(async () => {
  server = await createApiServer();
});

afterAll(async () => {
  await server.close();
});

function cluster() {
  const vc = server.addCluster(`c-${++seq}`);
  const delays: number[] = [];
  const kc = kubeconfigFromText(kubeconfigText({ name: vc.name, server: vc.url, token: vc.token }));
  const client = createKubeClient(kc, {
    cluster: vc.name,
    retry: { read: { attempts: 3, initialMs: 250, factor: 1.5 }, write: { attempts: 4, initialMs: 500, factor: 1.5 } },
    sleep: async (ms) => {
      delays.push(ms);
    },
  });
  return { vc, client, delays };
}

const CLUSTER_API = 'cluster.x-k8s.io/v1beta2';

describe('KubeClient', () => {
  it('reads null for a missing object or kind, and maps write failures to named errors', async () => {
    // Prepare
    const { client } = cluster();
    await client.ensureNamespace('ns');
    const ref = { apiVersion: CLUSTER_API, kind: 'Cluster', name: 'c1', namespace: 'ns' };
    // Act + Assess
    expect(await client.get(ref)).toBeNull();
    expect(await client.get({ apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'AWSCluster', name: 'x', namespace: 'ns' })).toBeNull();
    await expect(client.list('example.com/v1', 'Nope', { namespace: 'ns' })).rejects.toThrow(KubeKindNotServedError);
    const created = await client.create({ ...header(ref), spec: { paused: true } });
    expect(created.metadata.uid).toBeTruthy();
    const dup = client.create({ ...header(ref), spec: {} });
    await expect(dup).rejects.toThrow(KubeAlreadyExistsError);
    await expect(dup).rejects.toMatchObject({ code: 409, reason: 'AlreadyExists', verb: 'create' });
    await expect(client.replace({ ...header(ref), metadata: { ...header(ref).metadata, resourceVersion: '1' }, spec: {} })).rejects.toThrow(KubeConflictError);
    await expect(client.mergePatch({ ...ref, name: 'absent' }, { spec: {} })).rejects.toThrow(KubeNotFoundError);
    const bad = client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'Bad_Name', namespace: 'ns' } });
    await expect(bad).rejects.toThrow(KubeApiError);
    await expect(bad).rejects.toMatchObject({ name: 'KubeApiError', code: 422 });
  });

  it('applies with field manager slipway, merge-patches CRs, and deletes idempotently', async () => {
    // Prepare
    const { client } = cluster();
    await client.ensureNamespace('ns', { team: 'a' });
    await client.ensureNamespace('ns', { team: 'a' });
    const ref = { apiVersion: CLUSTER_API, kind: 'Cluster', name: 'c1', namespace: 'ns' };
    // Act
    const applied = await client.apply({ ...header(ref), metadata: { ...header(ref).metadata, finalizers: ['f'] }, spec: { topology: { version: 'v1.31.4' } } }, { force: true });
    const again = await client.apply({ ...header(ref), metadata: { ...header(ref).metadata, finalizers: ['f'] }, spec: { topology: { version: 'v1.31.4' } } }, { force: true });
    const patched = await client.mergePatch(ref, { spec: { paused: true } });
    const unpatched = await client.mergePatch(ref, { spec: { paused: null } });
    const first = await client.delete(ref);
    await client.mergePatch(ref, { metadata: { finalizers: [] } });
    const second = await client.delete(ref);
    // Assess
    expect(applied.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'slipway', operation: 'Apply' })]);
    expect(again.metadata.resourceVersion).toBe(applied.metadata.resourceVersion);
    expect((patched.spec as { paused?: boolean }).paused).toBe(true);
    expect(unpatched.spec).toEqual({ topology: { version: 'v1.31.4' } });
    expect(first).toBe('pending');
    expect(second).toBe('absent');
    expect((await client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'ns' }))?.metadata.labels).toMatchObject({ team: 'a' });
    expect(await client.list(CLUSTER_API, 'Cluster', { namespace: 'ns' })).toEqual([]);
  });

  it('lists with label selectors across pages, with apiVersion and kind on every item', async () => {
    // Prepare
    const { vc, client } = cluster();
    vc.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
    for (let i = 0; i < 620; i++) vc.store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'ns', labels: { odd: String(i % 2) } } });
    // Act
    const all = await client.list('v1', 'ConfigMap', { namespace: 'ns' });
    const odd = await client.list('v1', 'ConfigMap', { namespace: 'ns', labelSelector: { odd: '1' } });
    // Assess
    expect(all).toHaveLength(620);
    expect(odd).toHaveLength(310);
    expect(all.every((o) => o.apiVersion === 'v1' && o.kind === 'ConfigMap')).toBe(true);
  });

  it('writes and reads built-in kinds in wire JSON, fields client-node models rename included', async () => {
    // Prepare: a CRD schema uses x-kubernetes-*, default and enum; a NetworkPolicy ingress rule uses from
    const { vc, client } = cluster();
    await client.ensureNamespace('ns');
    const schema = {
      type: 'object',
      properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { mode: { type: 'string', enum: ['a', 'b'], default: 'a' } } } },
    };
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { kind: 'Widget', plural: 'widgets' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }] },
    };
    const policy = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'p', namespace: 'ns' },
      spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'x' } } }] }] },
    };
    // Act
    const applied = await client.apply(crd, { force: true });
    await client.create(policy);
    const read = await client.get({ apiVersion: crd.apiVersion, kind: crd.kind, name: crd.metadata.name });
    const listed = await client.list('networking.k8s.io/v1', 'NetworkPolicy', { namespace: 'ns' });
    // Assess: what the server stored, and what the client hands back
    const stored = vc.store.get({ apiVersion: crd.apiVersion, kind: crd.kind, name: crd.metadata.name }) as { spec?: unknown } | undefined;
    expect(JSON.stringify(stored?.spec)).toContain('"x-kubernetes-preserve-unknown-fields":true');
    expect(JSON.stringify(stored?.spec)).toContain('"default":"a"');
    for (const got of [applied, read]) expect((got?.spec as { versions?: { schema: unknown }[] } | undefined)?.versions?.[0]?.schema).toEqual({ openAPIV3Schema: schema });
    expect(listed[0]?.spec).toEqual(policy.spec);
    expect(typeof read?.metadata.creationTimestamp).toBe('string');
  });

  it('retries transient failures in place with exponential backoff, then gives up with KubeTransientError', async () => {
    // Prepare
    const { vc, client, delays } = cluster();
    await client.ensureNamespace('ns');
    delays.length = 0;
    // Act: two dropped connections, then the write goes through
    server.setFaults(vc.name, { dropAfterRequests: 0, dropCount: 2 });
    await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns' } });
    // Assess
    expect(delays).toEqual([500, 750]);
    // Act: every request fails
    delays.length = 0;
    server.setFaults(vc.name, { errorRate: 1 });
    const read = client.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', namespace: 'ns' });
    // Assess
    await expect(read).rejects.toThrow(KubeTransientError);
    await expect(read).rejects.toMatchObject({ name: 'KubeTransientError', code: 503 });
    server.setFaults(vc.name, undefined);
    expect(delays).toEqual([250, 375]);
  });
});

describe('KubeClient.createSubresource', () => {
  it("posts a TokenRequest to a ServiceAccount's token subresource, with the same error mapping and retries", async () => {
    // Prepare
    const { vc, client, delays } = cluster();
    await client.ensureNamespace('access');
    await client.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'u1', namespace: 'access' } });
    const ref = { apiVersion: 'v1', kind: 'ServiceAccount', name: 'u1', namespace: 'access' };
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: 'u1', namespace: 'access' }, spec: { expirationSeconds: 900 } };
    // Act
    server.setFaults(vc.name, { dropAfterRequests: 0, dropCount: 1 });
    const answer = await client.createSubresource<{ apiVersion: string; kind: string; metadata: { name: string }; status: { token: string; expirationTimestamp: string } }>(ref, 'token', body);
    server.setFaults(vc.name, undefined);
    const missing = client.createSubresource({ ...ref, name: 'nobody' }, 'token', body);
    const invalid = client.createSubresource(ref, 'token', { ...body, spec: { expirationSeconds: 5 } });
    // Assess
    expect(answer.kind).toBe('TokenRequest');
    expect(answer.status.token.split('.')).toHaveLength(3);
    expect(Date.parse(answer.status.expirationTimestamp) - Date.now()).toBeGreaterThan(890_000);
    expect(typeof answer.status.expirationTimestamp).toBe('string');
    expect(delays).toEqual([500]);
    await expect(missing).rejects.toBeInstanceOf(KubeNotFoundError);
    await expect(missing).rejects.toThrow('create token of ServiceAccount access/nobody on c-');
    await expect(invalid).rejects.toMatchObject({ name: 'KubeApiError', code: 422, reason: 'Invalid' });
  });
});

describe('connections', () => {
  it('re-authenticates once on 401 when told how (EKS), and the retried call succeeds with the new token', async () => {
    // Prepare
    clearEksCache();
    const vc = server.addCluster(`c-${++seq}`, { token: 'k8s-aws-v1.good' });
    const tokens = ['k8s-aws-v1.revoked', 'k8s-aws-v1.good'];
    let made = 0;
    const clock = Date.parse('2026-11-22T00:00:00Z');
    const eks = { send: async () => ({ cluster: { endpoint: vc.url, certificateAuthority: { data: 'Y2E=' } } }) };
    const token = async (): Promise<EksToken> => ({
      token: tokens[made++] ?? 'k8s-aws-v1.none',
      issuedAt: new Date(clock),
      expiresAt: new Date(clock + 15 * 60_000),
      refreshAt: new Date(clock + 14 * 60_000),
    });
    const client = connectEks({ clusterName: 'mgmt2', region: 'eu-west-1', eks: eks as never, token, now: () => new Date(clock) });
    // Act
    const ns = await client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' });
    // Assess
    expect(ns?.metadata.name).toBe('default');
    expect(made).toBe(2);
    clearEksCache();
  });

  it('loads kubeconfigs without echoing their content, and allows plain http only as http', async () => {
    // Prepare
    const vc = server.addCluster(`c-${++seq}`);
    const text = kubeconfigText({ name: vc.name, server: vc.url, token: vc.token });
    const noSkip = JSON.parse(text) as { clusters: { cluster: Record<string, unknown> }[] };
    delete noSkip.clusters[0]?.cluster['insecure-skip-tls-verify'];
    // Act
    const kc = await loadKubeconfig({ object: noSkip });
    const client = createKubeClient(kc);
    // Assess
    expect(await client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' })).not.toBeNull();
    const broken = `{"users":[{"name":"u","user":{"token":"${vc.token}"}}], nope`;
    expect(() => kubeconfigFromText(broken)).toThrow(KubeconfigError);
    try {
      kubeconfigFromText(broken);
    } catch (err) {
      expect((err as Error).message).not.toContain(vc.token);
    }
    expect(() => kubeconfigFromText('{"apiVersion":"v1","kind":"Config","clusters":[],"users":[],"contexts":[]}')).toThrow('no current cluster');
    await expect(loadKubeconfig({ file: '/nonexistent/kubeconfig' })).rejects.toThrow(KubeconfigError);
    const dir = await mkdtemp(join(tmpdir(), 'slipway-kc-'));
    const file = join(dir, 'config');
    await writeFile(file, text, { mode: 0o600 });
    const fromFile = await connectKubeconfig({ file, context: vc.name });
    expect(await fromFile.get({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' })).not.toBeNull();
    await expect(loadKubeconfig({ file, context: 'other' })).rejects.toThrow('no context "other"');
    await rm(dir, { recursive: true });
    const https = kubeconfigFromText(text.replace('http://', 'https://').replace('"insecure-skip-tls-verify": true', '"insecure-skip-tls-verify": false'));
    expect(https.getCurrentCluster()?.skipTLSVerify).toBe(false);
  });

  it('reaches a workload cluster through its <cluster>-kubeconfig Secret', async () => {
    // Prepare
    const mgmt = cluster();
    const workload = server.addCluster(`c-${++seq}`);
    await mgmt.client.ensureNamespace('slipway-team-a');
    // Act + Assess: not written yet
    await expect(connectWorkload(mgmt.client, 'slipway-team-a', 'dev-1')).rejects.toThrow(KubeconfigNotFoundError);
    mgmt.vc.store.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'dev-1-kubeconfig', namespace: 'slipway-team-a', labels: { 'cluster.x-k8s.io/cluster-name': 'dev-1' } },
      type: 'cluster.x-k8s.io/secret',
      data: { value: Buffer.from(kubeconfigText({ name: 'dev-1', server: workload.url, token: workload.token })).toString('base64') },
    });
    const client = await connectWorkload(mgmt.client, 'slipway-team-a', 'dev-1');
    await client.ensureNamespace('from-slipway');
    expect(workload.store.get({ apiVersion: 'v1', kind: 'Namespace', name: 'from-slipway' })).toBeDefined();
    expect(client.cluster).toBe('workload/dev-1');
  });

  it('connects to EKS with DescribeCluster once and a new token after 14 minutes', async () => {
    // Prepare
    clearEksCache();
    const vc = server.addCluster(`c-${++seq}`, { token: 'k8s-aws-v1.first' });
    let describes = 0;
    const eks = {
      send: async (command: unknown) => {
        expect(command).toBeInstanceOf(DescribeClusterCommand);
        describes++;
        return { cluster: { endpoint: vc.url, certificateAuthority: { data: Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64') }, status: 'ACTIVE' } };
      },
    };
    let clock = Date.parse('2026-11-22T00:00:00Z');
    const tokens = ['k8s-aws-v1.first', 'k8s-aws-v1.second'];
    const issued: string[] = [];
    const token = async (): Promise<EksToken> => {
      const t = tokens[issued.length] ?? 'k8s-aws-v1.none';
      issued.push(t);
      return { token: t, issuedAt: new Date(clock), expiresAt: new Date(clock + 15 * 60_000), refreshAt: new Date(clock + 14 * 60_000) };
    };
    const client = connectEks({ clusterName: 'mgmt', region: 'eu-west-1', eks: eks as never, token, now: () => new Date(clock) }, { retry: { read: { attempts: 1 } } });
    // Act
    const first = await client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' });
    clock += 13 * 60_000;
    const second = await client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' });
    clock += 2 * 60_000;
    const third = client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' });
    // Assess: the refreshed token is used (this server only knows the first one); a 401 makes one more token
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    await expect(third).rejects.toMatchObject({ name: 'KubeApiError', code: 401 });
    expect(issued).toEqual(['k8s-aws-v1.first', 'k8s-aws-v1.second', 'k8s-aws-v1.none']);
    expect(describes).toBe(1);
    clearEksCache();
  });
});

function header(ref: { apiVersion: string; kind: string; name: string; namespace: string }) {
  return { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } };
}
