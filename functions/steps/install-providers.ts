/**
 * provision-cluster: the CAPI providers into the new cluster — the `clusterctl init` equivalent, with
 * ClusterTopology on and tolerating the control-plane taint (only the control plane exists until scale-out).
 */
import { renderProviderComponents } from '../../shared/capi/render.ts';
import { applyAll, infrastructureOf } from '../../shared/steps/capi.ts';
import { loadCluster, recordProgress, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'install-providers';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    const infrastructure = await infrastructureOf(d, cluster);
    await applyAll(await d.workload(cluster), renderProviderComponents(infrastructure, { addonHelm: true }));
    await recordProgress(d, cluster, STEP, 'CAPI providers installed in the cluster');
    return null;
  });

export const handler = makeHandler(awsStepDeps);
