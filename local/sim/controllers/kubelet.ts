/**
 * What a real cluster's kubelets, scheduler and workload controllers do, reduced to what Cluster API users
 * observe — running in every virtual cluster, whether CAPI is installed there or not:
 * - node registration: a running cloud instance's kubelet registers its Node (providerID, roles, taints);
 * - node readiness: a Node is NotReady until a CNI runs, i.e. until a DaemonSet in `kube-system` is labelled
 *   `k8s-app` ∈ {cilium, calico-node, aws-node, kube-flannel, antrea-agent, weave-net} (or `app` =
 *   `flannel`), or carries the annotation `sim.slipway.dev/cni: "true"` — then Ready after `cniReadyMs`;
 * - Deployments are Available when a pod can be scheduled: a Ready node whose NoSchedule/NoExecute taints the
 *   pod template tolerates (so a cluster with only control-plane nodes needs the control-plane toleration);
 * - CAPI provider Deployments (label `clusterctl.cluster.x-k8s.io`) also need an Available
 *   `cert-manager/cert-manager-webhook`: without it their webhook certificates never appear and the pods crash;
 * - a pod whose Secret or ConfigMap volume (not `optional`) is missing stays in ContainerCreating: the Deployment
 *   is unavailable until the object exists (its creation wakes the Deployment up);
 * - a provider Deployment (label `cluster.x-k8s.io/provider`) whose args still hold a clusterctl variable
 *   (`${VAR:=default}`, a release applied without substitution) crash-loops on the unparsable flag;
 * - DaemonSets report numberReady over the nodes whose taints they tolerate;
 * - the gates: which CAPI providers are installed (Provider inventory + Available Deployment), and which of
 *   cert-manager's Deployments are Available (controller, cainjector, webhook: see certmanager.ts).
 */
import { API_CLUSTERCTL } from '../classes.ts';
import type { SimContext } from './context.ts';
import { CERT_MANAGER_NAMESPACE, CERT_MANAGER_WEBHOOK, PROVIDERS } from './providers.ts';
import type { ClusterRuntime, Key, ProviderGate, Reconciler, ReconcileResult } from './runtime.ts';
import type { DaemonSet, Deployment, KObject, NodeObject, PodTemplate, Taint, Toleration, Volume } from './types.ts';
import { canonicalEqual, copy, NODE_ROLE_CP, nowIso } from './util.ts';

export const CNI_K8S_APPS = new Set(['cilium', 'calico-node', 'aws-node', 'kube-flannel', 'antrea-agent', 'weave-net']);
export const A_CNI = 'sim.slipway.dev/cni';

export function isCniDaemonSet(ds: KObject): boolean {
  if (ds.metadata.namespace !== 'kube-system') return false;
  const labels = ds.metadata.labels ?? {};
  return CNI_K8S_APPS.has(labels['k8s-app'] ?? '') || labels.app === 'flannel' || ds.metadata.annotations?.[A_CNI] === 'true';
}

function tolerates(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect !== undefined && t.effect !== '' && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return t.key === undefined || t.key === '' || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

export function schedulableOn(template: PodTemplate | undefined, node: NodeObject, requireReady: boolean): boolean {
  if (node.spec?.unschedulable === true) return false;
  if (requireReady && node.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') return false;
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerates(template?.spec?.tolerations, taint)) return false;
  }
  for (const [k, v] of Object.entries(template?.spec?.nodeSelector ?? {})) if (node.metadata.labels?.[k] !== v) return false;
  return true;
}

