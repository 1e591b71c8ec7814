/**
 * CAPI core's Cluster controller: topology (when the ClusterTopology gate is on), the v1beta2 status summary
 * (initialization, conditions, control plane and worker counters, phase) and deletion through the
 * `cluster.cluster.x-k8s.io` finalizer: workers, then control plane, then infrastructure, then the workload
 * cluster's API endpoint goes away.
 */
import { API_CORE, API_CP } from '../classes.ts';
import type { SimContext } from './context.ts';
import { workloadClusterName } from './naming.ts';
import type { Key, Reconciler, ReconcileResult, ClusterRuntime } from './runtime.ts';
import type { Client } from './client.ts';
import { reconcileTopology, type TopologyOutcome } from './topology.ts';
import type { Cluster, Condition, KObject, KubeadmControlPlane, Machine, MachineDeployment, MachineSet, SimCluster } from './types.ts';
import {
  A_DELETE_FOR_MOVE,
  cond,
  conditionsFrom,
  copy,
  ensureFinalizer,
  FIN_CLUSTER,
  getCondition,
  hasAnnotation,
  isDeleting,
  isPaused,
  isTrue,
  L_CLUSTER_NAME,
  mirror,
  ownerRef,
  removeFinalizer,
  writeStatus,
} from './util.ts';

/** Reasons of TopologyReconciled that mean "in progress", not "broken": they do not make the Cluster unavailable. */
const TOPOLOGY_INFO_REASONS = new Set(['ClusterUpgrading', 'MachineDeploymentsUpgradeDeferred', 'ReconcileSucceeded', 'NoTopology']);

/**
 * What the topology's output depends on. Unchanged since the last successful pass → the applies are skipped:
 * the Cluster reconciles on every child status change, and re-applying five objects each time would dominate
 * the simulator's CPU at 200 clusters.
 */
async function topologyFingerprint(client: Client, cluster: Cluster): Promise<string> {
  const ns = cluster.metadata.namespace ?? 'default';
  const t = cluster.spec?.topology;
  const cc = await client.get<KObject>(API_CORE, 'ClusterClass', t?.classRef?.name ?? '', t?.classRef?.namespace ?? ns);
  const cpRef = cluster.spec?.controlPlaneRef;
  const kcp = cpRef === undefined ? undefined : await client.get<KubeadmControlPlane>(API_CP, cpRef.kind, cpRef.name, ns);
  const mds = await client.list<MachineDeployment>(API_CORE, 'MachineDeployment', { namespace: ns, labels: { [L_CLUSTER_NAME]: cluster.metadata.name } });
  return JSON.stringify([
    cluster.metadata.generation,
    cluster.spec?.infrastructureRef,
    cpRef,
    cc?.metadata.uid,
    cc?.metadata.generation,
    (cc?.status as { observedGeneration?: number } | undefined)?.observedGeneration,
    kcp === undefined ? null : [kcp.metadata.uid, kcp.metadata.generation, kcp.spec?.version, kcp.status?.version, kcp.status?.replicas, kcp.status?.upToDateReplicas],
    mds.map((md) => [md.metadata.name, md.metadata.generation, md.metadata.deletionTimestamp, md.spec?.replicas, md.status?.upToDateReplicas]),
  ]);
}

