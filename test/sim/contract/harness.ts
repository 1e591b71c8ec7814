/**
 * Connects the contract suite to its target: the simulator started in-process (default), or the real cluster
 * of the kubeconfig named by SLIPWAY_TEST_KUBECONFIG. Tests talk to either only through @kubernetes/client-node.
 */
import { randomBytes } from 'node:crypto';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import { createApiServer, type ApiServer, type VirtualCluster } from '../../../local/sim/apiserver/server.ts';

/** Set when the suite runs against a real cluster; sim-only describes use `describe.runIf(!realCluster)`. */
export const realCluster = process.env.SLIPWAY_TEST_KUBECONFIG !== undefined && process.env.SLIPWAY_TEST_KUBECONFIG !== '';

export interface Target {
  kc: KubeConfig;
  objects: KubernetesObjectApi;
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
  /** A fresh namespace for this test file, deleted by `close`. */
  namespace: string;
  /** Present only against the simulator. */
  sim?: { server: ApiServer; cluster: VirtualCluster };
  /** A client for the same server with another bearer token. */
  withToken(token: string): KubeConfig;
  close(): Promise<void>;
}

function simConfig(url: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sim', server: url, skipTLSVerify: true }],
    users: [{ name: 'sim-admin', token }],
    contexts: [{ name: 'sim', cluster: 'sim', user: 'sim-admin' }],
    currentContext: 'sim',
  });
  return kc;
}

export async function connect(): Promise<Target> {
  let kc: KubeConfig;
  let sim: Target['sim'];
  let withToken: (token: string) => KubeConfig;
  if (realCluster) {
    kc = new KubeConfig();
    kc.loadFromFile(process.env.SLIPWAY_TEST_KUBECONFIG ?? '');
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error('SLIPWAY_TEST_KUBECONFIG has no current cluster');
    withToken = (token) => {
      const other = new KubeConfig();
      other.loadFromOptions({
        clusters: [cluster],
        users: [{ name: 'contract-bad-token', token }],
        contexts: [{ name: 'bad', cluster: cluster.name, user: 'contract-bad-token' }],
        currentContext: 'bad',
      });
      return other;
    };
  } else {
    // Cleanup after deletes is deferred, as a real cluster's controllers do it: tests must poll as they would.
    const server = await createApiServer({ gcDelayMs: 20 });
    const cluster = server.addCluster('contract');
    sim = { server, cluster };
    kc = simConfig(cluster.url, cluster.token);
    withToken = (token) => simConfig(cluster.url, token);
  }
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const namespace = `slipway-contract-${randomBytes(4).toString('hex')}`;
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  return {
    kc,
    objects,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    namespace,
    sim,
    withToken,
    async close() {
      try {
        await objects.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      } catch (err) {
        if (!(err instanceof ApiException && err.code === 404)) throw err;
      }
      await sim?.server.close();
    },
  };
}

export interface StatusBody {
  kind: string;
  apiVersion: string;
  status: string;
  message: string;
  reason: string;
  code: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[] };
}

/** Runs a call expected to fail and returns the HTTP code and the parsed Status body. */
export async function failure(call: Promise<unknown>): Promise<{ code: number; status: StatusBody }> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body: unknown = err.body;
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as StatusBody;
    return { code: err.code, status };
  }
  throw new Error('expected the call to fail, it succeeded');
}

/** Polls `probe` until it returns true (real clusters act asynchronously: GC, namespace controller). */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** true when reading the object answers 404. */
export async function isGone(objects: KubernetesObjectApi, spec: KubernetesObject & { metadata: { name: string } }): Promise<boolean> {
  try {
    await objects.read(spec);
    return false;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return true;
    throw err;
  }
}

export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}
