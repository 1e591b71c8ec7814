/**
 * Which workflow carries out a cluster operation, and the exact start request for it. The API (first start)
 * and the local runtime's resumer (start again after a restart) must produce the same request, or the
 * exactly-once name check would see a "different input" and refuse the resume.
 */
import type { ClusterWorkflowInput } from '../clusters/workflow-input.ts';
import type { Cluster } from '../domain/schemas.ts';
import { WorkflowId } from './names.ts';
import { clusterExecutionName, type StartWorkflowRequest } from './starter.ts';

export const WORKFLOW_OF_OPERATION = {
  provision: WorkflowId.provisionCluster,
  update: WorkflowId.updateCluster,
  delete: WorkflowId.deleteCluster,
} as const satisfies Record<NonNullable<Cluster['operation']>, WorkflowId>;

type ClusterRef = Pick<Cluster, 'workspaceId' | 'name' | 'uid' | 'generation'>;

/** The start request of `operation` on the cluster at its current generation. */
export function clusterWorkflowRequest(cluster: ClusterRef, operation: NonNullable<Cluster['operation']>): StartWorkflowRequest {
  const input: ClusterWorkflowInput = { workspaceId: cluster.workspaceId, name: cluster.name, uid: cluster.uid, generation: cluster.generation };
  return { workflow: WORKFLOW_OF_OPERATION[operation], name: clusterExecutionName(cluster), input: { ...input } };
}
