/**
 * provision-cluster wait: one provider reconcile pass per poll (shared/capi/providers) — it applies the next
 * component set when the previous one is in, and is done when every provider Deployment is Available. A pass
 * with nothing left to apply is a couple of LISTs.
 */
import { ProviderComponentsFetchError, reconcileProviders, statusMessage } from '../../shared/capi/providers/index.ts';
import { infrastructureOf } from '../../shared/steps/capi.ts';
import { poll, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'check-providers';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, (input, d) =>
    poll(d, input, STEP, async (cluster) => {
      const opts = { infrastructure: await infrastructureOf(d, cluster), addonHelm: true, ...d.providers };
      try {
        const status = await reconcileProviders(await d.workload(cluster), opts);
        return { done: status.ready, message: statusMessage(status) };
      } catch (error) {
        // A download that may pass is one more wait (the poll's attempts bound it); anything else fails the step.
        if (error instanceof ProviderComponentsFetchError && error.transient) return { done: false, message: `provider components not downloaded yet: ${error.message}` };
        throw error;
      }
    }),
  );

export const handler = makeHandler(awsStepDeps);
