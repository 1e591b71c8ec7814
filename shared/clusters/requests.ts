/**
 * Turning a cluster request (create or update) into a resolved, costed, policy-checked spec. One code path
 * for every requester: the API, the account-vending flow's baseline cluster, and the workflows' re-check at
 * execution time.
 */
import type {
  CloudAccess,
  Cluster,
  ClusterPlan,
  ClusterPlanRevision,
  ComputeTemplate,
  CostEstimate,
  CreateClusterBody,
  NetworkPlan,
  NodePool,
  ProvisioningPolicy,
  UpdateClusterBody,
  Violation,
  Workspace,
} from '../domain/schemas.ts';
import { type FieldError, UnprocessableError } from '../errors.ts';
import { estimateCost, type PriceCatalog } from '../policy/cost.ts';
import { evaluate, quotaLimits } from '../policy/engine.ts';
import type { QuotaLimits, Stores } from '../store/ports.ts';

export interface ResolvedCreate {
  plan: ClusterPlanRevision;
  network: NetworkPlan;
  template: ComputeTemplate;
  access: CloudAccess;
  nodePools: NodePool[];
  ttlHours: number | null;
  costEstimate: CostEstimate;
}

export interface Checked {
  violations: Violation[];
  limits: QuotaLimits;
  policies: ProvisioningPolicy[];
}

/**
 * Loads what the request names and checks it fits together. Every problem is collected and reported in one
 * 422 so the requester fixes everything at once.
 */
export async function resolveCreate(stores: Stores, ws: Workspace, body: CreateClusterBody, prices: PriceCatalog): Promise<ResolvedCreate> {
  const errors: FieldError[] = [];
  const [plan, template, access] = await Promise.all([
    // The plan head carries its latest revision's content: one read instead of two.
    body.plan.revision === undefined
      ? stores.clusterPlans.get(body.plan.id).then((p) => (p ? latestRevisionOf(p) : null))
      : stores.clusterPlans.getRevision(body.plan.id, body.plan.revision),
    stores.computeTemplates.get(body.computeTemplateId),
    stores.cloudAccesses.get(body.cloudAccessId),
  ]);
  if (!plan) {
    const what = body.plan.revision === undefined ? body.plan.id : `${body.plan.id} revision ${body.plan.revision}`;
    errors.push({ field: 'plan', message: `cluster plan ${what} does not exist`, code: 'reference.not_found' });
  }
  if (!template) errors.push({ field: 'computeTemplateId', message: `compute template ${body.computeTemplateId} does not exist`, code: 'reference.not_found' });
  if (!access || !ws.cloudAccessIds.includes(body.cloudAccessId)) {
    // An access the workspace may not use is reported exactly like an unknown one.
    errors.push({ field: 'cloudAccessId', message: `cloud access ${body.cloudAccessId} is not available in workspace ${ws.id}`, code: 'reference.not_found' });
  } else {
    if (!access.regions.includes(body.region)) {
      errors.push({ field: 'region', message: `region ${body.region} is not enabled for cloud access ${access.id} (${access.regions.join(', ')})`, code: 'region.not_enabled' });
    }
    if (access.verification.status === 'Failed') {
      errors.push({ field: 'cloudAccessId', message: `cloud access ${access.id} failed verification: ${access.verification.message ?? 'unknown reason'}`, code: 'cloud_access.unverified' });
    }
  }
  const network = plan ? await stores.networkPlans.get(plan.networkPlanId) : null;
  if (plan && !network) errors.push({ field: 'plan', message: `network plan ${plan.networkPlanId} of the plan no longer exists`, code: 'reference.not_found' });

  const nodePools = template ? applyOverrides(template.nodePools, body.nodePools ?? [], errors) : [];

  const ttlHours = body.ttlHours ?? plan?.maxLifetimeHours ?? null;
  if (plan?.maxLifetimeHours !== undefined && ttlHours !== null && ttlHours > plan.maxLifetimeHours) {
    errors.push({ field: 'ttlHours', message: `ttlHours ${ttlHours} exceeds the plan's maximum lifetime of ${plan.maxLifetimeHours} hours`, code: 'ttl.plan_max_exceeded' });
  }
  if (errors.length > 0 || !plan || !template || !access || !network) {
    throw new UnprocessableError('the request cannot be resolved', { errors });
  }
  const costEstimate = estimateCost({ region: body.region, controlPlane: plan.controlPlane, nodePools }, prices);
  return { plan, network, template, access, nodePools, ttlHours, costEstimate };
}

