/** provision-cluster wait: until the workload cluster's node is Ready (the CNI runs). */
import { nodesReady } from '../../shared/capi/status.ts';
import { poll, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'check-nodes';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, (input, d) =>
    poll(d, input, STEP, async (cluster) => {
      const nodes = await (await d.workload(cluster)).list('v1', 'Node');
      return nodesReady(nodes, 1);
    }),
  );

export const handler = makeHandler(awsStepDeps);
