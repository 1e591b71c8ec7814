/**
 * provision-cluster: the CNI of the network plan into the new cluster (nodes stay NotReady, and nothing else
 * schedules, until it runs). Reaching the cluster also stores the access Slipway keeps for it.
 */
import { renderCni } from '../../shared/capi/render.ts';
import { applyAll, blueprintOf } from '../../shared/steps/capi.ts';
import { loadCluster, recordProgress, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'install-cni';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    const { network } = await blueprintOf(d, cluster);
    await applyAll(await d.workload(cluster), renderCni(network, cluster));
    await recordProgress(d, cluster, STEP, `${network.cni.name} ${network.cni.version} installed`);
    return null;
  });

export const handler = makeHandler(awsStepDeps);
