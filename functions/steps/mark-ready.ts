/** Last step of provision and update: Ready, the operation done, observedGeneration caught up. */
import { loadCluster, recordPhase, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'mark-ready';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    if (cluster.phase === 'Ready' && cluster.operation === null) return null;
    await recordPhase(d, cluster, { phase: 'Ready', step: null, message: null, operation: null, observedGeneration: cluster.generation });
    return null;
  });

export const handler = makeHandler(awsStepDeps);
