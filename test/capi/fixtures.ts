/**
 * Hand-built CAPI object graphs in a virtual cluster of the simulator's API server (no controllers): what CAPI
 * core + KCP + kubeadm bootstrap + the sim infrastructure provider leave in a namespace for a topology
 * Cluster with one control-plane machine and a MachineDeployment of workers, with statuses written through
 * the status subresource, plus the clusterctl provider inventory.
 */
import type { ApiServer, VirtualCluster } from '../../local/sim/apiserver/server.ts';
import { type ClusterStore, type KubeObject, ownerRefTo } from '../../local/sim/apiserver/store.ts';
import { kubeconfigFromText } from '../../shared/capi/connect.ts';
import { createKubeClient, type KubeClient } from '../../shared/capi/client.ts';
import { kubeconfigText } from '../../local/sim/apiserver/kubeconfig.ts';

export const CAPI = 'cluster.x-k8s.io/v1beta2';
export const CP = 'controlplane.cluster.x-k8s.io/v1beta2';
export const BOOT = 'bootstrap.cluster.x-k8s.io/v1beta2';
export const INFRA = 'infrastructure.cluster.x-k8s.io/v1beta2';

export function clientFor(vc: VirtualCluster, opts: { attempts?: number } = {}): KubeClient {
  const kc = kubeconfigFromText(kubeconfigText({ name: vc.name, server: vc.url, token: vc.token }));
  const attempts = opts.attempts ?? 3;
  return createKubeClient(kc, { cluster: vc.name, retry: { read: { initialMs: 1, attempts }, write: { initialMs: 1, attempts } } });
}

function create(store: ClusterStore, obj: KubeObject, status?: Record<string, unknown>): KubeObject {
  const created = store.create(obj);
  if (status === undefined) return created;
  return store.mergePatch(created, { status }, { subresource: 'status' });
}

function ensureNs(store: ClusterStore, name: string): void {
  if (store.get({ apiVersion: 'v1', kind: 'Namespace', name }) === undefined) store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

const PROVIDERS = [
  { name: 'cluster-api', providerName: 'cluster-api', type: 'CoreProvider', namespace: 'capi-system', deployment: 'capi-controller-manager' },
  { name: 'bootstrap-kubeadm', providerName: 'kubeadm', type: 'BootstrapProvider', namespace: 'capi-kubeadm-bootstrap-system', deployment: 'capi-kubeadm-bootstrap-controller-manager' },
  { name: 'control-plane-kubeadm', providerName: 'kubeadm', type: 'ControlPlaneProvider', namespace: 'capi-kubeadm-control-plane-system', deployment: 'capi-kubeadm-control-plane-controller-manager' },
  { name: 'infrastructure-sim', providerName: 'sim', type: 'InfrastructureProvider', namespace: 'capi-sim-system', deployment: 'capi-sim-controller-manager' },
] as const;

/** Provider inventory + Deployments; `available` writes an Available status on the Deployments. */
export function installProviders(store: ClusterStore, opts: { version?: string; available?: boolean; skip?: string } = {}): void {
  for (const p of PROVIDERS) {
    if (p.name === opts.skip) continue;
    ensureNs(store, p.namespace);
    const labels = { 'clusterctl.cluster.x-k8s.io': '', 'cluster.x-k8s.io/provider': p.name };
    create(
      store,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: p.deployment, namespace: p.namespace, labels },
        spec: { replicas: 1, selector: { matchLabels: { 'cluster.x-k8s.io/provider': p.name } }, template: { metadata: { labels }, spec: { containers: [] } } },
      },
      opts.available === false ? undefined : { observedGeneration: 1, conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }] },
    );
    store.create({
      apiVersion: 'clusterctl.cluster.x-k8s.io/v1alpha3',
      kind: 'Provider',
      metadata: { name: p.name, namespace: p.namespace, labels },
      providerName: p.providerName,
      type: p.type,
      version: opts.version ?? 'v1.14.0',
    });
  }
}

/** The ClusterClass (in `default`) and its templates, owned by the class as CAPI's ClusterClass controller does. */
export function installClass(store: ClusterStore, name = 'sim-ferrol-1-31-v1', namespace = 'default'): KubeObject {
  ensureNs(store, namespace);
  const labels = { 'clusterctl.cluster.x-k8s.io/move': '' };
  const t = (apiVersion: string, kind: string, suffix: string) => ({ apiVersion, kind, name: `${name}${suffix}` });
  const refs = {
    infra: t(INFRA, 'SimClusterTemplate', ''),
    cp: t(CP, 'KubeadmControlPlaneTemplate', '-control-plane'),
    cpMachine: t(INFRA, 'SimMachineTemplate', '-control-plane'),
    workerBoot: t(BOOT, 'KubeadmConfigTemplate', '-default-worker'),
    workerMachine: t(INFRA, 'SimMachineTemplate', '-default-worker'),
  };
  const cc = store.create({
    apiVersion: CAPI,
    kind: 'ClusterClass',
    metadata: { name, namespace, labels },
    spec: {
      infrastructure: { templateRef: refs.infra },
      controlPlane: { templateRef: refs.cp, machineInfrastructure: { templateRef: refs.cpMachine } },
      workers: { machineDeployments: [{ class: 'default-worker', bootstrap: { templateRef: refs.workerBoot }, infrastructure: { templateRef: refs.workerMachine } }] },
    },
  });
  for (const r of Object.values(refs)) {
    store.create({
      apiVersion: r.apiVersion,
      kind: r.kind,
      metadata: { name: r.name, namespace, labels, ownerReferences: [ownerRefTo(cc)] },
      spec: { template: { spec: {} } },
    });
  }
  return cc;
}