export function clusterReconciler(sim: SimContext): Reconciler {
  const topologyMemo = new Map<string, { fingerprint: string; outcome: TopologyOutcome }>();
  return {
    name: 'cluster',
    gate: 'cluster-api',
    apiVersion: API_CORE,
    kind: 'Cluster',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const client = rt.client;
      let cluster = await client.get<Cluster>(API_CORE, 'Cluster', key.name, key.namespace);
      if (cluster === undefined) return undefined;
      const ns = key.namespace;
      if (isPaused(cluster, cluster)) {
        const why = cluster.spec?.paused === true ? 'Cluster spec.paused is set to true' : 'Cluster has the cluster.x-k8s.io/paused annotation';
        const items = [cond('Paused', true, 'Paused', why)];
        if (cluster.spec?.topology !== undefined) items.push(cond('TopologyReconciled', false, 'ReconcilePaused', why));
        await writeStatus(client, cluster, {
          ...(cluster.status ?? {}),
          conditions: conditionsFrom(cluster.status?.conditions, items, cluster.metadata.generation),
        });
        return undefined;
      }
      if (isDeleting(cluster)) {
        topologyMemo.delete(`${rt.name}/${cluster.metadata.uid}`);
        return reconcileDelete(sim, rt, cluster);
      }
      cluster = await ensureFinalizer(client, cluster, FIN_CLUSTER);

      let topologyCondition: Omit<Condition, 'lastTransitionTime'> | undefined;
      if (cluster.spec?.topology !== undefined) {
        if (rt.gateOpen('topology')) {
          const memoKey = `${rt.name}/${cluster.metadata.uid}`;
          const fingerprint = await topologyFingerprint(client, cluster);
          const memo = topologyMemo.get(memoKey);
          let outcome: TopologyOutcome;
          if (memo?.fingerprint === fingerprint) outcome = memo.outcome;
          else {
            outcome = await reconcileTopology(sim, client, cluster);
            topologyMemo.set(memoKey, { fingerprint, outcome: { condition: outcome.condition } });
          }
          topologyCondition = outcome.condition;
          if (outcome.specPatch !== undefined && Object.keys(outcome.specPatch).length > 0) {
            cluster = await client.mergePatch<Cluster>(API_CORE, 'Cluster', cluster.metadata.name, ns, { spec: outcome.specPatch });
          }
        } else {
          topologyCondition = cond('TopologyReconciled', false, 'ClusterTopologyFeatureGateDisabled', 'The ClusterTopology feature gate is not enabled on the core provider');
        }
      }

      const infraRef = cluster.spec?.infrastructureRef;
      const infra = infraRef === undefined ? undefined : await client.get<SimCluster>(`${infraRef.apiGroup}/v1beta2`, infraRef.kind, infraRef.name, ns);
      const cpRef = cluster.spec?.controlPlaneRef;
      const kcp = cpRef === undefined ? undefined : await client.get<KubeadmControlPlane>(API_CP, cpRef.kind, cpRef.name, ns);
      const mds = await client.list<MachineDeployment>(API_CORE, 'MachineDeployment', { namespace: ns, labels: { [L_CLUSTER_NAME]: cluster.metadata.name } });
      // Without topology the user wrote the refs; CAPI's Cluster controller then makes the Cluster their owner.
      for (const child of [infra, kcp]) {
        if (child === undefined || (child.metadata.ownerReferences ?? []).some((r) => r.uid === cluster?.metadata.uid)) continue;
        const next = copy(child);
        next.metadata.ownerReferences = [...(child.metadata.ownerReferences ?? []), ownerRef(cluster, true)];
        next.metadata.labels = { ...(child.metadata.labels ?? {}), [L_CLUSTER_NAME]: cluster.metadata.name };
        await client.update(next);
        return { requeueAfterMs: 0 };
      }

      // The infrastructure provider's endpoint becomes the Cluster's (CAPI copies it into spec).
      const endpoint = infra?.spec?.controlPlaneEndpoint;
      if (endpoint?.host !== undefined && cluster.spec?.controlPlaneEndpoint?.host === undefined) {
        cluster = await client.mergePatch<Cluster>(API_CORE, 'Cluster', cluster.metadata.name, ns, { spec: { controlPlaneEndpoint: endpoint } });
      }
      const infraProvisioned = infra?.status?.initialization?.provisioned === true;
      const cpInitialized = kcp?.status?.initialization?.controlPlaneInitialized === true || cluster.status?.initialization?.controlPlaneInitialized === true;
      const vcName = workloadClusterName(ns, cluster.metadata.name);
      const reachable = cpInitialized && sim.workloadCluster(vcName) !== undefined && sim.reachable(vcName);

      const kcpConds = kcp?.status?.conditions;
      const mdAvailable = mds.every((md) => isTrue(md.status?.conditions, 'Available'));
      const rollingOut = isTrue(kcpConds, 'RollingOut') || mds.some((md) => isTrue(md.status?.conditions, 'RollingOut'));
      const scalingUp = isTrue(kcpConds, 'ScalingUp') || mds.some((md) => isTrue(md.status?.conditions, 'ScalingUp'));
      const scalingDown = isTrue(kcpConds, 'ScalingDown') || mds.some((md) => isTrue(md.status?.conditions, 'ScalingDown'));
      const topologyOk = topologyCondition === undefined || topologyCondition.status === 'True' || TOPOLOGY_INFO_REASONS.has(topologyCondition.reason);

      const infraKind = infraRef?.kind ?? 'InfraCluster';
      const infraCondition =
        infra === undefined
          ? cond('InfrastructureReady', false, 'DoesNotExist', infraRef === undefined && cluster.spec?.topology !== undefined ? 'Waiting for cluster topology to be reconciled' : `${infraKind} does not exist`)
          : (mirror(getCondition(infra.status?.conditions, 'Ready'), 'InfrastructureReady') ??
            (infraProvisioned ? cond('InfrastructureReady', true, 'Ready', `${infraKind} is ready (fallback)`) : cond('InfrastructureReady', false, 'NotReady', `Waiting for ${infraKind} to report ready (fallback)`)));
      const cpKind = cpRef?.kind ?? 'ControlPlane';
      const cpCondition =
        kcp === undefined
          ? cond('ControlPlaneAvailable', false, 'DoesNotExist', cpRef === undefined && cluster.spec?.topology !== undefined ? 'Waiting for cluster topology to be reconciled' : `${cpKind} does not exist`)
          : (mirror(getCondition(kcpConds, 'Available'), 'ControlPlaneAvailable') ??
            (cpInitialized ? cond('ControlPlaneAvailable', true, 'Available', `${cpKind} is available (fallback)`) : cond('ControlPlaneAvailable', false, 'NotAvailable', `Waiting for ${cpKind} to report available (fallback)`)));
      const items: Omit<Condition, 'lastTransitionTime'>[] = [
        infraCondition,
        cond('ControlPlaneInitialized', cpInitialized, cpInitialized ? 'Initialized' : 'NotInitialized', cpInitialized ? undefined : 'Control plane not yet initialized'),
        cpCondition,
        mdAvailable ? cond('WorkersAvailable', true, mds.length === 0 ? 'NoWorkers' : 'Available') : cond('WorkersAvailable', false, 'NotAvailable', mds.filter((md) => !isTrue(md.status?.conditions, 'Available')).map((md) => `* MachineDeployment ${md.metadata.name}: not available`).join('\n')),
        reachable ? cond('RemoteConnectionProbe', true, 'ProbeSucceeded') : cond('RemoteConnectionProbe', false, cpInitialized ? 'ProbeFailed' : 'ProbeNotStarted', cpInitialized ? 'Remote connection probe failed' : 'Control plane not yet initialized'),
        cond('RollingOut', rollingOut, rollingOut ? 'RollingOut' : 'NotRollingOut'),
        cond('ScalingUp', scalingUp, scalingUp ? 'ScalingUp' : 'NotScalingUp'),
        cond('ScalingDown', scalingDown, scalingDown ? 'ScalingDown' : 'NotScalingDown'),
        cond('Paused', false, 'NotPaused'),
        cond('Deleting', false, 'NotDeleting'),
      ];
      if (topologyCondition !== undefined) items.push(topologyCondition);
      const available = infraCondition.status === 'True' && cpCondition.status === 'True' && mdAvailable && reachable && topologyOk;
      const notAvailable = items
        .filter((c) => ['InfrastructureReady', 'ControlPlaneAvailable', 'WorkersAvailable', 'RemoteConnectionProbe'].includes(c.type) && c.status !== 'True')
        .map((c) => `* ${c.type}: ${c.message ?? c.reason}`);
      if (!topologyOk && topologyCondition !== undefined) notAvailable.push(`* TopologyReconciled: ${topologyCondition.message ?? topologyCondition.reason}`);
      items.push(available ? cond('Available', true, 'Available') : cond('Available', false, 'NotAvailable', notAvailable.join('\n')));

      const workers = { desiredReplicas: 0, replicas: 0, readyReplicas: 0, availableReplicas: 0, upToDateReplicas: 0 };
      for (const md of mds) {
        workers.desiredReplicas += md.spec?.replicas ?? 1;
        workers.replicas += md.status?.replicas ?? 0;
        workers.readyReplicas += md.status?.readyReplicas ?? 0;
        workers.availableReplicas += md.status?.availableReplicas ?? 0;
        workers.upToDateReplicas += md.status?.upToDateReplicas ?? 0;
      }
      const phase = infraRef === undefined ? 'Pending' : infraProvisioned && cluster.spec?.controlPlaneEndpoint?.host !== undefined ? 'Provisioned' : 'Provisioning';
      await writeStatus(client, cluster, {
        phase,
        observedGeneration: cluster.metadata.generation,
        initialization: { infrastructureProvisioned: infraProvisioned, controlPlaneInitialized: cpInitialized },
        controlPlane: {
          desiredReplicas: kcp?.spec?.replicas ?? 0,
          replicas: kcp?.status?.replicas ?? 0,
          readyReplicas: kcp?.status?.readyReplicas ?? 0,
          availableReplicas: kcp?.status?.availableReplicas ?? 0,
          upToDateReplicas: kcp?.status?.upToDateReplicas ?? 0,
        },
        workers,
        conditions: conditionsFrom(cluster.status?.conditions, items, cluster.metadata.generation),
      });
      return undefined;
    },
  };
}

