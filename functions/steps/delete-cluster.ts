/** delete-cluster: delete the CAPI Cluster in the management cluster; CAPI tears down everything it owns. */
import { clusterRef } from '../../shared/steps/capi.ts';
import { loadCluster, recordPhase, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'delete-cluster';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    const outcome = await (await d.management()).delete(clusterRef(cluster));
    await recordPhase(d, cluster, { phase: 'Deleting', step: STEP, message: outcome === 'absent' ? 'no CAPI objects to delete' : 'machines are being deleted' }, { publish: false });
    return null;
  });

export const handler = makeHandler(awsStepDeps);
