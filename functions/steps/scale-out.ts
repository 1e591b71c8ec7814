/** provision-cluster: the requested size — control plane and node pools — patched where the topology now lives. */
import { renderScaledTopology } from '../../shared/capi/render.ts';
import { blueprintOf, capiHome, topologyOf, workerCount } from '../../shared/steps/capi.ts';
import { loadCluster, recordPhase, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'scale-out';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    let cluster = await loadCluster(d, input);
    cluster = await recordPhase(d, cluster, {
      phase: 'Scaling',
      step: STEP,
      message: `scaling to ${cluster.controlPlane.replicas} control-plane and ${workerCount(cluster)} worker machines`,
    });
    const { network } = await blueprintOf(d, cluster);
    await (await capiHome(d, cluster)).apply(renderScaledTopology(topologyOf(cluster, network)), { force: true });
    return null;
  });

export const handler = makeHandler(awsStepDeps);
