/**
 * update-cluster: the new desired topology (pool sizes, Kubernetes version, or class + version of a plan
 * revision in one edit) patched where the CAPI objects live. A self-managed cluster only has the ClusterClass
 * the pivot carried: a plan revision naming another class gets it copied from the management cluster first.
 */
import { ensureClusterClass } from '../../shared/capi/mover.ts';
import { DEFAULT_CLASS_NAMESPACE, renderScaledTopology } from '../../shared/capi/render.ts';
import { blueprintOf, capiHome, topologyOf } from '../../shared/steps/capi.ts';
import { loadCluster, recordProgress, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'apply-update';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    const { network } = await blueprintOf(d, cluster);
    const home = await capiHome(d, cluster);
    if (cluster.capiLocation === 'self') {
      await ensureClusterClass(await d.management(), home, { name: cluster.clusterClass, namespace: DEFAULT_CLASS_NAMESPACE });
    }
    await home.apply(renderScaledTopology(topologyOf(cluster, network)), { force: true });
    await recordProgress(d, cluster, STEP, `topology updated: ${cluster.clusterClass} ${cluster.kubernetesVersion}`);
    return null;
  });

export const handler = makeHandler(awsStepDeps);
