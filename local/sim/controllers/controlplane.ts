/**
 * KubeadmControlPlane: control-plane Machines one at a time (each with its KubeadmConfig and SimMachine),
 * cluster certificates and the kubeconfig Secret, the workload cluster's API endpoint, replica counters, and
 * rolling upgrades (surge one up-to-date machine, then remove the oldest outdated one). Even replica counts are
 * refused for stacked etcd, as KCP's admission webhook does, and reported through a condition instead.
 */
import { kubeconfigText } from '../apiserver/kubeconfig.ts';
import { API_BOOTSTRAP, API_CORE, API_CP, API_INFRA, GROUP_BOOTSTRAP, GROUP_INFRA } from '../classes.ts';
import type { SimContext } from './context.ts';
import { clusterKey, compareVersions, generateName, workloadClusterName } from './naming.ts';
import type { ClusterRuntime, Key, Reconciler, ReconcileResult } from './runtime.ts';
import type { Cluster, Condition, KObject, KubeadmControlPlane, Machine, Template } from './types.ts';
import {
  A_TEMPLATE_CLONED_FROM,
  A_TEMPLATE_CLONED_FROM_KIND,
  clusterNameOf,
  cond,
  conditionsFrom,
  copy,
  ensureFinalizer,
  FIN_KCP,
  isDeleting,
  isPaused,
  isTrue,
  L_CLUSTER_NAME,
  L_CONTROL_PLANE,
  L_CONTROL_PLANE_NAME,
  ownerRef,
  ReferenceNotFoundError,
  removeFinalizer,
  writeStatus,
} from './util.ts';

/** Annotation on control-plane Machines: the infrastructure template they were created from (rollout trigger). */
export const A_INFRA_TEMPLATE = 'controlplane.cluster.x-k8s.io/infrastructure-template';
const CERT_SECRETS = ['ca', 'etcd', 'sa', 'proxy'] as const;

export function machineUpToDate(kcp: KubeadmControlPlane, m: Machine): boolean {
  return (
    m.spec?.version === kcp.spec?.version &&
    m.metadata.annotations?.[A_INFRA_TEMPLATE] === kcp.spec?.machineTemplate?.spec?.infrastructureRef?.name
  );
}

