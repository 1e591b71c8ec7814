/** delete-cluster, last step: forget the kept access, mark Deleted and release the quota (one transaction). */
import { removeAccess } from '../../shared/capi/access.ts';
import { clusterPhaseEvents } from '../../shared/events/schemas.ts';
import { loadCluster, type StepDeps, stepHandler, SYSTEM_ACTOR } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'mark-deleted';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    await removeAccess(await d.management(), cluster);
    const deleted = await d.stores.clusters.markDeleted(cluster.workspaceId, cluster.name, cluster.generation, SYSTEM_ACTOR);
    await d.events.publish(clusterPhaseEvents(deleted, cluster.phase, d.clock()));
    return null;
  });

export const handler = makeHandler(awsStepDeps);
