/**
 * provision-cluster: the pivot — `clusterctl move` of the cluster's CAPI objects from the management cluster
 * into the cluster itself, which from now on manages itself. The mover is resumable: a retried or restarted
 * step converges instead of duplicating anything.
 */
import { move } from '../../shared/capi/mover.ts';
import { workspaceNamespace } from '../../shared/capi/render.ts';
import { loadCluster, recordPhase, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'pivot';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    let cluster = await loadCluster(d, input);
    // Even when the record says the move is done, it runs: a move interrupted after its last deletion still
    // has to unpause the Cluster in its new home (a finished one answers "already moved" after two reads).
    cluster = await recordPhase(d, cluster, { phase: 'Pivoting', step: STEP, message: 'moving the CAPI objects into the cluster' });
    // The workload connection comes from the access copy kept in the management cluster: the move takes
    // CAPI's own kubeconfig Secret away with it.
    const workload = await d.workload(cluster);
    const report = await move(await d.management(), workload, { namespace: workspaceNamespace(cluster.workspaceId), clusterName: cluster.name, log: d.log });
    const moved = Object.values(report.moved).reduce((a, b) => a + b, 0);
    await recordPhase(d, cluster, {
      phase: 'Pivoting',
      step: STEP,
      message: report.alreadyMoved ? 'self-managed: the CAPI objects had already moved' : `self-managed: ${moved} CAPI objects moved${report.resumed ? ' (resumed)' : ''}`,
      capiLocation: 'self',
    }, { publish: false });
    return null;
  });

export const handler = makeHandler(awsStepDeps);
