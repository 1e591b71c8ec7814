/**
 * delete-cluster, step 1: announce the deletion (the API already recorded phase Deleting, from Ready or Failed).
 * Once: a resumed execution that finds the deletion further along announces nothing (recordPhase sees to it).
 */
import { loadCluster, recordPhase, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'begin-delete';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    await recordPhase(d, cluster, { phase: 'Deleting', step: STEP, message: 'deleting the cluster' }, { announce: {} });
    return null;
  });

export const handler = makeHandler(awsStepDeps);
