/** delete-cluster: a self-managed cluster's CAPI objects go back to the management cluster before deletion. */
import { KubeconfigNotFoundError } from '../../shared/capi/errors.ts';
import { moveBack, settleInterruptedMove } from '../../shared/capi/mover.ts';
import { workspaceNamespace } from '../../shared/capi/render.ts';
import { pivoted } from '../../shared/steps/capi.ts';
import { loadCluster, recordPhase, recordProgress, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'move-back';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    const management = await d.management();
    const opts = { namespace: workspaceNamespace(cluster.workspaceId), clusterName: cluster.name, log: d.log };
    // An interrupted pivot may have moved the objects without recording it: look, or they would be left running.
    if (!(await pivoted(d, cluster))) {
      // A pivot that failed after its pause left the Cluster paused here (paused, it would never be deleted):
      // lift the pause, or, if the move had begun copying, finish it and bring everything back below.
      if (cluster.capiLocation !== 'management') return null;
      const workload = () => d.workload(cluster).catch((error: unknown) => {
        // No kubeconfig was ever written: the cluster never got as far as a copy.
        if (error instanceof KubeconfigNotFoundError) return null;
        throw error;
      });
      if ((await settleInterruptedMove(management, workload, opts)) === 'source') return null;
    }
    // Said before moving, as the pivot does: a resumed execution then sees how far the deletion got (and its
    // first step does not announce it again).
    await recordProgress(d, cluster, STEP, 'moving the CAPI objects back to the management cluster');
    await management.ensureNamespace(workspaceNamespace(cluster.workspaceId));
    await moveBack(await d.workload(cluster), management, opts);
    await recordPhase(d, cluster, { phase: 'Deleting', step: STEP, message: 'CAPI objects back in the management cluster', capiLocation: 'management' }, { publish: false });
    return null;
  });

export const handler = makeHandler(awsStepDeps);
