/**
 * provision-cluster: the namespace of the workspace and the topology Cluster in the management cluster —
 * control plane 1, no workers (the cluster is pivoted while it is smallest, then scaled out). A resumed
 * provisioning whose pivot already moved the Cluster away applies nothing: it would build a second cluster.
 */
import { renderInitialCluster, slipwayLabels, workspaceNamespace } from '../../shared/capi/render.ts';
import { blueprintOf, pivoted, topologyOf } from '../../shared/steps/capi.ts';
import { loadCluster, recordPhase, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'apply-cluster';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, async (input, d) => {
    const cluster = await loadCluster(d, input);
    if (await pivoted(d, cluster)) return null;
    const { network } = await blueprintOf(d, cluster);
    const management = await d.management();
    const { 'slipway.dev/workspace': ws, 'app.kubernetes.io/managed-by': managedBy } = slipwayLabels(cluster);
    await management.ensureNamespace(workspaceNamespace(cluster.workspaceId), { 'slipway.dev/workspace': ws ?? '', 'app.kubernetes.io/managed-by': managedBy ?? 'slipway' });
    await management.apply(renderInitialCluster(topologyOf(cluster, network)), { force: true });
    await recordPhase(d, cluster, { phase: 'Provisioning', step: STEP, message: 'first control-plane machine requested', capiLocation: 'management' }, { publish: false });
    return null;
  });

export const handler = makeHandler(awsStepDeps);
