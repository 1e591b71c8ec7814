/**
 * Every workflow's Catch ends here: the cluster is marked Failed with the step that failed and its cause,
 * the operation is released (so the cluster can be deleted or the change retried), and `Cluster Failed`
 * is published. A superseded execution changes nothing.
 */
import { clusterPhaseEvents } from '../../shared/events/schemas.ts';
import { ClusterGoneError, loadCluster, StaleExecutionError, type StepDeps, stepHandler, SYSTEM_ACTOR } from '../../shared/steps/runtime.ts';
import { describeCaught } from '../../shared/workflow/caught.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'mark-failed';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    let cluster: Awaited<ReturnType<typeof loadCluster>>;
    try {
      cluster = await loadCluster(d, input);
    } catch (error) {
      if (error instanceof StaleExecutionError || error instanceof ClusterGoneError) return null;
      throw error;
    }
    const { name, cause } = describeCaught(input.error);
    const failed = await d.stores.clusters.recordStatus(
      cluster.workspaceId,
      cluster.name,
      cluster.generation,
      { phase: 'Failed', step: input.failedStep ?? cluster.step, message: `${name}: ${cause}`, operation: null },
      SYSTEM_ACTOR,
    );
    await d.events.publish(clusterPhaseEvents(failed, cluster.phase, d.clock(), { name, cause }));
    return null;
  });

export const handler = makeHandler(awsStepDeps);
