/**
 * GET /v1/workspaces/{ws}/clusters/{name}/kubeconfig — a kubeconfig of the caller's own for a Ready cluster:
 * a short-lived ServiceAccount token (TokenRequest) bound to exactly the ClusterRoles the caller is entitled to
 * now (shared/capi/user-access.ts), with the server and CA of the access Slipway keeps. The admin credentials
 * Slipway keeps (shared/capi/access.ts) drive those writes and never leave it. Every kubeconfig handed out is
 * audited (who, roles, expiry — never the token); answers are never cached, tokens never logged.
 *
 * Its own function: the only API route that talks to Kubernetes (kept out of the other bundles).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { connectKeptAccess } from '../../shared/capi/access.ts';
import type { KubeClient } from '../../shared/capi/client.ts';
import { connectEks } from '../../shared/capi/connect.ts';
import { KubeconfigNotFoundError, KubeTransientError } from '../../shared/capi/errors.ts';
import {
  entitlementOf,
  type GrantedVia,
  grantUserAccess,
  requestUserToken,
  revokeMembershipAccess,
  revokeUserAccess,
  serviceAccountUser,
  userKubeconfig,
} from '../../shared/capi/user-access.ts';
import { visibleClusterAndRole } from '../../shared/clusters/visible.ts';
import { KUBECONFIG_TTL_LIMITS, KubeconfigApiEnv, parseEnv } from '../../shared/config/env.ts';
import type { ClusterPlanRevision, Member } from '../../shared/domain/schemas.ts';
import { ConflictError, ForbiddenError, UnavailableError, ValidationError } from '../../shared/errors.ts';
import { type ApiRequest, type Route, routeGroup } from '../../shared/http/api.ts';
import { loadPriceCatalog } from '../../shared/policy/cost.ts';
import { createDynamoStores } from '../../shared/store/dynamo/index.ts';
import { SfnWorkflowStarter, stateMachineArnsFromEnv } from '../../shared/workflow/starter.ts';
import type { ApiDeps } from './deps.ts';

export interface KubeconfigTtl {
  /** Token lifetime when the caller asks for none. */
  defaultMinutes: number;
  /** The longest lifetime a caller may ask for (`?ttlMinutes=`). */
  maxMinutes: number;
}

export interface KubeconfigDeps extends ApiDeps {
  management(): Promise<KubeClient>;
  kubeconfigTtl: KubeconfigTtl;
}

export const DEFAULT_KUBECONFIG_TTL: KubeconfigTtl = {
  defaultMinutes: KUBECONFIG_TTL_LIMITS.defaultMinutes,
  maxMinutes: KUBECONFIG_TTL_LIMITS.defaultMaxMinutes,
};

/** Response header carrying the token's expiry (RFC 3339), so scripts know when to fetch a new one. */
export const TOKEN_EXPIRY_HEADER = 'slipway-token-expires-at';

export const kubeconfigRoutes: Record<string, Route<KubeconfigDeps>> = {
  'GET /v1/workspaces/{ws}/clusters/{name}/kubeconfig': async (req, deps) => {
    const ttlMinutes = requestedTtl(req, deps.kubeconfigTtl);
    const { cluster, role } = await visibleClusterAndRole(req.caller, deps.stores, req.params.ws ?? '', req.params.name ?? '', { live: true });
    if (cluster.phase !== 'Ready' && cluster.phase !== 'Updating') {
      throw new ConflictError(`cluster ${cluster.name} is ${cluster.phase}: a kubeconfig is available once it is Ready`);
    }
    const plan = await deps.stores.clusterPlans.getRevision(cluster.plan.id, cluster.plan.revision);
    if (plan === null) throw new ConflictError(`plan ${cluster.plan.id}@${cluster.plan.revision} of cluster ${cluster.name} no longer exists`);
    const entitlement = entitlementOf(req.caller, role, plan);
    const via = await grantedVia(deps, cluster.workspaceId, req.caller.principals);
    const resource = `workspaces/${cluster.workspaceId}/clusters/${cluster.name}`;

    return reachingCluster(cluster.name, async () => {
      let kept: Awaited<ReturnType<typeof connectKeptAccess>>;
      try {
        kept = await connectKeptAccess(await deps.management(), cluster);
      } catch (error) {
        if (error instanceof KubeconfigNotFoundError) throw new ConflictError(`no access is kept for cluster ${cluster.name}`);
        throw error;
      }

      if (entitlement.roles.length === 0) {
        // Whatever this principal was given before goes now; nothing new is created for them.
        const removed = await revokeUserAccess(kept.client, req.caller.principal);
        if (removed.length > 0) {
          await deps.stores.audit.append({ actor: req.caller.principal, action: 'Cluster.kubeconfigRevoked', resource, detail: { clusterUid: cluster.uid, removedBindings: removed } });
        }
        throw noAccess(cluster.name, plan);
      }

      const granted = await grantUserAccess(kept.client, req.caller.principal, req.caller.email, entitlement.roles, via);
      // A membership change that committed while this grant was made can have had its revocation carried out
      // before the grant landed. Looking again closes that gap: a change after this read finds the labelled
      // ServiceAccount through its own revocation; one before it is seen here, and the grant is taken back.
      if (!(await stillGrantedVia(deps, cluster.workspaceId, req.caller.principals, via))) {
        await revokeMembershipAccess(kept.client, { principal: req.caller.principal, scope: 'all' });
        throw new ConflictError(`your membership of workspace ${cluster.workspaceId} changed while the kubeconfig was being made; ask again`);
      }
      const issued = await requestUserToken(kept.client, granted.serviceAccount, ttlMinutes * 60);
      await deps.stores.audit.append({
        actor: req.caller.principal,
        action: 'Cluster.kubeconfig',
        resource,
        detail: {
          clusterUid: cluster.uid,
          serviceAccount: serviceAccountUser(granted.serviceAccount),
          roles: entitlement.roles,
          basis: entitlement.basis,
          ...(entitlement.groups.length > 0 ? { groups: entitlement.groups } : {}),
          ...(granted.removed.length > 0 ? { removedBindings: granted.removed } : {}),
          expiresAt: issued.expiresAt.toISOString(),
        },
      });
      const contextName = `${cluster.workspaceId}-${cluster.name}`;
      return {
        status: 200,
        raw: userKubeconfig({
          contextName,
          server: kept.endpoint.server,
          caData: kept.endpoint.caData,
          insecureSkipTlsVerify: kept.endpoint.insecureSkipTlsVerify,
          tlsServerName: kept.endpoint.tlsServerName,
          user: req.caller.principal,
          token: issued.token,
        }),
        headers: {
          'content-type': 'application/yaml',
          'cache-control': 'no-store',
          'content-disposition': `attachment; filename="${contextName}.kubeconfig"`,
          [TOKEN_EXPIRY_HEADER]: issued.expiresAt.toISOString(),
          'slipway-cluster-roles': entitlement.roles.join(','),
        },
      };
    });
  },
};