export interface GraphSummary {
  /** Objects of the cluster (moved): `Kind/name`. */
  moved: string[];
}

/**
 * A provisioned topology Cluster `name` in `namespace`: 1 control-plane machine + `workers` worker machines,
 * each with KubeadmConfig, SimMachine and bootstrap Secret, the KCP's Secrets, a soft-owned labelled Secret.
 */
export function buildCluster(store: ClusterStore, namespace: string, name: string, opts: { workers?: number; className?: string } = {}): GraphSummary {
  ensureNs(store, namespace);
  const moved: string[] = [];
  const add = (obj: KubeObject, status?: Record<string, unknown>) => {
    const o = create(store, obj, status);
    moved.push(`${o.kind}/${o.metadata.name}`);
    return o;
  };
  const clusterLabels = { 'cluster.x-k8s.io/cluster-name': name };
  const cluster = add(
    {
      apiVersion: CAPI,
      kind: 'Cluster',
      metadata: { name, namespace, labels: { 'slipway.dev/cluster': name }, finalizers: ['cluster.cluster.x-k8s.io'] },
      spec: {
        clusterNetwork: { pods: { cidrBlocks: ['192.168.0.0/16'] } },
        topology: { classRef: { name: opts.className ?? 'sim-ferrol-1-31-v1', namespace: 'default' }, version: 'v1.31.4', controlPlane: { replicas: 1 } },
        infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimCluster', name: `${name}-infra` },
        controlPlaneRef: { apiGroup: 'controlplane.cluster.x-k8s.io', kind: 'KubeadmControlPlane', name: `${name}-cp` },
      },
    },
    {
      initialization: { infrastructureProvisioned: true, controlPlaneInitialized: true },
      conditions: [{ type: 'Available', status: 'True', reason: 'Available' }],
    },
  );
  const byCluster = (controller: boolean) => [ownerRefTo(cluster, { controller, blockOwnerDeletion: true })];
  add(
    { apiVersion: INFRA, kind: 'SimCluster', metadata: { name: `${name}-infra`, namespace, labels: clusterLabels, ownerReferences: byCluster(true), finalizers: ['simcluster.infrastructure.cluster.x-k8s.io'] }, spec: { region: 'sim-region-1' } },
    { initialization: { provisioned: true } },
  );
  const kcp = add(
    { apiVersion: CP, kind: 'KubeadmControlPlane', metadata: { name: `${name}-cp`, namespace, labels: clusterLabels, ownerReferences: byCluster(true), finalizers: ['kubeadm.controlplane.cluster.x-k8s.io'] }, spec: { replicas: 1, version: 'v1.31.4' } },
    { initialization: { controlPlaneInitialized: true }, replicas: 1, readyReplicas: 1 },
  );
  for (const [kind, apiVersion, suffix] of [
    ['SimMachineTemplate', INFRA, 'cp-tmpl'],
    ['SimMachineTemplate', INFRA, 'md-tmpl'],
    ['KubeadmConfigTemplate', BOOT, 'md-boot'],
  ] as const) {
    add({ apiVersion, kind, metadata: { name: `${name}-${suffix}`, namespace, labels: { ...clusterLabels, 'topology.cluster.x-k8s.io/owned': '' }, ownerReferences: byCluster(false) }, spec: { template: { spec: {} } } });
  }
  for (const s of ['ca', 'etcd', 'sa', 'proxy', 'kubeconfig']) {
    add({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${name}-${s}`, namespace, labels: clusterLabels, ownerReferences: [ownerRefTo(kcp, { controller: true, blockOwnerDeletion: true })] },
      type: 'cluster.x-k8s.io/secret',
      data: { value: Buffer.from(`${s} of ${name}`).toString('base64') },
    });
  }
  // Owner-less, tied to the cluster by its label only (soft ownership).
  add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-extra`, namespace, labels: clusterLabels }, data: { k: 'v' } });
  const md = add({
    apiVersion: CAPI,
    kind: 'MachineDeployment',
    metadata: { name: `${name}-workers-abcde`, namespace, labels: { ...clusterLabels, 'topology.cluster.x-k8s.io/deployment-name': 'workers' }, ownerReferences: byCluster(false) },
    spec: { clusterName: name, replicas: opts.workers ?? 2 },
  });
  const ms = add({
    apiVersion: CAPI,
    kind: 'MachineSet',
    metadata: { name: `${md.metadata.name}-x1y2z`, namespace, labels: { ...clusterLabels, 'cluster.x-k8s.io/deployment-name': md.metadata.name }, ownerReferences: [ownerRefTo(md, { controller: true, blockOwnerDeletion: true })] },
    spec: { clusterName: name, replicas: opts.workers ?? 2 },
  });
  const machine = (machineName: string, owner: KubeObject, controlPlane: boolean) => {
    const labels = { ...clusterLabels, ...(controlPlane ? { 'cluster.x-k8s.io/control-plane': '' } : { 'cluster.x-k8s.io/set-name': ms.metadata.name }) };
    const m = add(
      {
        apiVersion: CAPI,
        kind: 'Machine',
        metadata: { name: machineName, namespace, labels, ownerReferences: [ownerRefTo(owner, { controller: true, blockOwnerDeletion: true })], finalizers: ['machine.cluster.x-k8s.io'] },
        spec: {
          clusterName: name,
          version: 'v1.31.4',
          providerID: `sim://${machineName}`,
          bootstrap: { configRef: { apiGroup: 'bootstrap.cluster.x-k8s.io', kind: 'KubeadmConfig', name: machineName } },
          infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachine', name: machineName },
        },
      },
      { phase: 'Running', nodeRef: { name: `node-${machineName}` }, conditions: [{ type: 'Ready', status: 'True', reason: 'Ready' }] },
    );
    const byMachine = [ownerRefTo(m, { controller: true, blockOwnerDeletion: true })];
    const cfg = add({ apiVersion: BOOT, kind: 'KubeadmConfig', metadata: { name: machineName, namespace, labels, ownerReferences: byMachine }, spec: {} }, { dataSecretName: machineName });
    add({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: machineName, namespace, labels, ownerReferences: [ownerRefTo(cfg, { controller: true })] },
      type: 'cluster.x-k8s.io/secret',
      data: { value: Buffer.from('#cloud-config').toString('base64') },
    });
    add(
      { apiVersion: INFRA, kind: 'SimMachine', metadata: { name: machineName, namespace, labels, ownerReferences: byMachine, finalizers: ['simmachine.infrastructure.cluster.x-k8s.io'] }, spec: { providerID: `sim://${machineName}` } },
      { initialization: { provisioned: true } },
    );
  };
  machine(`${name}-cp-q7w8e`, kcp, true);
  for (let i = 0; i < (opts.workers ?? 2); i++) machine(`${ms.metadata.name}-w${i}`, ms, false);
  return { moved: moved.sort() };
}

