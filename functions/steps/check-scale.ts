/**
 * Wait of provision (scale-out) and update: until the Cluster is Available with exactly the requested
 * machines, all on the requested Kubernetes version and up to date.
 */
import { clusterAvailable, machinesUpToDate, throwIfFailed } from '../../shared/capi/status.ts';
import { capiHome, clusterRef, machinesOf, workerCount } from '../../shared/steps/capi.ts';
import { poll, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'check-scale';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, (input, d) =>
    poll(d, input, STEP, async (cluster) => {
      const home = await capiHome(d, cluster);
      const [capi, machines] = await Promise.all([home.get(clusterRef(cluster)), machinesOf(home, cluster)]);
      const want = { controlPlane: cluster.controlPlane.replicas, workers: workerCount(cluster) };
      const available = clusterAvailable(capi, want, machines);
      throwIfFailed(available, `cluster ${cluster.name}`);
      if (!available.done) return available;
      const versions = machinesUpToDate(machines, cluster.kubernetesVersion, want.controlPlane + want.workers);
      throwIfFailed(versions, `cluster ${cluster.name}`);
      return versions;
    }),
  );

export const handler = makeHandler(awsStepDeps);
