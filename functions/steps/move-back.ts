/** delete-cluster: a self-managed cluster's CAPI objects go back to the management cluster before deletion. */
import { moveBack } from '../../shared/capi/mover.ts';
import { workspaceNamespace } from '../../shared/capi/render.ts';
import { pivoted } from '../../shared/steps/capi.ts';
import { loadCluster, recordPhase, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'move-back';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    // An interrupted pivot may have moved the objects without recording it: look, or they would be left running.
    if (!(await pivoted(d, cluster))) return null;
    const management = await d.management();
    await management.ensureNamespace(workspaceNamespace(cluster.workspaceId));
    await moveBack(await d.workload(cluster), management, { namespace: workspaceNamespace(cluster.workspaceId), clusterName: cluster.name, log: d.log });
    await recordPhase(d, cluster, { phase: 'Deleting', step: STEP, message: 'CAPI objects back in the management cluster', capiLocation: 'management' }, { publish: false });
    return null;
  });

export const handler = makeHandler(awsStepDeps);
