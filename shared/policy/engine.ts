/**
 * The provisioning-policy engine: checks a fully resolved cluster request against every applicable
 * ProvisioningPolicy (global + the workspace's) and returns **every** violation, never just the first, so a
 * requester can fix everything in one round trip. Pure: the caller resolves plan, template, TTL, cost and
 * workspace usage first.
 *
 * Semantics worth knowing (each one tested in test/policy):
 * - A rule that is absent does not constrain. A list rule that is present but empty allows nothing
 *   (`allowedRegions: []` blocks every region), because an admin wrote an explicit, empty allow-list.
 * - A request must satisfy every policy; each violation names the policy that caused it. Two policies with
 *   the same rule both report it.
 * - Instance types: the control plane and every pool must match an allowed glob (when the rule is present)
 *   and no denied glob. Globs: `*` any run of characters (dots included), `?` one character; anchored,
 *   case-sensitive.
 * - Nodes: the cap covers the largest size the cluster can reach — control-plane replicas + Σ pool `max` —
 *   because the autoscaler may grow pools to `max` without another policy check. (Σ desired ≤ Σ max, so this
 *   also covers the requested size; the message says which one is over.)
 * - Cluster count is checked only for new clusters (an update adds none). Workspace cost is the usage of the
 *   workspace's other clusters plus this cluster's estimate.
 * - Cost limits never block a change that does not raise this cluster's cost (`current.monthlyUsd` given and
 *   not exceeded): after an admin lowers a cap, teams must still be able to scale down towards it.
 * - Kubernetes versions: `v` optional on both sides, a whole `x` segment means `*` (`1.31.x`), and a glob
 *   with fewer segments matches as a prefix (`v1.31` ≡ `v1.31.*`).
 * - TTL: when a policy sets maxLifetimeHours, the request must have a TTL (`ttl.required`) within it.
 */
import type { CostEstimate, ProvisioningPolicy, Violation } from '../domain/schemas.ts';
import type { QuotaLimits } from '../store/ports.ts';

/**
 * Stable violation codes — part of the public API contract (dry-run answers and 422 `errors[].code`):
 * - `region.not_allowed` — region not in allowedRegions (field `region`)
 * - `instance_type.not_allowed` — type matches no allowedInstanceTypes glob (`controlPlane.instanceType`,
 *   `nodePools[i].instanceType`)
 * - `instance_type.denied` — type matches a deniedInstanceTypes glob (same fields)
 * - `nodes.max_exceeded` — control plane + pools (desired or max) over maxNodesPerCluster (`nodePools`)
 * - `clusters.max_exceeded` — a new cluster would exceed maxClustersPerWorkspace (`name`)
 * - `cost.cluster_max_exceeded` — estimate over maxMonthlyCostPerClusterUsd (`nodePools`)
 * - `cost.workspace_max_exceeded` — workspace total over maxMonthlyCostPerWorkspaceUsd (`nodePools`)
 * - `plan.not_allowed` — plan id not in allowedPlans (`plan.id`)
 * - `kubernetes_version.not_allowed` — version matches no allowedKubernetesVersions glob (`kubernetesVersion`)
 * - `ttl.required` — a policy sets maxLifetimeHours and the request has no TTL (`ttlHours`)
 * - `ttl.max_exceeded` — TTL over maxLifetimeHours (`ttlHours`)
 * - `spot.not_allowed` — a spot pool while allowSpot is false (`nodePools[i].capacityType`)
 */
export const ViolationCodes = {
  RegionNotAllowed: 'region.not_allowed',
  InstanceTypeNotAllowed: 'instance_type.not_allowed',
  InstanceTypeDenied: 'instance_type.denied',
  NodesMaxExceeded: 'nodes.max_exceeded',
  ClustersMaxExceeded: 'clusters.max_exceeded',
  ClusterCostMaxExceeded: 'cost.cluster_max_exceeded',
  WorkspaceCostMaxExceeded: 'cost.workspace_max_exceeded',
  PlanNotAllowed: 'plan.not_allowed',
  KubernetesVersionNotAllowed: 'kubernetes_version.not_allowed',
  TtlRequired: 'ttl.required',
  TtlMaxExceeded: 'ttl.max_exceeded',
  SpotNotAllowed: 'spot.not_allowed',
} as const;
export type ViolationCode = (typeof ViolationCodes)[keyof typeof ViolationCodes];

/** A request with everything resolved: plan and template applied, overrides merged, TTL and cost computed. */
export interface PolicyRequest {
  workspaceId: string;
  planId: string;
  kubernetesVersion: string;
  region: string;
  controlPlane: { replicas: number; instanceType: string };
  nodePools: ReadonlyArray<{ name: string; instanceType: string; desired: number; max: number; capacityType: 'on-demand' | 'spot' }>;
  /** Effective TTL (request or plan default); null when the cluster would live forever. */
  ttlHours: number | null;
  costEstimate: Pick<CostEstimate, 'monthlyUsd'>;
  /** The workspace's other clusters (this one excluded, also on updates). */
  workspaceUsage: { clusters: number; monthlyUsd: number };
  isNewCluster: boolean;
  /** Updates only: the cluster's cost before the change, so reductions are never blocked by cost caps. */
  current?: { monthlyUsd: number } | null;
}

