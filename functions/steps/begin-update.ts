/**
 * update-cluster, step 1: announce the update (the API recorded phase Updating, on a Ready cluster) and
 * re-check policies against the new spec — once: a resumed execution that finds the update further along
 * neither announces it again nor re-checks what is already being rolled out.
 */
import { isBehind } from '../../shared/steps/progress.ts';
import { loadCluster, recordPhase, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { recheckPolicies } from '../../shared/steps/policy-recheck.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'begin-update';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    if (isBehind(cluster, STEP)) return null;
    const marked = await recordPhase(d, cluster, { phase: 'Updating', step: STEP, message: 'checking policies' }, { announce: { from: 'Ready' } });
    await recheckPolicies(d, marked);
    return null;
  });

export const handler = makeHandler(awsStepDeps);
