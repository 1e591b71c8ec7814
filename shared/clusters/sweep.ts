/**
 * Clusters past their TTL are deleted through the normal delete path (operation recorded, delete-cluster
 * workflow started under its deterministic name), attributed to the system. Runs on a schedule: in AWS an
 * EventBridge schedule invokes functions/events/expire-clusters.ts; locally the runtime calls it on a timer.
 * A cluster with an operation in flight is left for a later run.
 */
import { ConcurrentModificationError, OperationInFlightError } from '../errors.ts';
import { listAll } from '../store/paging.ts';
import type { Stores } from '../store/ports.ts';
import { clusterWorkflowRequest } from '../workflow/cluster.ts';
import type { WorkflowStarter } from '../workflow/starter.ts';

export const TTL_ACTOR = { principal: 'system:ttl' };

export interface ExpiryResult {
  /** `<ws>/<name>` of every cluster whose deletion started. */
  deleting: string[];
  /** Expired but busy (an operation in flight): retried on the next run. */
  deferred: string[];
}

export async function expireClusters(deps: { stores: Stores; workflows: WorkflowStarter; clock: () => Date }): Promise<ExpiryResult> {
  const now = deps.clock().toISOString();
  const expired = await listAll((page) => deps.stores.clusters.listExpired(now, page));
  const result: ExpiryResult = { deleting: [], deferred: [] };
  for (const ref of expired) {
    const what = `${ref.workspaceId}/${ref.name}`;
    const cluster = await deps.stores.clusters.get(ref.workspaceId, ref.name);
    if (!cluster || cluster.phase === 'Deleted') continue;
    if (cluster.operation === 'delete') {
      // Already deleting (a start may have been lost): starting it again under the same name is a no-op.
      await deps.workflows.start(clusterWorkflowRequest(cluster, 'delete'));
      continue;
    }
    if (cluster.operation !== null) {
      result.deferred.push(what);
      continue;
    }
    try {
      const begun = await deps.stores.clusters.beginOperation(
        cluster.workspaceId,
        cluster.name,
        'delete',
        { phase: 'Deleting', step: null, message: `TTL expired at ${cluster.expiresAt}` },
        { expectedGeneration: cluster.generation, actor: TTL_ACTOR },
      );
      await deps.workflows.start(clusterWorkflowRequest(begun, 'delete'));
      result.deleting.push(what);
    } catch (error) {
      // Someone changed the cluster between our read and write: look again next run.
      if (error instanceof OperationInFlightError || error instanceof ConcurrentModificationError) result.deferred.push(what);
      else throw error;
    }
  }
  return result;
}
