/**
 * Requesting a new cluster: the one code path for every requester (the API's POST and the account-vending
 * flow's baseline cluster). The request is resolved, costed and checked against every applicable policy; the
 * cluster is recorded with its quota reserved (one transaction) and its workflow started under a
 * deterministic execution name (exactly once). If the workflow cannot be started the record is discarded,
 * so a failed request leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, CreateClusterBody, Evaluation, Workspace } from '../domain/schemas.ts';
import { PolicyViolationError } from '../errors.ts';
import { createLogger } from '../log.ts';
import type { PriceCatalog } from '../policy/cost.ts';
import type { Actor, Stores } from '../store/ports.ts';
import { WorkflowId } from '../workflow/names.ts';
import { clusterWorkflowRequest } from '../workflow/cluster.ts';
import type { WorkflowStarter } from '../workflow/starter.ts';
import { type Checked, checkPolicies, loadPolicyContext, type ResolvedCreate, resolveCreate } from './requests.ts';

const log = createLogger({ component: 'clusters.create' });

export interface ClusterRequestDeps {
  stores: Stores;
  workflows: WorkflowStarter;
  prices: PriceCatalog;
  clock: () => Date;
}

export interface EvaluatedCreate {
  resolved: ResolvedCreate;
  checked: Checked;
  evaluation: Evaluation;
}

/**
 * Resolves and checks a request without any side effect (the dry run). UnprocessableError when what it
 * names does not exist or does not fit together.
 */
export async function evaluateCreate(deps: Pick<ClusterRequestDeps, 'stores' | 'prices'>, workspace: Workspace, body: CreateClusterBody): Promise<EvaluatedCreate> {
  const context = loadPolicyContext(deps.stores, workspace.id);
  // Settle the context promise even when resolving fails first, so it never rejects unobserved.
  context.catch(() => undefined);
  const resolved = await resolveCreate(deps.stores, workspace, body, deps.prices);
  const checked = await checkPolicies(
    deps.stores,
    {
    workspaceId: workspace.id,
    planId: resolved.plan.planId,
    kubernetesVersion: resolved.plan.kubernetesVersion,
    region: body.region,
    controlPlane: resolved.plan.controlPlane,
    nodePools: resolved.nodePools,
    ttlHours: resolved.ttlHours,
    costEstimate: resolved.costEstimate,
    },
    context,
  );
  return { resolved, checked, evaluation: { allowed: checked.violations.length === 0, violations: checked.violations, costEstimate: resolved.costEstimate } };
}

/**
 * Requests the cluster: PolicyViolationError (every violation in `errors`) when a policy refuses it,
 * AlreadyExistsError when the name is taken, PolicyViolationError with a quota code when the reservation
 * fails. Returns the stored cluster with its execution id.
 */
export async function requestCluster(deps: ClusterRequestDeps, request: { workspace: Workspace; body: CreateClusterBody; actor: Actor }): Promise<Cluster> {
  const { workspace, body, actor } = request;
  const { resolved, checked } = await evaluateCreate(deps, workspace, body);
  if (checked.violations.length > 0) {
    throw new PolicyViolationError(`the request violates ${checked.violations.length} policy rule(s)`, { errors: checked.violations });
  }

  const now = deps.clock();
  const cluster: Cluster = {
    uid: randomUUID(),
    workspaceId: workspace.id,
    name: body.name,
    plan: { id: resolved.plan.planId, revision: resolved.plan.revision },
    clusterClass: resolved.plan.clusterClass,
    computeTemplateId: body.computeTemplateId,
    region: body.region,
    cloudAccessId: body.cloudAccessId,
    kubernetesVersion: resolved.plan.kubernetesVersion,
    controlPlane: resolved.plan.controlPlane,
    nodePools: resolved.nodePools,
    phase: 'Requested',
    step: null,
    message: null,
    conditions: [],
    generation: 1,
    observedGeneration: 0,
    operation: 'provision',
    executionId: null,
    capiLocation: null,
    costEstimate: resolved.costEstimate,
    ttlHours: resolved.ttlHours,
    expiresAt: resolved.ttlHours === null ? null : new Date(now.getTime() + resolved.ttlHours * 3_600_000).toISOString(),
    createdAt: now.toISOString(),
    createdBy: actor.principal,
    updatedAt: now.toISOString(),
  };
  const stored = await deps.stores.clusters.create(cluster, checked.limits);
  const executionId = await startProvisioning(deps, stored, true);
  return { ...stored, executionId };
}

/**
 * Starts (or finds: the name is deterministic) the provision workflow of a recorded cluster. With
 * `discardOnFailure`, a failed start removes the record and releases its quota before rethrowing.
 */
export async function startProvisioning(deps: ClusterRequestDeps, cluster: Cluster, discardOnFailure: boolean): Promise<string> {
  try {
    const { executionId } = await deps.workflows.start(clusterWorkflowRequest(cluster, 'provision'));
    return executionId;
  } catch (error) {
    log.error('workflow start failed', { workflow: WorkflowId.provisionCluster, workspaceId: cluster.workspaceId, cluster: cluster.name, error });
    if (discardOnFailure) await deps.stores.clusters.discardCreate(cluster.workspaceId, cluster.name, cluster.uid);
    throw error;
  }
}
