/**
 * Which reconciles a change triggers, beyond the changed object's own controller: owners, the Cluster whose
 * status summarises the object, children referenced from a Machine, and — when a Cluster's pause or
 * initialisation state flips — every object of that Cluster. Cheap and synchronous where possible: a store
 * listener must only enqueue.
 */
import { API_ADDONS, API_BOOTSTRAP, API_CLUSTERCTL, API_CORE, API_CP, API_INFRA } from '../classes.ts';
import type { Manager } from './manager.ts';
import { clusterKey } from './naming.ts';
import { CERT_MANAGER_NAMESPACE, CERT_MANAGER_WEBHOOK, PROVIDERS } from './providers.ts';
import type { ClusterRuntime, EventRouter } from './runtime.ts';
import { requiredVolumeSources } from './kubelet.ts';
import type { Cluster, Deployment, KObject, Machine } from './types.ts';
import { A_PAUSED, L_CLUSTER_NAME } from './util.ts';

const CONTROLLER_OF_KIND: Record<string, string> = {
  Cluster: 'cluster',
  KubeadmControlPlane: 'kcp',
  MachineDeployment: 'machinedeployment',
  MachineSet: 'machineset',
  Machine: 'machine',
  KubeadmConfig: 'kubeadmconfig',
  SimMachine: 'simmachine',
  SimCluster: 'simcluster',
  ClusterClass: 'clusterclass',
  HelmChartProxy: 'helmchartproxy',
  HelmReleaseProxy: 'helmreleaseproxy',
};

/** Kinds fanned out to when a Cluster's state flips. */
const CLUSTER_CHILDREN: { apiVersion: string; kind: string }[] = [
  { apiVersion: API_INFRA, kind: 'SimCluster' },
  { apiVersion: API_CP, kind: 'KubeadmControlPlane' },
  { apiVersion: API_CORE, kind: 'MachineDeployment' },
  { apiVersion: API_CORE, kind: 'MachineSet' },
  { apiVersion: API_CORE, kind: 'Machine' },
  { apiVersion: API_BOOTSTRAP, kind: 'KubeadmConfig' },
  { apiVersion: API_INFRA, kind: 'SimMachine' },
  { apiVersion: API_ADDONS, kind: 'HelmReleaseProxy' },
];

/** Where Deployment changes can open or close a gate (providers, cert-manager). */
const PROVIDER_NAMESPACES = new Set([...PROVIDERS.map((p) => p.namespace), CERT_MANAGER_NAMESPACE]);

function key(o: KObject) {
  return { namespace: o.metadata.namespace ?? '', name: o.metadata.name };
}

function clusterSignature(c: Cluster, deleted: boolean): string {
  return JSON.stringify([
    deleted,
    c.spec?.paused === true,
    c.metadata.annotations?.[A_PAUSED] !== undefined,
    c.metadata.deletionTimestamp !== undefined,
    c.status?.initialization?.infrastructureProvisioned === true,
    c.status?.initialization?.controlPlaneInitialized === true,
    c.metadata.labels ?? {},
  ]);
}