/** The part of a policy the engine needs; `workspaceId` (when given) scopes it. */
export type PolicyInput = Pick<ProvisioningPolicy, 'id' | 'rules'> & { workspaceId?: string | null };

export interface PolicyEvaluation {
  allowed: boolean;
  violations: Violation[];
}

/**
 * Every violation of every applicable policy, in policy order, then rule order. Policies scoped to another
 * workspace are ignored (defensive: the caller should not pass them, and applying them would be wrong).
 */
export function evaluate(request: PolicyRequest, policies: readonly PolicyInput[]): PolicyEvaluation {
  const violations: Violation[] = [];
  for (const policy of applicablePolicies(policies, request.workspaceId)) {
    violations.push(...checkPolicy(request, policy));
  }
  return { allowed: violations.length === 0, violations };
}

/** Global policies plus those of the given workspace. */
export function applicablePolicies<P extends PolicyInput>(policies: readonly P[], workspaceId: string): P[] {
  return policies.filter((p) => p.workspaceId === undefined || p.workspaceId === null || p.workspaceId === workspaceId);
}

/**
 * The tightest workspace limits across the policies, in the shape the store enforces atomically when it
 * reserves quota (the engine's check can race with a concurrent request; the reservation cannot).
 */
export function quotaLimits(policies: readonly PolicyInput[]): QuotaLimits {
  const limits: QuotaLimits = {};
  for (const p of policies) {
    const clusters = p.rules.maxClustersPerWorkspace;
    if (clusters !== undefined && (limits.maxClusters === undefined || clusters < limits.maxClusters.value)) {
      limits.maxClusters = { value: clusters, policyId: p.id };
    }
    const usd = p.rules.maxMonthlyCostPerWorkspaceUsd;
    if (usd !== undefined && (limits.maxMonthlyUsd === undefined || usd < limits.maxMonthlyUsd.value)) {
      limits.maxMonthlyUsd = { value: usd, policyId: p.id };
    }
  }
  return limits;
}