/** Registers the Node of a running instance in its workload cluster (key.name = provider id). */
export function nodeRegistrationReconciler(sim: SimContext): Reconciler {
  return {
    name: 'kubelet-register',
    gate: 'kubelet',
    apiVersion: 'sim.slipway.dev/v1',
    kind: 'Instance',
    listable: false,
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const instance = sim.cloud.describe(key.name);
      if (instance === undefined || instance.state !== 'running') return undefined;
      const wait = (instance.runningAt ?? 0) + sim.timing.nodeRegisterMs - Date.now();
      if (wait > 0) return { requeueAfterMs: wait };
      const existing = await rt.client.get<NodeObject>('v1', 'Node', instance.nodeName);
      if (existing !== undefined) return undefined;
      const labels: Record<string, string> = {
        'kubernetes.io/hostname': instance.nodeName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': instance.instanceType ?? 'sim.medium',
        'topology.kubernetes.io/region': instance.region,
      };
      if (instance.controlPlane) labels[NODE_ROLE_CP] = '';
      await rt.client.create({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: instance.nodeName, labels },
        spec: { providerID: instance.providerID, ...(instance.controlPlane ? { taints: [{ key: NODE_ROLE_CP, effect: 'NoSchedule' }] } : {}) },
        status: notReadyStatus(instance.version, instance.privateIp, instance.nodeName),
      } as KObject);
      return undefined;
    },
  };
}

function notReadyStatus(version: string, ip: string, hostname: string): NodeObject['status'] {
  const now = nowIso();
  return {
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        reason: 'KubeletNotReady',
        message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
    nodeInfo: { kubeletVersion: version, kubeProxyVersion: version, containerRuntimeVersion: 'containerd://1.7.24', operatingSystem: 'linux', architecture: 'amd64' },
    addresses: [
      { type: 'InternalIP', address: ip },
      { type: 'Hostname', address: hostname },
    ],
  };
}

export function nodeReadinessReconciler(sim: SimContext): Reconciler {
  return {
    name: 'node',
    gate: 'kubelet',
    apiVersion: 'v1',
    kind: 'Node',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const node = await rt.client.get<NodeObject>('v1', 'Node', key.name);
      if (node === undefined) return undefined;
      const daemonSets = await rt.client.list<DaemonSet>('apps/v1', 'DaemonSet', { namespace: 'kube-system' });
      const cni = daemonSets.filter(isCniDaemonSet).sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''))[0];
      const providerID = node.spec?.providerID ?? '';
      const instance = providerID.startsWith('sim://') ? sim.cloud.describe(providerID) : undefined;
      const instanceGone = providerID.startsWith('sim://') && (instance === undefined || instance.state !== 'running');
      let ready = false;
      let waitMs: number | undefined;
      if (cni !== undefined && !instanceGone) {
        const since = Date.parse(cni.metadata.creationTimestamp ?? '') || Date.now();
        const remaining = since + sim.timing.cniReadyMs - Date.now();
        if (remaining > 0) waitMs = remaining;
        else ready = true;
      }
      const current = node.status?.conditions?.find((c) => c.type === 'Ready');
      const want = ready ? 'True' : instanceGone ? 'Unknown' : 'False';
      if (current?.status !== want) {
        const next = copy(node);
        const now = nowIso();
        const readyCondition = ready
          ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }
          : instanceGone
            ? { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: now, lastTransitionTime: now }
            : (notReadyStatus('', '', '')?.conditions?.[0] ?? { type: 'Ready', status: 'False' });
        next.status = { ...(node.status ?? {}), conditions: [...(node.status?.conditions ?? []).filter((c) => c.type !== 'Ready'), readyCondition] };
        await rt.client.updateStatus(next);
      }
      return waitMs !== undefined ? { requeueAfterMs: waitMs } : undefined;
    },
  };
}