async function reconcileDelete(sim: SimContext, rt: ClusterRuntime, cluster: Cluster): Promise<ReconcileResult | undefined> {
  const client = rt.client;
  const ns = cluster.metadata.namespace ?? 'default';
  const name = cluster.metadata.name;
  // clusterctl move deletes the source copy itself (and removes finalizers); the workload keeps running.
  if (hasAnnotation(cluster, A_DELETE_FOR_MOVE)) return undefined;
  const byCluster = { namespace: ns, labels: { [L_CLUSTER_NAME]: name } };
  const mds = await client.list<MachineDeployment>(API_CORE, 'MachineDeployment', byCluster);
  const sets = await client.list<MachineSet>(API_CORE, 'MachineSet', byCluster);
  const machines = await client.list<Machine>(API_CORE, 'Machine', byCluster);
  const workerMachines = machines.filter((m) => m.metadata.labels?.['cluster.x-k8s.io/control-plane'] === undefined);
  let reason = 'WaitingForWorkersDeletion';
  let message = `* MachineDeployments: ${mds.length}\n* MachineSets: ${sets.length}\n* Worker Machines: ${workerMachines.length}`;
  for (const md of mds) await client.delete(API_CORE, 'MachineDeployment', md.metadata.name, ns);
  for (const ms of sets) if (!hasOwner(ms)) await client.delete(API_CORE, 'MachineSet', ms.metadata.name, ns);
  for (const m of workerMachines) if (!hasOwner(m)) await client.delete(API_CORE, 'Machine', m.metadata.name, ns);
  const workersGone = mds.length === 0 && sets.length === 0 && workerMachines.length === 0;
  const cpRef = cluster.spec?.controlPlaneRef;
  const kcp = cpRef === undefined ? undefined : await client.get<KObject>(API_CP, cpRef.kind, cpRef.name, ns);
  const infraRef = cluster.spec?.infrastructureRef;
  const infra = infraRef === undefined ? undefined : await client.get<KObject>(`${infraRef.apiGroup}/v1beta2`, infraRef.kind, infraRef.name, ns);
  if (workersGone) {
    if (kcp !== undefined) {
      reason = 'WaitingForControlPlaneDeletion';
      message = `* KubeadmControlPlane ${kcp.metadata.name} is deleting`;
      await client.delete(API_CP, kcp.kind, kcp.metadata.name, ns);
    } else if (machines.length > 0) {
      reason = 'WaitingForControlPlaneDeletion';
      message = `* Control plane Machines: ${machines.length}`;
    } else if (infra !== undefined) {
      reason = 'WaitingForInfrastructureDeletion';
      message = `* ${infra.kind} ${infra.metadata.name} is deleting`;
      await client.delete(infra.apiVersion, infra.kind, infra.metadata.name, ns);
    } else {
      await sim.removeWorkloadCluster(workloadClusterName(ns, name));
      await removeFinalizer(client, cluster, FIN_CLUSTER);
      return undefined;
    }
  }
  await writeStatus(client, cluster, {
    ...(cluster.status ?? {}),
    phase: 'Deleting',
    conditions: conditionsFrom(cluster.status?.conditions, [cond('Deleting', true, reason, message), cond('Available', false, 'NotAvailable', '* Deleting: Cluster is being deleted')], cluster.metadata.generation),
  });
  return { requeueAfterMs: sim.timing.requeueMs };
}

function hasOwner(obj: KObject): boolean {
  return (obj.metadata.ownerReferences?.length ?? 0) > 0;
}

