/** Scheduled (EventBridge schedule): deletes clusters past their TTL through the normal delete workflow. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ExpiryResult, expireClusters } from '../../shared/clusters/expiry.ts';
import { ExpiryEnv, parseEnv } from '../../shared/config/env.ts';
import { createLogger } from '../../shared/log.ts';
import { createDynamoStores } from '../../shared/store/dynamo/index.ts';
import type { Stores } from '../../shared/store/ports.ts';
import { SfnWorkflowStarter, type WorkflowStarter } from '../../shared/workflow/starter.ts';

const log = createLogger({ component: 'expire-clusters' });

export interface ExpiryDeps {
  stores: Stores;
  workflows: WorkflowStarter;
  clock: () => Date;
}

export const makeHandler = (deps: () => ExpiryDeps) => {
  let built: ExpiryDeps | undefined;
  return async (): Promise<ExpiryResult> => {
    built ??= deps();
    const result = await expireClusters(built);
    log.info('ttl sweep', { deleting: result.deleting.length, deferred: result.deferred.length });
    return result;
  };
};

function awsExpiryDeps(): ExpiryDeps {
  const env = parseEnv(ExpiryEnv);
  const ddb = new DynamoDBClient(env.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB } : {});
  return {
    stores: createDynamoStores({ client: DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), tableName: env.SLIPWAY_TABLE_NAME }),
    workflows: new SfnWorkflowStarter(new SFNClient({}), { 'delete-cluster': env.SLIPWAY_DELETE_STATE_MACHINE_ARN }),
    clock: () => new Date(),
  };
}

export const handler = makeHandler(awsExpiryDeps);
