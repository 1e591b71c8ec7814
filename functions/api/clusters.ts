/**
 * /v1/workspaces/{ws}/clusters — the self-service routes. A new cluster goes through shared/clusters/create.ts
 * (the path the account-vending baseline cluster takes too): validated, resolved, costed, checked against every
 * applicable policy, recorded with its quota reserved and its workflow started exactly once, or nothing at all.
 */
import { requireMember } from '../../shared/auth/authorize.ts';
import { evaluateCreate, requestCluster } from '../../shared/clusters/create.ts';
import { checkPolicies, resolveUpdate } from '../../shared/clusters/requests.ts';
import { visibleCluster as visibleClusterOf } from '../../shared/clusters/visible.ts';
import { clusterWorkflowRequest } from '../../shared/workflow/cluster.ts';
import { type Cluster, CreateClusterBody, UpdateClusterBody } from '../../shared/domain/schemas.ts';
import { ConcurrentModificationError, ConflictError, NotFoundError, OperationInFlightError, PolicyViolationError, ValidationError } from '../../shared/errors.ts';
import { accepted, type ApiRequest, ok, pageParams, parseWith, type Route, routeGroup } from '../../shared/http/api.ts';
import { createLogger } from '../../shared/log.ts';
import { type ApiDeps, awsApiDeps } from './deps.ts';

const log = createLogger({ component: 'api.clusters' });

export const clusterRoutes: Record<string, Route<ApiDeps>> = {
  'POST /v1/workspaces/{ws}/clusters': async (req, deps) => {
    const wsId = req.params.ws ?? '';
    // Membership and the workspace are independent reads: one round trip instead of two.
    const [, ws] = await Promise.all([requireMember(req.caller, wsId, deps.stores.workspaces), deps.stores.workspaces.get(wsId)]);
    const body = parseWith(CreateClusterBody, req.body);
    const dryRun = parseDryRun(req);
    if (!ws) throw new NotFoundError(`workspace ${wsId} not found`);

    if (dryRun) return ok((await evaluateCreate(deps, ws, body)).evaluation);
    const cluster = await requestCluster(deps, { workspace: ws, body, actor: { principal: req.caller.principal } });
    return accepted(cluster, clusterPath(cluster));
  },

  'GET /v1/workspaces/{ws}/clusters': async (req, deps) => {
    const wsId = req.params.ws ?? '';
    await requireMember(req.caller, wsId, deps.stores.workspaces);
    return ok(await deps.stores.clusters.list(wsId, pageParams(req.query)));
  },

  'GET /v1/workspaces/{ws}/clusters/{name}': async (req, deps) => {
    return ok(await visibleCluster(req, deps));
  },

  'PATCH /v1/workspaces/{ws}/clusters/{name}': async (req, deps) => {
    const cluster = await visibleCluster(req, deps);
    const body = parseWith(UpdateClusterBody, req.body);
    assertUpdatable(cluster, body.generation);
    const { patch } = await resolveUpdate(deps.stores, cluster, body, deps.prices);
    const checked = await checkPolicies(deps.stores, {
      workspaceId: cluster.workspaceId,
      planId: patch.plan.id,
      kubernetesVersion: patch.kubernetesVersion,
      region: cluster.region,
      controlPlane: patch.controlPlane,
      nodePools: patch.nodePools,
      ttlHours: cluster.ttlHours,
      costEstimate: patch.costEstimate,
      current: cluster,
    });
    if (checked.violations.length > 0) {
      throw new PolicyViolationError(`the change violates ${checked.violations.length} policy rule(s)`, { errors: checked.violations });
    }
    const begun = await deps.stores.clusters.beginOperation(
      cluster.workspaceId,
      cluster.name,
      'update',
      { phase: 'Updating', step: null, message: null, spec: patch },
      {
        ...(body.generation === undefined ? { expectedGeneration: cluster.generation } : { expectedGeneration: body.generation }),
        costDelta: patch.costEstimate.monthlyUsd - cluster.costEstimate.monthlyUsd,
        limits: checked.limits,
      },
    );
    const started = await startOrCompensate(deps, begun, 'update-cluster', null);
    return accepted({ ...begun, executionId: started }, clusterPath(begun));
  },

  'DELETE /v1/workspaces/{ws}/clusters/{name}': async (req, deps) => {
    const cluster = await visibleCluster(req, deps);
    if (cluster.phase === 'Deleted') throw new NotFoundError(`cluster ${cluster.name} not found`);
    if (cluster.operation === 'delete') return accepted(cluster, clusterPath(cluster));
    assertUpdatable(cluster, undefined, true);
    const begun = await deps.stores.clusters.beginOperation(
      cluster.workspaceId,
      cluster.name,
      'delete',
      { phase: 'Deleting', step: null, message: null },
      { expectedGeneration: cluster.generation },
    );
    const started = await startOrCompensate(deps, begun, 'delete-cluster', null);
    return accepted({ ...begun, executionId: started }, clusterPath(begun));
  },

  'GET /v1/workspaces/{ws}/clusters/{name}/events': async (req, deps) => {
    const cluster = await visibleCluster(req, deps);
    return ok(await deps.stores.clusters.history(cluster.uid, pageParams(req.query)));
  },

};

function clusterPath(c: Pick<Cluster, 'workspaceId' | 'name'>): string {
  return `/v1/workspaces/${c.workspaceId}/clusters/${c.name}`;
}

function parseDryRun(req: ApiRequest): boolean {
  const v = req.query.dryRun;
  if (v === undefined || v === 'false') return false;
  if (v === 'true' || v === '') return true;
  throw new ValidationError('dryRun must be true or false', { errors: [{ field: 'dryRun', message: 'must be true or false' }] });
}

async function visibleCluster(req: ApiRequest, deps: ApiDeps): Promise<Cluster> {
  return visibleClusterOf(req.caller, deps.stores, req.params.ws ?? '', req.params.name ?? '', { live: req.event.requestContext.http.method !== 'GET' });
}

/** Refuses early (before any policy work) what the store would refuse anyway. */
function assertUpdatable(cluster: Cluster, generation: number | undefined, deleting = false): void {
  if (cluster.operation !== null) throw new OperationInFlightError(`cluster ${cluster.name} has a ${cluster.operation} operation in flight`);
  if (generation !== undefined && generation !== cluster.generation) {
    throw new ConcurrentModificationError(`generation ${generation} is stale: the cluster is at generation ${cluster.generation}`);
  }
  if (!deleting && cluster.phase !== 'Ready') throw new ConflictError(`cluster ${cluster.name} is ${cluster.phase}: only Ready clusters can be changed`);
}

/**
 * Starts the workflow for the cluster's current generation. The name is deterministic, so a retry after a
 * lost answer cannot start it twice. When the start fails, `compensate` undoes the record (create); for
 * updates and deletes the operation stays recorded and the scheduled sweep (shared/clusters/sweep.ts)
 * starts it again under the same name.
 */
async function startOrCompensate(
  deps: ApiDeps,
  cluster: Cluster,
  workflow: 'update-cluster' | 'delete-cluster',
  compensate: (() => Promise<void>) | null,
): Promise<string> {
  try {
    const { executionId } = await deps.workflows.start(clusterWorkflowRequest(cluster, workflow === 'update-cluster' ? 'update' : 'delete'));
    return executionId;
  } catch (error) {
    log.error('workflow start failed', { workflow, workspaceId: cluster.workspaceId, cluster: cluster.name, error });
    if (compensate) await compensate();
    throw error;
  }
}

export const makeHandler = (deps: () => ApiDeps) => routeGroup(clusterRoutes, deps);
export const handler = makeHandler(awsApiDeps);
