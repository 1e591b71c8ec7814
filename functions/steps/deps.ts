/**
 * Step handlers' dependencies in AWS, built once per container from the validated environment: the store,
 * the EventBridge publisher, the management EKS cluster (DescribeCluster + presigned STS token, refreshed
 * before expiry), workload clusters through the access Slipway keeps for them, and where CAPI provider
 * components come from (a mirror when SLIPWAY_PROVIDER_REPOSITORY is set, else GitHub releases).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { connectAccess } from '../../shared/capi/access.ts';
import { connectEks } from '../../shared/capi/connect.ts';
import { defaultComponentsFetcher } from '../../shared/capi/providers/index.ts';
import { parseEnv, StepEnv } from '../../shared/config/env.ts';
import { EventBridgePublisher } from '../../shared/events/publisher.ts';
import { createLogger } from '../../shared/log.ts';
import { loadPriceCatalog } from '../../shared/policy/cost.ts';
import { DEFAULT_WAITS, type StepDeps } from '../../shared/steps/runtime.ts';
import { createDynamoStores } from '../../shared/store/dynamo/index.ts';

export function awsStepDeps(): StepDeps {
  const env = parseEnv(StepEnv);
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const ddb = new DynamoDBClient(env.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB } : {});
  const stores = createDynamoStores({ client: DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), tableName: env.SLIPWAY_TABLE_NAME });
  const management = connectEks({ clusterName: env.SLIPWAY_MANAGEMENT_CLUSTER_NAME, region });
  return {
    stores,
    events: new EventBridgePublisher(new EventBridgeClient({}), { eventBusName: env.SLIPWAY_EVENT_BUS_NAME }),
    management: async () => management,
    workload: (cluster) => connectAccess(management, cluster),
    providers: {
      ...(env.SLIPWAY_PROVIDER_REPOSITORY === undefined ? {} : { repository: env.SLIPWAY_PROVIDER_REPOSITORY }),
      fetcher: defaultComponentsFetcher(),
    },
    prices: loadPriceCatalog(),
    clock: () => new Date(),
    waits: DEFAULT_WAITS,
    log: createLogger({ component: 'steps' }),
  };
}
