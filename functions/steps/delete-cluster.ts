/**
 * delete-cluster: delete the CAPI Cluster in the management cluster; CAPI tears down everything it owns. The
 * add-ons' HelmChartProxies are not owned by the Cluster (CAAPH selects clusters by label), so they are deleted
 * here too, or they would outlive the cluster in the management cluster.
 */
import { clusterSelector, workspaceNamespace } from '../../shared/capi/render.ts';
import { clusterRef } from '../../shared/steps/capi.ts';
import { loadCluster, recordPhase, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'delete-cluster';

const API_ADDONS_HELM = 'addons.cluster.x-k8s.io/v1alpha1';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    const management = await d.management();
    const outcome = await management.delete(clusterRef(cluster));
    const namespace = workspaceNamespace(cluster.workspaceId);
    for (const proxy of await management.list(API_ADDONS_HELM, 'HelmChartProxy', { namespace, labelSelector: clusterSelector(cluster) })) {
      await management.delete({ apiVersion: API_ADDONS_HELM, kind: 'HelmChartProxy', namespace, name: proxy.metadata.name });
    }
    await recordPhase(d, cluster, { phase: 'Deleting', step: STEP, message: outcome === 'absent' ? 'no CAPI objects to delete' : 'machines are being deleted' }, { publish: false });
    return null;
  });

export const handler = makeHandler(awsStepDeps);
