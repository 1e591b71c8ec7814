/** CAPI references shared by the steps: where a Slipway cluster's CAPI objects are and how to reach them. */
import { connectAccess, workspaceNamespace } from '../capi/access.ts';
import type { KubeClient } from '../capi/client.ts';
import type { KubeObject, ObjectRef } from '../capi/types.ts';
import type { Cluster } from '../domain/schemas.ts';
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

export { connectAccess, workspaceNamespace };
