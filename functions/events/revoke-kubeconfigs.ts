/**
 * Scheduled (the sweep schedule): carries out pending access revocations — removed members, demoted owners —
 * in every workload cluster of their workspace (shared/clusters/revoke-access.ts).
 *
 * Its own function rather than part of the sweeper: it needs the management cluster (an EKS access entry
 * that reads the kept kubeconfigs, and the VPC when the endpoint is private) and no Step Functions; the
 * sweeper needs Step Functions and no Kubernetes. Neither gets the other's permissions.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { connectEks } from '../../shared/capi/connect.ts';
import { processRevocations, type RevocationRunResult, type RevokeAccessDeps } from '../../shared/clusters/revoke-access.ts';
import { parseEnv, RevokeAccessEnv } from '../../shared/config/env.ts';
import { createLogger } from '../../shared/log.ts';
import { createDynamoStores } from '../../shared/store/dynamo/index.ts';

const log = createLogger({ component: 'revoke-kubeconfigs' });

export const makeHandler = (deps: () => RevokeAccessDeps) => {
  let built: RevokeAccessDeps | undefined;
  return async (): Promise<RevocationRunResult> => {
    built ??= deps();
    const result = await processRevocations(built);
    log.info('revocations', { completed: result.completed.length, pending: result.pending.length, revokedIn: result.revokedIn.length, failedIn: result.failedIn });
    return result;
  };
};

function awsRevokeDeps(): RevokeAccessDeps {
  const env = parseEnv(RevokeAccessEnv);
  const ddb = new DynamoDBClient(env.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB } : {});
  const management = connectEks({ clusterName: env.SLIPWAY_MANAGEMENT_CLUSTER_NAME, region: process.env.AWS_REGION ?? 'us-east-1' });
  return {
    stores: createDynamoStores({ client: DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), tableName: env.SLIPWAY_TABLE_NAME }),
    management: async () => management,
    log,
  };
}

export const handler = makeHandler(awsRevokeDeps);