/** The head of a plan as the revision it mirrors. */
function latestRevisionOf(plan: ClusterPlan): ClusterPlanRevision {
  const { id, revision, updatedAt: _updatedAt, ...content } = plan;
  return { ...content, planId: id, revision };
}

/** Template pools with the request's desired counts, each within the template's bounds. */
export function applyOverrides(pools: readonly NodePool[], overrides: ReadonlyArray<{ name: string; desired: number }>, errors: FieldError[]): NodePool[] {
  const byName = new Map(pools.map((p) => [p.name, p]));
  overrides.forEach((o, i) => {
    const pool = byName.get(o.name);
    if (!pool) {
      errors.push({ field: `nodePools[${i}].name`, message: `there is no pool ${o.name} (pools: ${pools.map((p) => p.name).join(', ')})`, code: 'pool.not_found' });
    } else if (o.desired < pool.min || o.desired > pool.max) {
      errors.push({ field: `nodePools[${i}].desired`, message: `desired ${o.desired} is outside the pool's bounds ${pool.min}..${pool.max}`, code: 'pool.out_of_bounds' });
    }
  });
  const desired = new Map(overrides.map((o) => [o.name, o.desired]));
  return pools.map((p) => ({ ...p, desired: desired.get(p.name) ?? p.desired }));
}

export interface PolicyContext {
  policies: ProvisioningPolicy[];
  usage: { clusters: number; monthlyUsd: number };
}

/** What a policy check reads: the applicable policies and the workspace's usage. */
export async function loadPolicyContext(stores: Stores, workspaceId: string): Promise<PolicyContext> {
  const [policies, usage] = await Promise.all([stores.policies.applicableTo(workspaceId), stores.clusters.usage(workspaceId)]);
  return { policies, usage };
}

/** Every applicable policy against the resolved request, plus the quota limits the store enforces atomically. */
export async function checkPolicies(
  stores: Stores,
  input: {
    workspaceId: string;
    planId: string;
    kubernetesVersion: string;
    region: string;
    controlPlane: { replicas: number; instanceType: string };
    nodePools: readonly NodePool[];
    ttlHours: number | null;
    costEstimate: CostEstimate;
    /** The cluster being changed (updates), excluded from the workspace usage. */
    current?: Pick<Cluster, 'costEstimate'> | null;
  },
  /** Already loaded (see loadPolicyContext), so callers can fetch it while they resolve. */
  context?: Promise<PolicyContext>,
): Promise<Checked> {
  const { policies, usage } = await (context ?? loadPolicyContext(stores, input.workspaceId));
  const isNew = !input.current;
  const others = {
    clusters: isNew ? usage.clusters : Math.max(0, usage.clusters - 1),
    monthlyUsd: isNew ? usage.monthlyUsd : Math.max(0, usage.monthlyUsd - (input.current?.costEstimate.monthlyUsd ?? 0)),
  };
  const { violations } = evaluate(
    {
      workspaceId: input.workspaceId,
      planId: input.planId,
      kubernetesVersion: input.kubernetesVersion,
      region: input.region,
      controlPlane: input.controlPlane,
      nodePools: input.nodePools,
      ttlHours: input.ttlHours,
      costEstimate: input.costEstimate,
      workspaceUsage: others,
      isNewCluster: isNew,
      current: input.current ? { monthlyUsd: input.current.costEstimate.monthlyUsd } : null,
    },
    policies,
  );
  return { violations, limits: quotaLimits(policies), policies };
}

export interface ResolvedUpdate {
  patch: Pick<Cluster, 'nodePools' | 'kubernetesVersion' | 'clusterClass' | 'plan' | 'controlPlane' | 'costEstimate'>;
  kind: 'scale' | 'upgrade' | 'plan';
}

