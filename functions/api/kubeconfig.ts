/**
 * GET /v1/workspaces/{ws}/clusters/{name}/kubeconfig — access to a Ready cluster for its workspace's members:
 * the kubeconfig Slipway keeps for the cluster in the management cluster (shared/capi/access.ts). Served
 * as YAML, never cached, never logged. Its own function: the only API route that talks to Kubernetes.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadAccess } from '../../shared/capi/access.ts';
import type { KubeClient } from '../../shared/capi/client.ts';
import { connectEks } from '../../shared/capi/connect.ts';
import { KubeconfigNotFoundError } from '../../shared/capi/errors.ts';
import { visibleCluster } from '../../shared/clusters/visible.ts';
import { KubeconfigApiEnv, parseEnv } from '../../shared/config/env.ts';
import { ConflictError } from '../../shared/errors.ts';
import { type Route, routeGroup } from '../../shared/http/api.ts';
import { loadPriceCatalog } from '../../shared/policy/cost.ts';
import { createDynamoStores } from '../../shared/store/dynamo/index.ts';
import { SfnWorkflowStarter, stateMachineArnsFromEnv } from '../../shared/workflow/starter.ts';
import type { ApiDeps } from './deps.ts';

export interface KubeconfigDeps extends ApiDeps {
  management(): Promise<KubeClient>;
}

export const kubeconfigRoutes: Record<string, Route<KubeconfigDeps>> = {
  'GET /v1/workspaces/{ws}/clusters/{name}/kubeconfig': async (req, deps) => {
    const cluster = await visibleCluster(req.caller, deps.stores, req.params.ws ?? '', req.params.name ?? '', { live: true });
    if (cluster.phase !== 'Ready' && cluster.phase !== 'Updating') {
      throw new ConflictError(`cluster ${cluster.name} is ${cluster.phase}: a kubeconfig is available once it is Ready`);
    }
    let text: string;
    try {
      text = await loadAccess(await deps.management(), cluster);
    } catch (error) {
      if (error instanceof KubeconfigNotFoundError) throw new ConflictError(`no access is kept for cluster ${cluster.name}`);
      throw error;
    }
    return {
      status: 200,
      raw: text,
      headers: {
        'content-type': 'application/yaml',
        'cache-control': 'no-store',
        'content-disposition': `attachment; filename="${cluster.workspaceId}-${cluster.name}.kubeconfig"`,
      },
    };
  },
};

function awsKubeconfigDeps(): KubeconfigDeps {
  const env = parseEnv(KubeconfigApiEnv);
  const ddb = new DynamoDBClient(env.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB } : {});
  const stores = createDynamoStores({ client: DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), tableName: env.SLIPWAY_TABLE_NAME });
  const management = connectEks({ clusterName: env.SLIPWAY_MANAGEMENT_CLUSTER_NAME, region: process.env.AWS_REGION ?? 'us-east-1' });
  return {
    adminGroup: env.SLIPWAY_ADMIN_GROUP,
    idempotency: stores.idempotency,
    stores,
    workflows: new SfnWorkflowStarter(new SFNClient({}), stateMachineArnsFromEnv(env)),
    prices: loadPriceCatalog(),
    clock: () => new Date(),
    management: async () => management,
  };
}

export const makeHandler = (deps: () => KubeconfigDeps) => routeGroup(kubeconfigRoutes, deps);
export const handler = makeHandler(awsKubeconfigDeps);
