/**
 * isComplete of the CAPI-providers custom resource: called by the CDK provider framework every query interval
 * until it answers IsComplete or the total timeout passes (infra/capi-providers.ts). Each call is one more
 * reconcile pass — apply what is missing, or report what the install still waits for (cert-manager's webhook,
 * a provider Deployment becoming Available).
 *
 * It never throws: the framework would retry a thrown error just the same, but if the last call before the
 * timeout threw, its timeout handler cannot read the request back and CloudFormation would hear nothing until
 * its own timeout. Errors are logged here instead (this function's log group says why a deployment timed out).
 */
import { createLogger } from '../../shared/log.ts';
import {
  awsCapiProvidersDeps,
  type CapiProvidersDeps,
  type IsCompleteRequest,
  type IsCompleteResponse,
  isPermanent,
  lazily,
  reconcilePass,
} from './deps.ts';

const fallbackLog = createLogger({ component: 'capi-providers' });

export const makeHandler = (deps: () => CapiProvidersDeps) => {
  const get = lazily(deps);
  return async (event: IsCompleteRequest): Promise<IsCompleteResponse> => {
    // Delete did nothing (see capi-providers.ts): done at once.
    if (event.RequestType === 'Delete') return { IsComplete: true };
    let d: CapiProvidersDeps | undefined;
    try {
      d = get();
      const progress = await reconcilePass(d, event);
      if (progress.ready) return { IsComplete: true, Data: { Stage: progress.stage } };
    } catch (err) {
      // Permanent or not, the deployment fails at the timeout ("Operation timed out"); this log says why.
      const log = d?.log ?? fallbackLog;
      if (isPermanent(err)) log.error('providers pass failed and will keep failing: fix it, the deployment times out', { error: err });
      else log.warn('providers pass failed; retrying at the next interval', { error: err });
    }
    return { IsComplete: false };
  };
};

export const handler = makeHandler(awsCapiProvidersDeps);
