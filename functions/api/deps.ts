/**
 * What API handlers depend on, and how it is built in AWS (from the validated environment). The local
 * runtime and the tests build the same shape from their own parts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AccountsApiEnv, ApiEnv, parseEnv } from '../../shared/config/env.ts';
import type { HttpDeps } from '../../shared/http/api.ts';
import { loadPriceCatalog, type PriceCatalog } from '../../shared/policy/cost.ts';
import { createDynamoStores } from '../../shared/store/dynamo/index.ts';
import type { Stores } from '../../shared/store/ports.ts';
import type { WorkflowId } from '../../shared/workflow/names.ts';
import { SfnWorkflowStarter, stateMachineArnsFromEnv, type WorkflowStarter } from '../../shared/workflow/starter.ts';

export interface ApiDeps extends HttpDeps {
  stores: Stores;
  workflows: WorkflowStarter;
  prices: PriceCatalog;
  clock: () => Date;
}

export function awsApiDeps(): ApiDeps {
  const env = parseEnv(ApiEnv);
  return apiDepsFrom(env, stateMachineArnsFromEnv(env));
}

/** The accounts routes start onboard-account only (an admin's retry), and may start nothing else. */
export function awsAccountsApiDeps(): ApiDeps {
  const env = parseEnv(AccountsApiEnv);
  return apiDepsFrom(env, { 'onboard-account': env.SLIPWAY_ONBOARD_STATE_MACHINE_ARN });
}

function apiDepsFrom(env: ApiEnv, stateMachineArns: Partial<Record<WorkflowId, string>>): ApiDeps {
  const ddb = new DynamoDBClient(env.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB } : {});
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  const stores = createDynamoStores({ client: doc, tableName: env.SLIPWAY_TABLE_NAME });
  return {
    adminGroup: env.SLIPWAY_ADMIN_GROUP,
    idempotency: stores.idempotency,
    stores,
    workflows: new SfnWorkflowStarter(new SFNClient({}), stateMachineArns),
    prices: loadPriceCatalog(),
    clock: () => new Date(),
  };
}
