/**
 * provision-cluster, step 1: mark Provisioning and re-check every policy at execution time. A resumed execution
 * runs it again over a cluster already further along: its phase stays, and the policies are not checked again —
 * they gated the start of building, and failing a half-built cluster now would only leave it half-built.
 */
import { isBehind } from '../../shared/steps/progress.ts';
import { loadCluster, recordPhase, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { recheckPolicies } from '../../shared/steps/policy-recheck.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'begin-provisioning';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    if (isBehind(cluster, STEP)) return null;
    const marked = await recordPhase(d, cluster, { phase: 'Provisioning', step: STEP, message: 'checking policies' });
    await recheckPolicies(d, marked);
    return null;
  });

export const handler = makeHandler(awsStepDeps);
