/**
 * Scheduled (EventBridge schedule): restarts lost workflow starts of in-flight operations and deletes clusters
 * past their TTL through the normal delete workflow (shared/clusters/sweep.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type SweepResult, sweepClusters } from '../../shared/clusters/sweep.ts';
import { SweepEnv, parseEnv } from '../../shared/config/env.ts';
import { createLogger } from '../../shared/log.ts';
import { createDynamoStores } from '../../shared/store/dynamo/index.ts';
import type { Stores } from '../../shared/store/ports.ts';
import { SfnWorkflowStarter, stateMachineArnsFromEnv, type WorkflowStarter } from '../../shared/workflow/starter.ts';

const log = createLogger({ component: 'sweep-clusters' });

export interface SweepDeps {
  stores: Stores;
  workflows: WorkflowStarter;
  clock: () => Date;
}

export const makeHandler = (deps: () => SweepDeps) => {
  let built: SweepDeps | undefined;
  return async (): Promise<SweepResult> => {
    built ??= deps();
    const result = await sweepClusters(built);
    log.info('sweep', { restarted: result.restarted.length, deleting: result.deleting.length, deferred: result.deferred.length });
    return result;
  };
};

function awsSweepDeps(): SweepDeps {
  const env = parseEnv(SweepEnv);
  const ddb = new DynamoDBClient(env.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB } : {});
  return {
    stores: createDynamoStores({ client: DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), tableName: env.SLIPWAY_TABLE_NAME }),
    workflows: new SfnWorkflowStarter(new SFNClient({}), stateMachineArnsFromEnv(env)),
    clock: () => new Date(),
  };
}

export const handler = makeHandler(awsSweepDeps);