function checkPolicy(req: PolicyRequest, policy: PolicyInput): Violation[] {
  const { rules, id: policyId } = policy;
  const out: Violation[] = [];
  const add = (code: ViolationCode, field: string, message: string): void => {
    out.push({ code, policyId, field, message });
  };
  const by = `policy ${policyId}`;

  if (rules.allowedPlans !== undefined && !rules.allowedPlans.includes(req.planId)) {
    add(ViolationCodes.PlanNotAllowed, 'plan.id', `plan ${req.planId} is not allowed by ${by} (allowed: ${list(rules.allowedPlans)})`);
  }

  const versions = rules.allowedKubernetesVersions;
  if (versions !== undefined && !versions.some((g) => matchesVersionGlob(g, req.kubernetesVersion))) {
    add(
      ViolationCodes.KubernetesVersionNotAllowed,
      'kubernetesVersion',
      `Kubernetes version ${req.kubernetesVersion} is not allowed by ${by} (allowed: ${list(versions)})`,
    );
  }

  if (rules.allowedRegions !== undefined && !rules.allowedRegions.includes(req.region)) {
    add(ViolationCodes.RegionNotAllowed, 'region', `region ${req.region} is not allowed by ${by} (allowed: ${list(rules.allowedRegions)})`);
  }

  const machines = [
    { field: 'controlPlane.instanceType', where: 'control plane', instanceType: req.controlPlane.instanceType },
    ...req.nodePools.map((p, i) => ({ field: `nodePools[${i}].instanceType`, where: `node pool ${p.name}`, instanceType: p.instanceType })),
  ];
  for (const m of machines) {
    const allowed = rules.allowedInstanceTypes;
    if (allowed !== undefined && !allowed.some((g) => matchesGlob(g, m.instanceType))) {
      add(
        ViolationCodes.InstanceTypeNotAllowed,
        m.field,
        `instance type ${m.instanceType} (${m.where}) is not allowed by ${by} (allowed: ${list(allowed)})`,
      );
    }
    const denied = (rules.deniedInstanceTypes ?? []).filter((g) => matchesGlob(g, m.instanceType));
    if (denied.length > 0) {
      add(ViolationCodes.InstanceTypeDenied, m.field, `instance type ${m.instanceType} (${m.where}) is denied by ${by} (matches ${list(denied)})`);
    }
  }

  if (rules.allowSpot === false) {
    req.nodePools.forEach((p, i) => {
      if (p.capacityType === 'spot') {
        add(ViolationCodes.SpotNotAllowed, `nodePools[${i}].capacityType`, `node pool ${p.name} uses spot capacity, which ${by} does not allow`);
      }
    });
  }

  if (rules.maxNodesPerCluster !== undefined) {
    const cap = rules.maxNodesPerCluster;
    const cp = req.controlPlane.replicas;
    const desired = cp + sum(req.nodePools.map((p) => p.desired));
    const reachable = cp + sum(req.nodePools.map((p) => p.max));
    if (desired > cap) {
      add(
        ViolationCodes.NodesMaxExceeded,
        'nodePools',
        `the cluster would run ${desired} nodes (${cp} control plane + ${desired - cp} in node pools), more than the ${cap} allowed by ${by}`,
      );
    } else if (reachable > cap) {
      add(
        ViolationCodes.NodesMaxExceeded,
        'nodePools',
        `the node pools can autoscale to ${reachable - cp} nodes, so the cluster could reach ${reachable} nodes (with ${cp} control plane), more than the ${cap} allowed by ${by}`,
      );
    }
  }

  const cost = req.costEstimate.monthlyUsd;
  // A change that does not raise this cluster's cost is never blocked by a cost cap (see the header).
  const costGrows = req.current === undefined || req.current === null || cost > req.current.monthlyUsd;
  const clusterCap = rules.maxMonthlyCostPerClusterUsd;
  if (clusterCap !== undefined && costGrows && cost > clusterCap) {
    add(
      ViolationCodes.ClusterCostMaxExceeded,
      'nodePools',
      `the estimated cost of ${usd(cost)}/month exceeds the per-cluster limit of ${usd(clusterCap)}/month set by ${by}`,
    );
  }

  const clustersCap = rules.maxClustersPerWorkspace;
  if (clustersCap !== undefined && req.isNewCluster && req.workspaceUsage.clusters + 1 > clustersCap) {
    add(
      ViolationCodes.ClustersMaxExceeded,
      'name',
      `workspace ${req.workspaceId} already has ${req.workspaceUsage.clusters} cluster(s); ${by} allows at most ${clustersCap}`,
    );
  }

  const workspaceCap = rules.maxMonthlyCostPerWorkspaceUsd;
  if (workspaceCap !== undefined && costGrows) {
    const total = (cents(req.workspaceUsage.monthlyUsd) + cents(cost)) / 100;
    if (total > workspaceCap) {
      add(
        ViolationCodes.WorkspaceCostMaxExceeded,
        'nodePools',
        `workspace ${req.workspaceId} would cost ${usd(total)}/month (${usd(req.workspaceUsage.monthlyUsd)} for its other clusters + ${usd(cost)} for this one), over the ${usd(workspaceCap)}/month limit set by ${by}`,
      );
    }
  }

  if (rules.maxLifetimeHours !== undefined) {
    if (req.ttlHours === null) {
      add(ViolationCodes.TtlRequired, 'ttlHours', `${by} limits cluster lifetime to ${rules.maxLifetimeHours} hours, so ttlHours is required`);
    } else if (req.ttlHours > rules.maxLifetimeHours) {
      add(
        ViolationCodes.TtlMaxExceeded,
        'ttlHours',
        `ttlHours ${req.ttlHours} exceeds the maximum lifetime of ${rules.maxLifetimeHours} hours set by ${by}`,
      );
    }
  }
  return out;
}

/**
 * Anchored, case-sensitive glob match: `*` matches any run of characters (also empty, also dots), `?`
 * exactly one. Iterative with single-star backtracking, so it stays linear-ish on hostile patterns where a
 * glob-to-RegExp translation could backtrack exponentially.
 */
export function matchesGlob(glob: string, value: string): boolean {
  let g = 0;
  let v = 0;
  let star = -1;
  let starV = 0;
  while (v < value.length) {
    const c = glob[g];
    if (c === '*') {
      star = g;
      starV = v;
      g++;
    } else if (c !== undefined && (c === '?' || c === value[v])) {
      g++;
      v++;
    } else if (star !== -1) {
      // Let the last star swallow one more character and retry from there.
      g = star + 1;
      starV++;
      v = starV;
    } else {
      return false;
    }
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}

/**
 * Kubernetes version glob: `v` optional on either side, a whole `x`/`X` segment is `*`, and a glob with no
 * trailing `*` also matches as a segment prefix (`1.31` matches `v1.31.4`, not `v1.310.0`).
 */
export function matchesVersionGlob(glob: string, version: string): boolean {
  const pattern = stripV(glob)
    .split('.')
    .map((s) => (s === 'x' || s === 'X' ? '*' : s))
    .join('.');
  const v = stripV(version);
  return matchesGlob(pattern, v) || (!pattern.endsWith('*') && matchesGlob(`${pattern}.*`, v));
}

function stripV(s: string): string {
  return s.startsWith('v') || s.startsWith('V') ? s.slice(1) : s;
}

function list(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.join(', ');
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function cents(x: number): number {
  return Math.round(Number((x * 100).toPrecision(12)));
}

const usdFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
function usd(x: number): string {
  return usdFormat.format(x);
}
