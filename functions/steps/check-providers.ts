/** provision-cluster wait: until every provider Deployment in the new cluster is Available. */
import { providerDeployments } from '../../shared/capi/render.ts';
import { providersAvailable } from '../../shared/capi/status.ts';
import { infrastructureOf } from '../../shared/steps/capi.ts';
import { poll, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'check-providers';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, (input, d) =>
    poll(d, input, STEP, async (cluster) => {
      const expected = providerDeployments(await infrastructureOf(d, cluster), { addonHelm: true });
      const deployments = await (await d.workload(cluster)).list('apps/v1', 'Deployment');
      return providersAvailable(deployments, expected);
    }),
  );

export const handler = makeHandler(awsStepDeps);