export function standardRouters(manager: Manager): EventRouter[] {
  const signatures = new Map<string, string>();

  const owners: EventRouter = (rt, { object }) => {
    for (const ref of object.metadata.ownerReferences ?? []) {
      const controller = CONTROLLER_OF_KIND[ref.kind];
      if (controller !== undefined) rt.enqueue(controller, { namespace: object.metadata.namespace ?? '', name: ref.name });
    }
    const clusterName = object.metadata.labels?.[L_CLUSTER_NAME];
    if (clusterName !== undefined && object.kind !== 'Cluster' && object.metadata.namespace !== undefined) {
      rt.enqueue('cluster', { namespace: object.metadata.namespace, name: clusterName });
    }
  };

  const capi: EventRouter = (rt, event) => {
    const o = event.object;
    const ns = o.metadata.namespace ?? '';
    switch (o.kind) {
      case 'Machine': {
        const m = o as Machine;
        const infra = m.spec?.infrastructureRef?.name;
        const config = m.spec?.bootstrap?.configRef?.name;
        if (infra !== undefined) rt.enqueue('simmachine', { namespace: ns, name: infra });
        if (config !== undefined) rt.enqueue('kubeadmconfig', { namespace: ns, name: config });
        manager.trackMachine(rt, m, event.type === 'DELETED');
        break;
      }
      case 'Cluster': {
        const c = o as Cluster;
        const id = `${rt.name}/${ns}/${c.metadata.name}`;
        manager.trackCluster(rt, clusterKey(ns, c.metadata.name), event.type === 'DELETED');
        const sig = clusterSignature(c, event.type === 'DELETED');
        if (signatures.get(id) !== sig) {
          if (event.type === 'DELETED') signatures.delete(id);
          else signatures.set(id, sig);
          rt.spawn('fan-out', fanOut(rt, ns, c.metadata.name));
        }
        break;
      }
      case 'ClusterClass':
        rt.spawn('enqueue', enqueueAll(rt, API_CORE, 'Cluster', 'cluster'));
        break;
      default:
    }
  };

  const kubelet: EventRouter = (rt, { type, object }) => {
    if ((object.kind === 'Secret' || object.kind === 'ConfigMap') && object.apiVersion === 'v1' && type !== 'MODIFIED') {
      // Pods waiting in ContainerCreating for a volume's Secret or ConfigMap start once it exists.
      rt.spawn('enqueue', enqueueMounting(rt, object.kind, object.metadata.namespace ?? '', object.metadata.name));
    } else if (object.kind === 'Node' && object.apiVersion === 'v1') {
      rt.spawn('enqueue', enqueueAll(rt, 'apps/v1', 'Deployment', 'deployment'));
      rt.spawn('enqueue', enqueueAll(rt, 'apps/v1', 'DaemonSet', 'daemonset'));
      for (const host of manager.hostsOfWorkload(rt.name)) host.runtime.enqueue('machine', { namespace: host.namespace, name: object.metadata.name });
    } else if (object.kind === 'Deployment' && object.metadata.namespace === CERT_MANAGER_NAMESPACE && object.metadata.name === CERT_MANAGER_WEBHOOK) {
      // Provider Deployments wait for cert-manager's webhook.
      rt.spawn('enqueue', enqueueAll(rt, 'apps/v1', 'Deployment', 'deployment'));
    } else if (object.kind === 'DaemonSet' && object.metadata.namespace === 'kube-system') {
      rt.spawn('enqueue', enqueueAll(rt, 'v1', 'Node', 'node'));
    }
    if ((object.kind === 'Deployment' || object.kind === 'Provider') && PROVIDER_NAMESPACES.has(object.metadata.namespace ?? '')) {
      rt.enqueue('providers', { namespace: '', name: 'gate' });
    }
    if (object.kind === 'Provider' && object.apiVersion === API_CLUSTERCTL) rt.enqueue('providers', { namespace: '', name: 'gate' });
  };

  return [owners, capi, kubelet];
}

async function enqueueMounting(rt: ClusterRuntime, kind: 'Secret' | 'ConfigMap', namespace: string, name: string): Promise<void> {
  if (rt.stopped || namespace === '') return;
  for (const d of await rt.client.list<Deployment>('apps/v1', 'Deployment', { namespace })) {
    if (requiredVolumeSources(d.spec?.template).some((s) => s.kind === kind && s.name === name)) rt.enqueue('deployment', key(d));
  }
}

async function enqueueAll(rt: ClusterRuntime, apiVersion: string, kind: string, controller: string): Promise<void> {
  if (!rt.gateOpen('kubelet') || rt.stopped) return;
  for (const o of await rt.client.list(apiVersion, kind)) rt.enqueue(controller, key(o));
}

async function fanOut(rt: ClusterRuntime, namespace: string, clusterName: string): Promise<void> {
  if (rt.stopped) return;
  for (const k of CLUSTER_CHILDREN) {
    const controller = CONTROLLER_OF_KIND[k.kind];
    if (controller === undefined) continue;
    for (const o of await rt.client.list(k.apiVersion, k.kind, { namespace, labels: { [L_CLUSTER_NAME]: clusterName } })) rt.enqueue(controller, key(o));
  }
  await enqueueAll(rt, API_ADDONS, 'HelmChartProxy', 'helmchartproxy');
}