function failed(m: Machine): boolean {
  return m.status?.phase === 'Failed';
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

export function controlPlaneReconciler(sim: SimContext): Reconciler {
  return {
    name: 'kcp',
    gate: 'control-plane-kubeadm',
    apiVersion: API_CP,
    kind: 'KubeadmControlPlane',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const client = rt.client;
      let kcp = await client.get<KubeadmControlPlane>(API_CP, 'KubeadmControlPlane', key.name, key.namespace);
      if (kcp === undefined) return undefined;
      const clusterName = clusterNameOf(kcp);
      const cluster = clusterName === undefined ? undefined : await client.get<Cluster>(API_CORE, 'Cluster', clusterName, key.namespace);
      if (cluster === undefined || clusterName === undefined) return undefined;
      if (isPaused(cluster, kcp)) {
        await writeStatus(client, kcp, { ...(kcp.status ?? {}), conditions: conditionsFrom(kcp.status?.conditions, [cond('Paused', true, 'Paused')]) });
        return undefined;
      }
      const ns = key.namespace;
      const machines = await client.list<Machine>(API_CORE, 'Machine', {
        namespace: ns,
        labels: { [L_CLUSTER_NAME]: clusterName, [L_CONTROL_PLANE_NAME]: kcp.metadata.name },
      });
      if (isDeleting(kcp)) {
        for (const m of machines) await client.delete(API_CORE, 'Machine', m.metadata.name, ns);
        if (machines.length === 0) {
          await removeFinalizer(client, kcp, FIN_KCP);
          return undefined;
        }
        await writeStatus(client, kcp, { ...(kcp.status ?? {}), conditions: conditionsFrom(kcp.status?.conditions, [cond('Deleting', true, 'Deleting', `* Machines: ${machines.length} deleting`)]) });
        return undefined;
      }
      kcp = await ensureFinalizer(client, kcp, FIN_KCP);
      const desired = kcp.spec?.replicas ?? 1;
      const version = kcp.spec?.version ?? '';
      const conditions: Omit<Condition, 'lastTransitionTime'>[] = [cond('Paused', false, 'NotPaused'), cond('Deleting', false, 'NotDeleting')];
      const infraReady = cluster.status?.initialization?.infrastructureProvisioned === true;
      const evenReplicas = desired % 2 === 0;
      const initialized = kcp.status?.initialization?.controlPlaneInitialized === true || machines.some((m) => m.status?.nodeRef !== undefined);

      if (infraReady) {
        await ensureCertificates(rt, kcp, clusterName);
        if (machines.length > 0 || initialized) await ensureKubeconfig(sim, rt, kcp, cluster);
      }

      const live = machines.filter((m) => !isDeleting(m));
      const deletingCount = machines.length - live.length;
      const pendingMachines = live.filter((m) => m.status?.nodeRef === undefined && !failed(m));
      const outdated = live.filter((m) => !machineUpToDate(kcp as KubeadmControlPlane, m));
      let scalingUp = false;
      let scalingDown = false;
      let message: string | undefined;
      if (!infraReady) {
        message = 'Waiting for the Cluster infrastructure to be provisioned';
      } else if (evenReplicas) {
        message = `spec.replicas: Forbidden: cannot be an even number when etcd is stacked (got ${desired})`;
      } else if (deletingCount > 0 || pendingMachines.length > 0) {
        // One machine at a time: wait for the one being created or deleted.
        scalingUp = live.length < desired;
        message = deletingCount > 0 ? 'Waiting for a Machine to be deleted' : `Waiting for Machine ${pendingMachines[0]?.metadata.name} to be provisioned`;
      } else if (live.length < desired || (outdated.length > 0 && live.length === desired)) {
        scalingUp = live.length < desired;
        if (live.length === 0 || initialized) await createMachine(sim, rt, kcp, cluster, live.length === 0 && !initialized);
      } else if (live.length > desired) {
        scalingDown = outdated.length === 0;
        const victim = pickForDeletion(live, outdated);
        if (victim !== undefined) await client.delete(API_CORE, 'Machine', victim.metadata.name, ns);
      }

      const readyMachines = live.filter((m) => isTrue(m.status?.conditions, 'Ready'));
      const upToDate = live.filter((m) => machineUpToDate(kcp as KubeadmControlPlane, m));
      const withNode = live.filter((m) => m.status?.nodeRef !== undefined);
      const quorum = Math.floor(live.length / 2) + 1;
      const available = initialized && withNode.length >= quorum;
      const rollingOut = outdated.length > 0;
      const versions = live.map((m) => m.spec?.version ?? '').filter((v) => v !== '');
      const lowest = versions.sort(compareVersions)[0];
      conditions.push(
        cond('Initialized', initialized, initialized ? 'Initialized' : 'NotInitialized', initialized ? undefined : 'Control plane not yet initialized'),
        available
          ? cond('Available', true, 'Available')
          : cond('Available', false, 'NotAvailable', initialized ? `* ${withNode.length} of ${live.length} etcd members are healthy, at least ${quorum} healthy member required for etcd quorum` : 'Control plane not yet initialized'),
        cond('CertificatesAvailable', infraReady, infraReady ? 'Available' : 'NotAvailable', infraReady ? undefined : 'Waiting for the Cluster infrastructure to be provisioned'),
        cond('RollingOut', rollingOut, rollingOut ? 'RollingOut' : 'NotRollingOut', rollingOut ? `Rolling out ${outdated.length} not up-to-date replicas (version ${version})` : undefined),
        cond('ScalingUp', scalingUp, scalingUp ? 'ScalingUp' : 'NotScalingUp', scalingUp ? `Scaling up from ${live.length} to ${desired} replicas${message !== undefined ? ` is blocked because:\n* ${message}` : ''}` : undefined),
        cond('ScalingDown', scalingDown, scalingDown ? 'ScalingDown' : 'NotScalingDown'),
        cond('MachinesReady', readyMachines.length === live.length && live.length > 0, readyMachines.length === live.length && live.length > 0 ? 'Ready' : 'NotReady'),
        cond('MachinesUpToDate', outdated.length === 0, outdated.length === 0 ? 'UpToDate' : 'NotUpToDate'),
        evenReplicas ? cond('ReplicasValid', false, 'EvenReplicasNotAllowed', message) : cond('ReplicasValid', true, 'Valid'),
      );
      await writeStatus(client, kcp, {
        observedGeneration: kcp.metadata.generation,
        initialization: { controlPlaneInitialized: initialized },
        selector: `${L_CLUSTER_NAME}=${clusterName},${L_CONTROL_PLANE}`,
        replicas: live.length,
        readyReplicas: readyMachines.length,
        availableReplicas: readyMachines.length,
        upToDateReplicas: upToDate.length,
        ...(lowest !== undefined ? { version: lowest } : {}),
        conditions: conditionsFrom(kcp.status?.conditions, conditions, kcp.metadata.generation),
      });
      return undefined;
    },
  };
}

/** Outdated machines go first (oldest first), otherwise the oldest machine, as KCP's scale-down does. */
function pickForDeletion(live: Machine[], outdated: Machine[]): Machine | undefined {
  const byAge = (a: Machine, b: Machine) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name);
  return [...(outdated.length > 0 ? outdated : live)].sort(byAge)[0];
}

