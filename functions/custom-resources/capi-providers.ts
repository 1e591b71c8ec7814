/**
 * onEvent of the CAPI-providers custom resource (infra/capi-providers.ts), for the management cluster the
 * stack creates.
 * - Create / Update: one reconcile pass (an Update is a changed provider version or mirror: re-applying the
 *   newer components is the upgrade), then hand over to isComplete, which repeats passes until ready.
 * - Delete: nothing. The providers live in the cluster the stack deletes right after this resource (the
 *   resource depends on it), and uninstalling first would be harmful: removing CAPI's CRDs deletes every
 *   Cluster object, and CAPA would then tear down the workload clusters' infrastructure in the target accounts.
 *   A rolled-back Create is the same: the cluster goes too.
 */
import { parseCapiProvidersProperties } from '../../shared/config/capi-providers.ts';
import {
  awsCapiProvidersDeps,
  type CapiProvidersDeps,
  isPermanent,
  lazily,
  type OnEventRequest,
  type OnEventResponse,
  providersResourceId,
  reconcilePass,
} from './deps.ts';

export const makeHandler = (deps: () => CapiProvidersDeps) => {
  const get = lazily(deps);
  return async (event: OnEventRequest): Promise<OnEventResponse> => {
    const d = get();
    const PhysicalResourceId = event.PhysicalResourceId ?? providersResourceId(d.clusterName);
    if (event.RequestType === 'Delete') {
      d.log.info('providers left in place: the cluster is deleted with the stack', { physicalResourceId: PhysicalResourceId });
      return { PhysicalResourceId };
    }
    // A property CloudFormation cannot make sense of fails the deployment now, with the reason.
    parseCapiProvidersProperties(event.ResourceProperties);
    try {
      await reconcilePass(d, event);
    } catch (err) {
      // Fail now, with the reason, what no retry can cure (a wrong mirror, a missing release asset).
      if (isPermanent(err)) throw err;
      // The first pass may come before the new access entry is honoured (401) or while the API server settles;
      // isComplete repeats the pass until the timeout, so this is not yet a failed deployment.
      d.log.warn('first providers pass failed; isComplete retries', { error: err });
    }
    return { PhysicalResourceId };
  };
};

export const handler = makeHandler(awsCapiProvidersDeps);
