/**
 * The onboarding steps' dependencies in AWS, built once per container from the validated environment: the
 * store, the EventBridge publisher, Step Functions (the baseline cluster starts provision-cluster like the
 * API does) and the STS/EC2 clients that verify an account's access. They share StepEnv with every step.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AwsAccessVerifier } from '../../shared/aws/verify-access.ts';
import { parseEnv, StepEnv } from '../../shared/config/env.ts';
import { EventBridgePublisher } from '../../shared/events/publisher.ts';
import { createLogger } from '../../shared/log.ts';
import type { OnboardingDeps } from '../../shared/onboarding/steps.ts';
import { loadPriceCatalog } from '../../shared/policy/cost.ts';
import { createDynamoStores } from '../../shared/store/dynamo/index.ts';
import { SfnWorkflowStarter } from '../../shared/workflow/starter.ts';

export function awsOnboardingDeps(): OnboardingDeps {
  const env = parseEnv(StepEnv);
  const ddb = new DynamoDBClient(env.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB } : {});
  const stores = createDynamoStores({ client: DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), tableName: env.SLIPWAY_TABLE_NAME });
  return {
    stores,
    events: new EventBridgePublisher(new EventBridgeClient({}), { eventBusName: env.SLIPWAY_EVENT_BUS_NAME }),
    workflows: new SfnWorkflowStarter(new SFNClient({}), { 'provision-cluster': env.SLIPWAY_PROVISION_STATE_MACHINE_ARN }),
    verifier: new AwsAccessVerifier({
      sts: new STSClient({}),
      ec2: (region, credentials) => new EC2Client({ region, credentials }),
    }),
    prices: loadPriceCatalog(),
    clock: () => new Date(),
    log: createLogger({ component: 'onboarding' }),
  };
}