/**
 * The caller's principals that are members of the workspace, with their roles: recorded on the ServiceAccount
 * so that removing or demoting any of them revokes what it gave (shared/clusters/revoke-access.ts).
 */
async function grantedVia(deps: KubeconfigDeps, workspaceId: string, principals: readonly string[]): Promise<GrantedVia> {
  const ws = await deps.stores.workspaces.get(workspaceId);
  const via: Record<string, Member['role']> = {};
  for (const member of ws?.members ?? []) if (principals.includes(member.principal)) via[member.principal] = member.role;
  return via;
}

/** Every membership the grant was made through still holds, with the same role (additions do not matter). */
async function stillGrantedVia(deps: KubeconfigDeps, workspaceId: string, principals: readonly string[], via: GrantedVia): Promise<boolean> {
  const now = await grantedVia(deps, workspaceId, principals);
  return Object.entries(via).every(([principal, role]) => now[principal] === role);
}

/** `?ttlMinutes=` within [minimum, configured maximum], else the configured default. */
function requestedTtl(req: ApiRequest, ttl: KubeconfigTtl): number {
  const raw = req.query.ttlMinutes;
  if (raw === undefined) return ttl.defaultMinutes;
  const min = KUBECONFIG_TTL_LIMITS.minMinutes;
  const minutes = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(minutes >= min && minutes <= ttl.maxMinutes)) {
    const message = `must be a whole number of minutes from ${min} to ${ttl.maxMinutes}`;
    throw new ValidationError(`ttlMinutes ${message}`, { errors: [{ field: 'ttlMinutes', message, code: 'out_of_range' }] });
  }
  return minutes;
}

function noAccess(clusterName: string, plan: Pick<ClusterPlanRevision, 'planId' | 'revision' | 'access'>): ForbiddenError {
  const grants = plan.access.map((entry) => `${entry.group} (${entry.role})`);
  const detail =
    grants.length === 0
      ? `plan ${plan.planId}@${plan.revision} grants no group access to cluster ${clusterName}: only workspace owners and platform admins get a kubeconfig`
      : `plan ${plan.planId}@${plan.revision} grants access to cluster ${clusterName} to the groups ${grants.join(', ')}; your token carries none of them`;
  return new ForbiddenError(detail, {
    errors: plan.access.map((entry) => ({ field: 'groups', message: `group ${entry.group} gets ClusterRole ${entry.role}`, code: 'access.group_not_held' })),
  });
}

/** A workload cluster that does not answer (after the client's own retries) is a 503, not a 500. */
async function reachingCluster<T>(clusterName: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof KubeTransientError) throw new UnavailableError(`cluster ${clusterName} does not answer now; retry shortly`, { cause: error });
    throw error;
  }
}

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
    kubeconfigTtl: { defaultMinutes: env.SLIPWAY_KUBECONFIG_TTL_MINUTES, maxMinutes: env.SLIPWAY_KUBECONFIG_MAX_TTL_MINUTES },
  };
}

export const makeHandler = (deps: () => KubeconfigDeps) => routeGroup(kubeconfigRoutes, deps);
export const handler = makeHandler(awsKubeconfigDeps);
