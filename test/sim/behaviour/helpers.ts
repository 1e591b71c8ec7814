/**
 * Test helpers for the simulator's behaviour suites: client-node clients for a kubeconfig, polling, and the
 * objects a user would write. Everything goes through `@kubernetes/client-node`, as Slipway will.
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';

export interface Clients {
  kc: KubeConfig;
  objects: KubernetesObjectApi;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  apps: AppsV1Api;
}

export function clientsFor(kubeconfig: string | object): Clients {
  const kc = new KubeConfig();
  kc.loadFromString(typeof kubeconfig === 'string' ? kubeconfig : JSON.stringify(kubeconfig));
  return {
    kc,
    objects: KubernetesObjectApi.makeApiClient(kc),
    custom: kc.makeApiClient(CustomObjectsApi),
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
  };
}

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

/** Polls `probe` until it returns a value that is not undefined/false; the last probe error is reported. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new WaitTimeoutError(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface CapiObject extends KubernetesObject {
  spec?: Record<string, unknown> & {
    paused?: boolean;
    providerID?: string;
    version?: string;
    replicas?: number;
    topology?: { version?: string; classRef?: { name: string; namespace?: string }; controlPlane?: { replicas?: number }; workers?: { machineDeployments?: { class: string; name: string; replicas?: number }[] } };
    template?: { spec?: { version?: string } };
  };
  status?: Record<string, unknown> & {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    initialization?: Record<string, boolean>;
    nodeRef?: { name: string };
    version?: string;
    replicas?: number;
    upToDateReplicas?: number;
    readyReplicas?: number;
  };
}

export function conditionOf(obj: CapiObject | undefined, type: string): { status: string; reason?: string; message?: string } | undefined {
  return obj?.status?.conditions?.find((c) => c.type === type);
}

export function isTrue(obj: CapiObject | undefined, type: string): boolean {
  return conditionOf(obj, type)?.status === 'True';
}

export const CAPI = 'cluster.x-k8s.io/v1beta2';

export async function getCluster(c: Clients, namespace: string, name: string): Promise<CapiObject> {
  return c.objects.read<CapiObject>({ apiVersion: CAPI, kind: 'Cluster', metadata: { name, namespace } });
}

export async function list(c: Clients, apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<CapiObject[]> {
  const l = await c.objects.list<CapiObject>(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
  return l.items;
}

export async function ensureNamespace(c: Clients, name: string): Promise<void> {
  try {
    await c.core.createNamespace({ body: { metadata: { name } } });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}

export function topologyCluster(namespace: string, name: string, opts: { className?: string; version?: string; cpReplicas?: number; workers?: number; labels?: Record<string, string> } = {}): CapiObject {
  return {
    apiVersion: CAPI,
    kind: 'Cluster',
    metadata: { name, namespace, labels: opts.labels ?? {} },
    spec: {
      clusterNetwork: { pods: { cidrBlocks: ['192.168.0.0/16'] }, services: { cidrBlocks: ['10.96.0.0/12'] } },
      topology: {
        classRef: { name: opts.className ?? 'sim-ferrol-1-31-v1', namespace: 'default' },
        version: opts.version ?? 'v1.31.4',
        controlPlane: { replicas: opts.cpReplicas ?? 1 },
        workers: { machineDeployments: opts.workers === undefined ? [] : [{ class: 'default-worker', name: 'md-0', replicas: opts.workers }] },
      },
    },
  };
}

export async function mergePatch<T extends KubernetesObject>(c: Clients, obj: T, patch: object): Promise<T> {
  return c.objects.patch<T>({ ...patch, apiVersion: obj.apiVersion, kind: obj.kind, metadata: { ...(patch as { metadata?: object }).metadata, name: obj.metadata?.name, namespace: obj.metadata?.namespace } } as T, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
}

/** The workload cluster's clients, from the `<cluster>-kubeconfig` Secret as a CAPI user reads it. */
export async function workloadClients(mgmt: Clients, namespace: string, cluster: string): Promise<Clients> {
  const secret = await mgmt.core.readNamespacedSecret({ name: `${cluster}-kubeconfig`, namespace });
  const value = secret.data?.value;
  if (value === undefined) throw new WaitTimeoutError(`secret ${cluster}-kubeconfig has no value`);
  return clientsFor(Buffer.from(value, 'base64').toString('utf8'));
}

export async function installCni(workload: Clients): Promise<void> {
  await workload.apps.createNamespacedDaemonSet({
    namespace: 'kube-system',
    body: {
      metadata: { name: 'cilium', namespace: 'kube-system', labels: { 'k8s-app': 'cilium' } },
      spec: {
        selector: { matchLabels: { 'k8s-app': 'cilium' } },
        template: { metadata: { labels: { 'k8s-app': 'cilium' } }, spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.16.5' }] } },
      },
    },
  });
}

export function nodeReady(node: { status?: { conditions?: { type: string; status: string }[] } }): boolean {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}
