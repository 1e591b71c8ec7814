/**
 * update-cluster: the new desired topology (pool sizes, Kubernetes version, or class + version of a plan
 * revision in one edit) patched where the CAPI objects live.
 */
import { renderScaledTopology } from '../../shared/capi/render.ts';
import { blueprintOf, capiHome, topologyOf } from '../../shared/steps/capi.ts';
import { loadCluster, recordProgress, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'apply-update';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    const { network } = await blueprintOf(d, cluster);
    await (await capiHome(d, cluster)).apply(renderScaledTopology(topologyOf(cluster, network)), { force: true });
    await recordProgress(d, cluster, STEP, `topology updated: ${cluster.clusterClass} ${cluster.kubernetesVersion}`);
    return null;
  });

export const handler = makeHandler(awsStepDeps);
