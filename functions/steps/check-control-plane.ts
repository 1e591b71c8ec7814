/**
 * provision-cluster wait: until the first control-plane machine has initialised the control plane. A cluster
 * already pivoted (a resumed provisioning) had it initialised: the move requires it.
 */
import { controlPlaneInitialized, throwIfFailed } from '../../shared/capi/status.ts';
import { clusterRef, machinesOf, pivoted } from '../../shared/steps/capi.ts';
import { poll, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'check-control-plane';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, (input, d) =>
    poll(d, input, STEP, async (cluster) => {
      const management = await d.management();
      const [capi, machines] = await Promise.all([management.get(clusterRef(cluster)), machinesOf(management, cluster)]);
      if (capi === null && (await pivoted(d, cluster))) return { done: true, message: 'control plane initialized (the cluster manages itself)' };
      const result = controlPlaneInitialized(capi, machines);
      throwIfFailed(result, `cluster ${cluster.name}`);
      return result;
    }),
  );

export const handler = makeHandler(awsStepDeps);