async function ensureCertificates(rt: ClusterRuntime, kcp: KubeadmControlPlane, clusterName: string): Promise<void> {
  const ns = kcp.metadata.namespace ?? 'default';
  for (const purpose of CERT_SECRETS) {
    const name = `${clusterName}-${purpose}`;
    if ((await rt.client.get('v1', 'Secret', name, ns)) !== undefined) continue;
    await rt.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: ns, labels: { [L_CLUSTER_NAME]: clusterName }, ownerReferences: [ownerRef(kcp, true)] },
      type: 'cluster.x-k8s.io/secret',
      data: {
        'tls.crt': b64(`-----BEGIN CERTIFICATE-----\nsimulated ${purpose} certificate of ${clusterName}\n-----END CERTIFICATE-----\n`),
        'tls.key': b64(`-----BEGIN RSA PRIVATE KEY-----\nsimulated ${purpose} key of ${clusterName}\n-----END RSA PRIVATE KEY-----\n`),
      },
    } as KObject);
  }
}

/** The workload cluster's API server and the `<cluster>-kubeconfig` Secret pointing at it (bearer token). */
async function ensureKubeconfig(sim: SimContext, rt: ClusterRuntime, kcp: KubeadmControlPlane, cluster: Cluster): Promise<void> {
  const ns = cluster.metadata.namespace ?? 'default';
  const name = cluster.metadata.name;
  const endpoint = await sim.ensureWorkloadCluster(workloadClusterName(ns, name), clusterKey(ns, name));
  const secretName = `${name}-kubeconfig`;
  if ((await rt.client.get('v1', 'Secret', secretName, ns)) !== undefined) return;
  await rt.client.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName, namespace: ns, labels: { [L_CLUSTER_NAME]: name }, ownerReferences: [ownerRef(kcp, true)] },
    type: 'cluster.x-k8s.io/secret',
    data: { value: b64(kubeconfigText({ name, server: endpoint.url, token: endpoint.token, ...(endpoint.caData !== undefined ? { caData: endpoint.caData } : {}) })) },
  } as KObject);
}

async function createMachine(sim: SimContext, rt: ClusterRuntime, kcp: KubeadmControlPlane, cluster: Cluster, first: boolean): Promise<void> {
  const client = rt.client;
  const ns = kcp.metadata.namespace ?? 'default';
  const clusterName = cluster.metadata.name;
  const infraRef = kcp.spec?.machineTemplate?.spec?.infrastructureRef;
  if (infraRef === undefined) throw new ReferenceNotFoundError(`KubeadmControlPlane ${ns}/${kcp.metadata.name} has no machineTemplate.spec.infrastructureRef`);
  const template = await client.get<Template>(`${infraRef.apiGroup}/v1beta2`, infraRef.kind, infraRef.name, ns);
  if (template === undefined) throw new ReferenceNotFoundError(`${infraRef.kind} ${ns}/${infraRef.name} not found`);
  const name = generateName(sim.rng, `${kcp.metadata.name}-`);
  const labels = {
    ...(kcp.spec?.machineTemplate?.metadata?.labels ?? {}),
    [L_CLUSTER_NAME]: clusterName,
    [L_CONTROL_PLANE]: '',
    [L_CONTROL_PLANE_NAME]: kcp.metadata.name,
  };
  const machine = await client.create<Machine>({
    apiVersion: API_CORE,
    kind: 'Machine',
    metadata: { name, namespace: ns, labels, annotations: { [A_INFRA_TEMPLATE]: infraRef.name }, ownerReferences: [ownerRef(kcp, true)] },
    spec: {
      clusterName,
      version: kcp.spec?.version,
      bootstrap: { configRef: { apiGroup: GROUP_BOOTSTRAP, kind: 'KubeadmConfig', name } },
      infrastructureRef: { apiGroup: GROUP_INFRA, kind: infraRef.kind.replace(/Template$/, ''), name },
    },
  } as KObject);
  const kubeadm = (kcp.spec?.kubeadmConfigSpec ?? {}) as Record<string, unknown>;
  const bootstrapSpec: Record<string, unknown> = first
    ? { clusterConfiguration: kubeadm.clusterConfiguration ?? {}, initConfiguration: kubeadm.initConfiguration ?? {} }
    : { joinConfiguration: { ...((kubeadm.joinConfiguration as Record<string, unknown>) ?? {}), controlPlane: {} } };
  await client.create({
    apiVersion: API_BOOTSTRAP,
    kind: 'KubeadmConfig',
    metadata: { name, namespace: ns, labels, ownerReferences: [ownerRef(machine, true)] },
    spec: bootstrapSpec,
  } as KObject);
  await client.create({
    apiVersion: API_INFRA,
    kind: infraRef.kind.replace(/Template$/, ''),
    metadata: {
      name,
      namespace: ns,
      labels,
      annotations: { [A_TEMPLATE_CLONED_FROM]: infraRef.name, [A_TEMPLATE_CLONED_FROM_KIND]: `${infraRef.kind}.${infraRef.apiGroup}` },
      ownerReferences: [ownerRef(machine, true)],
    },
    spec: copy(template.spec?.template?.spec ?? {}),
  } as KObject);
}
