/**
 * provision-cluster: the CAPI providers into the new cluster — the `clusterctl init` equivalent
 * (shared/capi/providers): cert-manager, then core, kubeadm bootstrap and control plane, the infrastructure
 * provider and CAAPH from their releases, ClusterTopology on, tolerating the control-plane taint (only the
 * control plane exists until scale-out). This step makes the first reconcile pass; check-providers repeats it
 * until every provider is Available.
 */
import { ProviderComponentsFetchError, reconcileProviders, statusMessage } from '../../shared/capi/providers/index.ts';
import { infrastructureOf } from '../../shared/steps/capi.ts';
import { loadCluster, recordProgress, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'install-providers';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    const opts = { infrastructure: await infrastructureOf(d, cluster), addonHelm: true, ...d.providers };
    try {
      const status = await reconcileProviders(await d.workload(cluster), opts);
      await recordProgress(d, cluster, STEP, statusMessage(status));
    } catch (error) {
      // A release download that may pass (GitHub 5xx, a timeout): check-providers' passes retry it.
      if (!(error instanceof ProviderComponentsFetchError && error.transient)) throw error;
      await recordProgress(d, cluster, STEP, `provider components not downloaded yet: ${error.message}`);
    }
    return null;
  });

export const handler = makeHandler(awsStepDeps);
