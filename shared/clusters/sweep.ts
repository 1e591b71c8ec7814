/**
 * The scheduled sweep over clusters (in AWS an EventBridge schedule invokes functions/events/sweep-clusters.ts;
 * locally the runtime calls it on a timer):
 *  - every cluster with an operation in flight gets its workflow started again under its deterministic
 *    name — a no-op while the execution exists, the recovery when a start was lost (the API recorded the
 *    operation but StartExecution failed);
 *  - clusters past their TTL are deleted through the normal delete path, attributed to the system. A cluster
 *    with another operation in flight is left for a later run.
 */
import { ConcurrentModificationError, OperationInFlightError } from '../errors.ts';
import { listAll } from '../store/paging.ts';
import type { Stores } from '../store/ports.ts';
import { clusterWorkflowRequest } from '../workflow/cluster.ts';
import type { WorkflowStarter } from '../workflow/starter.ts';

export const TTL_ACTOR = { principal: 'system:ttl' };

export interface SweepResult {
  /** `<ws>/<name> (<operation>)` of every in-flight operation whose start was (re)issued. */
  restarted: string[];
  /** `<ws>/<name>` of every cluster whose deletion started. */
  deleting: string[];
  /** Expired but busy (an operation in flight): retried on the next run. */
  deferred: string[];
}

export async function sweepClusters(deps: { stores: Stores; workflows: WorkflowStarter; clock: () => Date }): Promise<SweepResult> {
  const result: SweepResult = { restarted: [], deleting: [], deferred: [] };
  for (const ref of await listAll((page) => deps.stores.clusters.listActive(page))) {
    const cluster = await deps.stores.clusters.get(ref.workspaceId, ref.name);
    if (!cluster?.operation) continue;
    await deps.workflows.start(clusterWorkflowRequest(cluster, cluster.operation));
    result.restarted.push(`${ref.workspaceId}/${ref.name} (${cluster.operation})`);
  }
  const now = deps.clock().toISOString();
  const expired = await listAll((page) => deps.stores.clusters.listExpired(now, page));
  for (const ref of expired) {
    const what = `${ref.workspaceId}/${ref.name}`;
    const cluster = await deps.stores.clusters.get(ref.workspaceId, ref.name);
    if (!cluster || cluster.phase === 'Deleted') continue;
    if (cluster.operation === 'delete') continue;
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