export function deploymentReconciler(sim: SimContext): Reconciler {
  const schedulableSince = new Map<string, number>();
  return {
    name: 'deployment',
    gate: 'kubelet',
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const d = await rt.client.get<Deployment>('apps/v1', 'Deployment', key.name, key.namespace);
      if (d === undefined) return undefined;
      const uidKey = `${d.metadata.uid}/${d.metadata.generation ?? 0}`;
      const nodes = await rt.client.list<NodeObject>('v1', 'Node');
      let target = nodes.find((n) => schedulableOn(d.spec?.template, n, true));
      if (target !== undefined && needsCertManager(d)) {
        const webhook = await rt.client.get<Deployment>('apps/v1', 'Deployment', CERT_MANAGER_WEBHOOK, CERT_MANAGER_NAMESPACE);
        if (!deploymentAvailable(webhook)) target = undefined;
      }
      if (target !== undefined && (hasUnsubstitutedVariables(d) || (await missingVolumeSources(rt, d)).length > 0)) target = undefined;
      const replicas = d.spec?.replicas ?? 1;
      let available = false;
      let waitMs: number | undefined;
      if (target !== undefined) {
        const since = schedulableSince.get(uidKey) ?? Date.now();
        schedulableSince.set(uidKey, since);
        const remaining = since + sim.timing.podStartMs - Date.now();
        if (remaining > 0) waitMs = remaining;
        else available = true;
      } else {
        schedulableSince.delete(uidKey);
      }
      const prev = (d.status ?? {}) as { conditions?: { type: string; status: string; lastTransitionTime?: string }[] };
      const transition = (type: string, status: string) => {
        const p = prev.conditions?.find((c) => c.type === type);
        return p?.status === status && p.lastTransitionTime !== undefined ? p.lastTransitionTime : nowIso();
      };
      const availStatus = available || replicas === 0 ? 'True' : 'False';
      const status = {
        observedGeneration: d.metadata.generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: available ? replicas : 0,
        availableReplicas: available ? replicas : 0,
        ...(available ? {} : { unavailableReplicas: replicas }),
        conditions: [
          {
            type: 'Available',
            status: availStatus,
            reason: availStatus === 'True' ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
            message: availStatus === 'True' ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
            lastTransitionTime: transition('Available', availStatus),
            lastUpdateTime: transition('Available', availStatus),
          },
          {
            type: 'Progressing',
            status: 'True',
            reason: available ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
            message: `ReplicaSet "${d.metadata.name}-${(d.metadata.uid ?? '').slice(0, 10)}" ${available ? 'has successfully progressed.' : 'is progressing.'}`,
            lastTransitionTime: transition('Progressing', 'True'),
            lastUpdateTime: transition('Progressing', 'True'),
          },
        ],
      };
      if (!canonicalEqual(stripTimes(d.status), stripTimes(status))) {
        const next = copy(d);
        next.status = status;
        await rt.client.updateStatus(next);
      }
      return waitMs !== undefined ? { requeueAfterMs: waitMs } : undefined;
    },
  };
}

/** The Secret and ConfigMap names a pod template mounts without `optional: true` (the kubelet waits for them). */
export function requiredVolumeSources(template: PodTemplate | undefined): { kind: 'Secret' | 'ConfigMap'; name: string }[] {
  const out: { kind: 'Secret' | 'ConfigMap'; name: string }[] = [];
  const add = (kind: 'Secret' | 'ConfigMap', name: string | undefined, optional: boolean | undefined) => {
    if (name !== undefined && name !== '' && optional !== true) out.push({ kind, name });
  };
  for (const v of template?.spec?.volumes ?? ([] as Volume[])) {
    add('Secret', v.secret?.secretName, v.secret?.optional);
    add('ConfigMap', v.configMap?.name, v.configMap?.optional);
    for (const source of v.projected?.sources ?? []) {
      add('Secret', source.secret?.name, source.secret?.optional);
      add('ConfigMap', source.configMap?.name, source.configMap?.optional);
    }
  }
  return out;
}

async function missingVolumeSources(rt: ClusterRuntime, d: Deployment): Promise<string[]> {
  const missing: string[] = [];
  for (const s of requiredVolumeSources(d.spec?.template)) {
    if ((await rt.client.get('v1', s.kind, s.name, d.metadata.namespace)) === undefined) missing.push(`${s.kind} ${s.name}`);
  }
  return missing;
}

/** A provider controller started with a literal `${VAR:=default}` flag (the release was not substituted). */
function hasUnsubstitutedVariables(d: Deployment): boolean {
  if (d.metadata.labels?.['cluster.x-k8s.io/provider'] === undefined) return false;
  return (d.spec?.template?.spec?.containers ?? []).some((c) => (c.args ?? []).some((a) => a.includes('${')));
}

function needsCertManager(d: Deployment): boolean {
  return d.metadata.labels?.['clusterctl.cluster.x-k8s.io'] !== undefined && d.metadata.namespace !== CERT_MANAGER_NAMESPACE;
}

