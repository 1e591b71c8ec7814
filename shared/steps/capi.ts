/** CAPI references shared by the steps: where a Slipway cluster's CAPI objects are and how to reach them. */
import { workspaceNamespace } from '../capi/render.ts';
import type { KubeClient } from '../capi/client.ts';
import { KubeconfigNotFoundError } from '../capi/errors.ts';
import type { KubeObject, ObjectRef } from '../capi/types.ts';
import type { Cluster, ClusterPlanRevision, NetworkPlan } from '../domain/schemas.ts';
import type { InfrastructureProvider } from '../capi/providers/index.ts';
import type { TopologyInput } from '../capi/render.ts';
import type { StepDeps } from './runtime.ts';

export const CAPI_CORE = 'cluster.x-k8s.io/v1beta2';

export function clusterRef(cluster: Pick<Cluster, 'workspaceId' | 'name'>): ObjectRef {
  return { apiVersion: CAPI_CORE, kind: 'Cluster', namespace: workspaceNamespace(cluster.workspaceId), name: cluster.name };
}

/** The cluster that holds the CAPI objects now: the management cluster, or the workload cluster after the pivot. */
export async function capiHome(deps: StepDeps, cluster: Cluster): Promise<KubeClient> {
  if (cluster.capiLocation === 'self') return deps.workload(cluster);
  return deps.management();
}

/**
 * Whether the cluster's CAPI objects have moved into the cluster itself. The record says so once the pivot
 * step has recorded it; a pivot interrupted after its last deletion (a restarted runtime, a Lambda that timed
 * out) has moved them without recording it: the management cluster has no Cluster left and the workload
 * cluster has it. Steps before the pivot must then leave the management cluster alone — applying the initial
 * topology there again would build a second cluster.
 */
export async function pivoted(deps: StepDeps, cluster: Cluster): Promise<boolean> {
  if (cluster.capiLocation === 'self') return true;
  // Nothing was applied yet (apply-cluster records 'management' before any pivot can run).
  if (cluster.capiLocation === null) return false;
  if ((await (await deps.management()).get(clusterRef(cluster))) !== null) return false;
  try {
    return (await (await deps.workload(cluster)).get(clusterRef(cluster))) !== null;
  } catch (error) {
    // No kubeconfig ever written: the cluster never got far enough to be moved.
    if (error instanceof KubeconfigNotFoundError) return false;
    throw error;
  }
}

export async function workloadOf(deps: StepDeps, cluster: Cluster): Promise<KubeClient> {
  return deps.workload(cluster);
}

/** Machines of the cluster, as CAPI labels them. */
export async function machinesOf(client: KubeClient, cluster: Pick<Cluster, 'workspaceId' | 'name'>): Promise<KubeObject[]> {
  return client.list(CAPI_CORE, 'Machine', {
    namespace: workspaceNamespace(cluster.workspaceId),
    labelSelector: { 'cluster.x-k8s.io/cluster-name': cluster.name },
  });
}

export class MissingReferenceError extends Error {
  override readonly name = 'MissingReferenceError';
}

/** The plan revision and network plan the cluster was built from (both must still exist). */
export async function blueprintOf(deps: StepDeps, cluster: Cluster): Promise<{ plan: ClusterPlanRevision; network: NetworkPlan }> {
  const plan = await deps.stores.clusterPlans.getRevision(cluster.plan.id, cluster.plan.revision);
  if (!plan) throw new MissingReferenceError(`cluster plan ${cluster.plan.id} revision ${cluster.plan.revision} no longer exists`);
  const network = await deps.stores.networkPlans.get(plan.networkPlanId);
  if (!network) throw new MissingReferenceError(`network plan ${plan.networkPlanId} no longer exists`);
  return { plan, network };
}

/** The topology input for the cluster's current desired spec (version and class from the record). */
export function topologyOf(cluster: Cluster, network: NetworkPlan): TopologyInput {
  return { cluster, plan: { clusterClass: cluster.clusterClass, kubernetesVersion: cluster.kubernetesVersion }, network };
}

/** Which infrastructure provider the cluster's cloud access stands for. */
export async function infrastructureOf(deps: StepDeps, cluster: Cluster): Promise<InfrastructureProvider> {
  const access = await deps.stores.cloudAccesses.get(cluster.cloudAccessId);
  if (!access) throw new MissingReferenceError(`cloud access ${cluster.cloudAccessId} no longer exists`);
  return access.provider;
}

export function workerCount(cluster: Pick<Cluster, 'nodePools'>): number {
  return cluster.nodePools.reduce((n, p) => n + p.desired, 0);
}

/** Applies objects in order (server-side apply, Slipway owns them). */
export async function applyAll(client: KubeClient, objects: readonly KubeObject[]): Promise<void> {
  for (const obj of objects) await client.apply(obj, { force: true });
}