export const MOVED_KINDS: readonly [string, string][] = [
  [CAPI, 'Cluster'],
  [CAPI, 'MachineDeployment'],
  [CAPI, 'MachineSet'],
  [CAPI, 'Machine'],
  [CP, 'KubeadmControlPlane'],
  [BOOT, 'KubeadmConfig'],
  [BOOT, 'KubeadmConfigTemplate'],
  [INFRA, 'SimCluster'],
  [INFRA, 'SimMachine'],
  [INFRA, 'SimMachineTemplate'],
  ['v1', 'Secret'],
  ['v1', 'ConfigMap'],
];

/** `Kind/name` of every object in `namespace` of the kinds a cluster's move covers. */
export function objectsIn(store: ClusterStore, namespace: string, filter: (o: KubeObject) => boolean = () => true): KubeObject[] {
  return MOVED_KINDS.flatMap(([apiVersion, kind]) => store.list({ apiVersion, kind, namespace })).filter(filter);
}

export function namesOf(objs: readonly KubeObject[]): string[] {
  return objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
}

/** A fresh source/target pair on `server`, with providers on both and the class in the source. */
export function pair(server: ApiServer, id: string): { source: VirtualCluster; target: VirtualCluster } {
  const source = server.addCluster(`src-${id}`);
  const target = server.addCluster(`dst-${id}`);
  installProviders(source.store);
  installProviders(target.store);
  installClass(source.store);
  return { source, target };
}

export class CrashError extends Error {
  override readonly name = 'CrashError';
}

/** Counts writes over both clients; the Nth write crashes the process, before or after it reached the server. */
export function crashing(client: KubeClient, budget: { left: number; after: boolean }): KubeClient {
  const write = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (budget.left <= 0) throw new CrashError('crashed');
    budget.left--;
    if (budget.left === 0 && budget.after) {
      await fn();
      throw new CrashError('crashed after the write landed');
    }
    return fn();
  };
  return {
    cluster: client.cluster,
    get: (ref) => client.get(ref),
    list: (apiVersion, kind, opts) => client.list(apiVersion, kind, opts),
    create: (obj) => write(() => client.create(obj)),
    replace: (obj) => write(() => client.replace(obj)),
    apply: (obj, opts) => write(() => client.apply(obj, opts)),
    mergePatch: (ref, patch) => write(() => client.mergePatch(ref, patch)),
    delete: (ref, opts) => write(() => client.delete(ref, opts)),
    ensureNamespace: (name, labels) => write(() => client.ensureNamespace(name, labels)),
  } as KubeClient;
}