export function deploymentAvailable(d: Deployment | undefined): boolean {
  const conditions = (d?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions;
  return conditions?.find((c) => c.type === 'Available')?.status === 'True';
}

function stripTimes(status: unknown): unknown {
  if (typeof status !== 'object' || status === null) return status;
  const s = status as { conditions?: Record<string, unknown>[] };
  return { ...s, conditions: s.conditions?.map(({ lastTransitionTime: _t, lastUpdateTime: _u, ...rest }) => rest) };
}

export function daemonSetReconciler(sim: SimContext): Reconciler {
  return {
    name: 'daemonset',
    gate: 'kubelet',
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const ds = await rt.client.get<DaemonSet>('apps/v1', 'DaemonSet', key.name, key.namespace);
      if (ds === undefined) return undefined;
      const nodes = await rt.client.list<NodeObject>('v1', 'Node');
      const eligible = nodes.filter((n) => schedulableOn(ds.spec?.template, n, false)).length;
      const age = Date.now() - (Date.parse(ds.metadata.creationTimestamp ?? '') || Date.now());
      const started = age >= sim.timing.podStartMs;
      const ready = started ? eligible : 0;
      const status = {
        observedGeneration: ds.metadata.generation,
        currentNumberScheduled: eligible,
        desiredNumberScheduled: eligible,
        numberMisscheduled: 0,
        numberReady: ready,
        numberAvailable: ready,
        updatedNumberScheduled: eligible,
        ...(eligible - ready > 0 ? { numberUnavailable: eligible - ready } : {}),
      };
      if (!canonicalEqual(ds.status, status)) {
        const next = copy(ds);
        next.status = status;
        await rt.client.updateStatus(next);
      }
      return started ? undefined : { requeueAfterMs: sim.timing.podStartMs - age };
    },
  };
}

const GATE_OF: Record<string, ProviderGate> = {
  CoreProvider: 'cluster-api',
  BootstrapProvider: 'bootstrap-kubeadm',
  ControlPlaneProvider: 'control-plane-kubeadm',
  InfrastructureProvider: 'infrastructure-sim',
  AddonProvider: 'addon-helm',
};

/** cert-manager's Deployments and the gate each one's Availability opens (see certmanager.ts). */
const CERT_MANAGER_GATES: readonly [string, ProviderGate][] = [
  ['cert-manager', 'cert-manager'],
  ['cert-manager-cainjector', 'cert-manager-cainjector'],
  [CERT_MANAGER_WEBHOOK, 'cert-manager-webhook'],
];

/** Recomputes which providers are installed and Available in this virtual cluster (single key). */
export function providerGateReconciler(): Reconciler {
  return {
    name: 'providers',
    gate: 'kubelet',
    apiVersion: 'sim.slipway.dev/v1',
    kind: 'ProviderGate',
    listable: false,
    async reconcile(rt: ClusterRuntime): Promise<ReconcileResult | undefined> {
      const open: ProviderGate[] = [];
      for (const [name, gate] of CERT_MANAGER_GATES) {
        if (deploymentAvailable(await rt.client.get<Deployment>('apps/v1', 'Deployment', name, CERT_MANAGER_NAMESPACE))) open.push(gate);
      }
      for (const p of PROVIDERS) {
        const inventory = await rt.client.get(API_CLUSTERCTL, 'Provider', p.name, p.namespace);
        if (inventory === undefined) continue;
        const d = await rt.client.get<Deployment>('apps/v1', 'Deployment', p.deployment, p.namespace);
        if (!deploymentAvailable(d)) continue;
        const gate = GATE_OF[p.type];
        if (gate === undefined) continue;
        open.push(gate);
        if (p.type === 'CoreProvider') {
          const args = (d?.spec?.template?.spec?.containers ?? []).flatMap((c) => c.args ?? []);
          const env = (d?.spec?.template?.spec?.containers ?? []).flatMap((c) => c.env ?? []);
          if (args.some((a) => /ClusterTopology=true/.test(a)) || env.some((e) => e.name === 'CLUSTER_TOPOLOGY' && e.value === 'true')) open.push('topology');
        }
      }
      rt.setGates(open);
      return undefined;
    },
  };
}