/**
 * The new desired spec for a PATCH, checked against CAPI's rules before any workflow starts: pools within
 * their bounds; Kubernetes never downgraded, at most one minor at a time, and within what the cluster's
 * ClusterClass serves (Cluster Stacks classes are per minor, so a minor upgrade is a plan revision that
 * names the next class); a plan revision of the same plan on the same network.
 */
export async function resolveUpdate(stores: Stores, cluster: Cluster, body: UpdateClusterBody, prices: PriceCatalog): Promise<ResolvedUpdate> {
  const errors: FieldError[] = [];
  let next: ResolvedUpdate['patch'] = {
    nodePools: cluster.nodePools,
    kubernetesVersion: cluster.kubernetesVersion,
    clusterClass: cluster.clusterClass,
    plan: cluster.plan,
    controlPlane: cluster.controlPlane,
    costEstimate: cluster.costEstimate,
  };
  let kind: ResolvedUpdate['kind'];
  if (body.nodePools) {
    kind = 'scale';
    next.nodePools = applyOverrides(cluster.nodePools, body.nodePools, errors);
  } else if (body.kubernetesVersion) {
    kind = 'upgrade';
    const problem = versionChangeProblem(cluster.kubernetesVersion, body.kubernetesVersion);
    if (problem) errors.push({ field: 'kubernetesVersion', message: problem, code: 'kubernetes_version.invalid_change' });
    else if (minorOf(body.kubernetesVersion) !== minorOf(cluster.kubernetesVersion)) {
      errors.push({
        field: 'kubernetesVersion',
        message: `ClusterClass ${cluster.clusterClass} serves Kubernetes ${minorOf(cluster.kubernetesVersion)}; a minor upgrade is a plan revision with the next class`,
        code: 'kubernetes_version.class_mismatch',
      });
    }
    next.kubernetesVersion = body.kubernetesVersion;
  } else {
    kind = 'plan';
    const revision = body.plan?.revision ?? 0;
    const rev = await stores.clusterPlans.getRevision(cluster.plan.id, revision);
    if (!rev) {
      errors.push({ field: 'plan.revision', message: `cluster plan ${cluster.plan.id} has no revision ${revision}`, code: 'reference.not_found' });
    } else {
      if (rev.revision === cluster.plan.revision) errors.push({ field: 'plan.revision', message: `the cluster is already on revision ${revision}`, code: 'plan.unchanged' });
      const current = await stores.clusterPlans.getRevision(cluster.plan.id, cluster.plan.revision);
      if (current && current.networkPlanId !== rev.networkPlanId) {
        errors.push({ field: 'plan.revision', message: 'a running cluster cannot change its network plan', code: 'plan.network_change' });
      }
      const problem = versionChangeProblem(cluster.kubernetesVersion, rev.kubernetesVersion);
      if (problem) errors.push({ field: 'plan.revision', message: problem, code: 'kubernetes_version.invalid_change' });
      next = { ...next, plan: { id: cluster.plan.id, revision: rev.revision }, clusterClass: rev.clusterClass, kubernetesVersion: rev.kubernetesVersion, controlPlane: rev.controlPlane };
    }
  }
  if (errors.length > 0) throw new UnprocessableError('the change cannot be made', { errors });
  next.costEstimate = estimateCost({ region: cluster.region, controlPlane: next.controlPlane, nodePools: next.nodePools }, prices);
  return { patch: next, kind };
}

function parseVersion(v: string): [number, number, number] {
  const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

function minorOf(v: string): string {
  const [a, b] = parseVersion(v);
  return `${a}.${b}`;
}

/** CAPI refuses downgrades and skipping minors; null when the change is allowed. */
export function versionChangeProblem(from: string, to: string): string | null {
  const [fa, fb, fc] = parseVersion(from);
  const [ta, tb, tc] = parseVersion(to);
  if (ta !== fa) return `changing the major version (${from} → ${to}) is not supported`;
  if (tb < fb || (tb === fb && tc < fc)) return `Kubernetes cannot be downgraded (${from} → ${to})`;
  if (tb > fb + 1) return `Kubernetes upgrades go one minor version at a time (${from} → ${to})`;
  return null;
}
