/** delete-cluster wait: until the Cluster and every one of its Machines are gone. */
import { clusterGone } from '../../shared/capi/status.ts';
import { clusterRef, machinesOf } from '../../shared/steps/capi.ts';
import { poll, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'check-deleted';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, (input, d) =>
    poll(d, input, STEP, async (cluster) => {
      const management = await d.management();
      const [capiCluster, machines] = await Promise.all([management.get(clusterRef(cluster)), machinesOf(management, cluster)]);
      return clusterGone(capiCluster, machines);
    }),
  );

export const handler = makeHandler(awsStepDeps);
