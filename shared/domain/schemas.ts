/**
 * The domain and the public API contract as zod schemas: request bodies are validated with them and the
 * OpenAPI document is generated from them, so the two cannot drift. Request schemas are strict (unknown
 * fields are rejected); stored entities are the request body plus server-owned fields.
 */
// The namespace import lets bundlers drop what is unused (with `{ z }` every locale ships: 443 KB instead of 83).
import * as z from 'zod';

// ---------- primitives ----------

/** DNS-1123 label: what Kubernetes accepts as a namespace or object name segment. */
export const Dns1123Label = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit');

/**
 * Cluster names are shorter than a label because CAPI derives object names from them
 * (`<cluster>-<pool>-<random>-<random>` must stay within 63 characters).
 */
export const ClusterName = Dns1123Label.max(40, 'cluster names are at most 40 characters (CAPI derives longer names from them)');

export const AwsAccountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
export const AwsRegion = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'must be a region name such as eu-west-1');
export const RoleArn = z
  .string()
  .regex(/^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN');
/** AWS's own rule for sts:AssumeRole ExternalId. */
export const ExternalId = z.string().min(2).max(1224).regex(/^[\w+=,.@:/-]+$/, 'must match [\\w+=,.@:/-]+');
/** EC2 instance type such as m6i.large or m7g.2xlarge. */
export const InstanceType = z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an instance type such as m6i.large');
/** Kubernetes release version as CAPI wants it: v<major>.<minor>.<patch>. */
export const KubernetesVersion = z.string().regex(/^v\d+\.\d+\.\d+$/, 'must look like v1.31.4');
export const SemVer = z
  .string()
  .regex(/^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/, 'must be a semantic version such as 1.16.5');
/** Cluster Stacks naming: <provider>-<stack>-<k8s major>-<k8s minor>-v<version>. */
export const ClusterClassName = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]+-[a-z0-9]+-\d+-\d+-v\d+$/, 'must follow <provider>-<stack>-<major>-<minor>-v<n>, e.g. aws-ferrol-1-31-v2');
export const Principal = z
  .string()
  .max(300)
  .regex(/^(user|group):[A-Za-z0-9._@+=:/-]{1,256}$/, 'must be user:<subject> or group:<name>');
/** Instance type glob in policies: letters, digits, ".", "-", "*", "?". */
export const InstanceTypeGlob = z.string().min(1).max(64).regex(/^[a-z0-9.*?-]+$/, 'must be an instance type glob such as m6i.*');
export const VersionGlob = z.string().min(1).max(32).regex(/^v?[0-9.*x?]+$/, 'must be a version glob such as v1.31.*');
export const Timestamp = z.string().describe('RFC 3339 date-time');
const Description = z.string().max(1024);

export const Ipv4Cidr = z.string().refine(isIpv4Cidr, 'must be an IPv4 CIDR such as 10.0.0.0/16 with no host bits set');

export function isIpv4Cidr(value: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!m) return false;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return false;
  const addr = ipv4ToInt(octets);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return (addr & ~mask) >>> 0 === 0;
}

function ipv4ToInt(octets: number[]): number {
  return octets.reduce((acc, o) => ((acc << 8) | o) >>> 0, 0);
}

/** [first, last] addresses of a valid CIDR as unsigned ints. */
export function cidrRange(cidr: string): [number, number] {
  const [ip = '', prefixText = '0'] = cidr.split('/');
  const prefix = Number(prefixText);
  const start = ipv4ToInt(ip.split('.').map(Number));
  const size = 2 ** (32 - prefix);
  return [start, start + size - 1];
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [a0, a1] = cidrRange(a);
  const [b0, b1] = cidrRange(b);
  return a0 <= b1 && b0 <= a1;
}

/** What the server adds to every admin-managed configuration item (optimistic locking on `version`). */
const ConfigItemFields = {
  id: Dns1123Label,
  createdAt: Timestamp,
  createdBy: z.string(),
  updatedAt: Timestamp,
  version: z.number().int(),
};

// ---------- cloud access ----------

export const CloudProvider = z.enum(['aws', 'sim']);

export const CreateCloudAccessBody = z
  .strictObject({
    id: Dns1123Label,
    description: Description.optional(),
    provider: CloudProvider,
    accountId: AwsAccountId,
    roleArn: RoleArn,
    externalId: ExternalId.optional(),
    regions: z.array(AwsRegion).min(1).max(40),
  })
  .superRefine((v, ctx) => {
    if (new Set(v.regions).size !== v.regions.length) ctx.addIssue({ code: 'custom', path: ['regions'], message: 'regions must be unique' });
    const arnAccount = /^arn:[^:]+:iam::(\d{12}):/.exec(v.roleArn)?.[1];
    if (arnAccount !== v.accountId) ctx.addIssue({ code: 'custom', path: ['roleArn'], message: 'roleArn must be in accountId' });
  })
  .meta({ id: 'CreateCloudAccessBody' });

export const VerificationStatus = z.enum(['Pending', 'Verified', 'Failed']);

export const CloudAccess = z
  .object({
    id: Dns1123Label,
    description: Description.optional(),
    provider: CloudProvider,
    accountId: AwsAccountId,
    roleArn: RoleArn,
    externalId: ExternalId.optional(),
    regions: z.array(AwsRegion),
    verification: z.object({
      status: VerificationStatus,
      lastVerifiedAt: Timestamp.optional(),
      message: z.string().optional(),
      /** What EC2 said is offered, per region (filled by verification). */
      offerings: z.record(z.string(), z.array(z.string())).optional(),
    }),
    createdAt: Timestamp,
    createdBy: z.string(),
    version: z.number().int(),
  })
  .meta({ id: 'CloudAccess' });

// ---------- network plan ----------

export const CniName = z.enum(['cilium', 'calico', 'aws-vpc-cni', 'flannel']);

export const NetworkPlanSpec = z.strictObject({
  description: Description.optional(),
  vpcCidr: Ipv4Cidr,
  podCidr: Ipv4Cidr,
  serviceCidr: Ipv4Cidr,
  cni: z.strictObject({ name: CniName, version: SemVer }),
  endpointAccess: z.enum(['public', 'private']),
});

function checkNetworkCidrs(v: z.infer<typeof NetworkPlanSpec>, ctx: z.RefinementCtx): void {
  // Overlapping pod/service/VPC ranges make routing ambiguous: kubeadm accepts them and the cluster breaks later.
  const pairs: Array<[keyof typeof v, keyof typeof v]> = [
    ['podCidr', 'serviceCidr'],
    ['podCidr', 'vpcCidr'],
    ['serviceCidr', 'vpcCidr'],
  ];
  for (const [a, b] of pairs) {
    const x = v[a];
    const y = v[b];
    if (typeof x === 'string' && typeof y === 'string' && isIpv4Cidr(x) && isIpv4Cidr(y) && cidrsOverlap(x, y)) {
      ctx.addIssue({ code: 'custom', path: [a], message: `${a} overlaps ${b}` });
    }
  }
}

export const CreateNetworkPlanBody = NetworkPlanSpec.extend({ id: Dns1123Label })
  .superRefine(checkNetworkCidrs)
  .meta({ id: 'CreateNetworkPlanBody' });
export const UpdateNetworkPlanBody = NetworkPlanSpec.extend({ version: z.number().int().optional() })
  .superRefine(checkNetworkCidrs)
  .meta({ id: 'UpdateNetworkPlanBody' });

export const NetworkPlan = NetworkPlanSpec.extend(ConfigItemFields).meta({ id: 'NetworkPlan' });

// ---------- cluster plan ----------

export const ControlPlaneReplicas = z.union([z.literal(1), z.literal(3), z.literal(5)]);
export const PodSecurityLevel = z.enum(['privileged', 'baseline', 'restricted']);
export const AccessRole = z.enum(['view', 'edit', 'admin', 'cluster-admin']);
export const PackageRef = z.strictObject({ name: Dns1123Label, version: SemVer });
/** An IdP group name, as it appears in the token's `groups` claim. */
export const GroupName = z.string().min(1).max(256).regex(/^[A-Za-z0-9._@+=:/-]+$/, 'must be an IdP group name');

const ClusterPlanFields = z.strictObject({
  description: Description.optional(),
  clusterClass: ClusterClassName,
  kubernetesVersion: KubernetesVersion,
  networkPlanId: Dns1123Label,
  controlPlane: z.strictObject({ replicas: ControlPlaneReplicas, instanceType: InstanceType }),
  packages: z.array(PackageRef).max(50).default([]),
  podSecurity: PodSecurityLevel.default('baseline'),
  defaultDenyNetwork: z.boolean().default(false),
  access: z.array(z.strictObject({ group: GroupName, role: AccessRole })).max(50).default([]),
  maxLifetimeHours: z.number().int().positive().max(87_600).optional(),
});

function checkClusterPlan(v: z.infer<typeof ClusterPlanFields>, ctx: z.RefinementCtx): void {
  // Cluster Stacks encode the Kubernetes minor in the class name; a mismatch would never reconcile.
  const m = /-(\d+)-(\d+)-v\d+$/.exec(v.clusterClass);
  const k = /^v(\d+)\.(\d+)\./.exec(v.kubernetesVersion);
  if (m && k && (m[1] !== k[1] || m[2] !== k[2])) {
    ctx.addIssue({
      code: 'custom',
      path: ['kubernetesVersion'],
      message: `kubernetesVersion ${v.kubernetesVersion} does not match ClusterClass ${v.clusterClass} (Kubernetes ${m[1]}.${m[2]})`,
    });
  }
  const names = v.packages.map((p) => p.name);
  if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['packages'], message: 'a package may appear once' });
}

/** Body of POST /v1/cluster-plans/{id}/revisions: a whole new revision. */
export const ClusterPlanRevisionBody = ClusterPlanFields.superRefine(checkClusterPlan).meta({ id: 'ClusterPlanRevisionBody' });
export const CreateClusterPlanBody = ClusterPlanFields.extend({ id: Dns1123Label })
  .superRefine(checkClusterPlan)
  .meta({ id: 'CreateClusterPlanBody' });

export type ClusterPlanSpec = z.infer<typeof ClusterPlanRevisionBody>;

/** One immutable revision of a plan. */
export const ClusterPlanRevision = ClusterPlanFields.extend({
  planId: Dns1123Label,
  revision: z.number().int().positive(),
  createdAt: Timestamp,
  createdBy: z.string(),
}).meta({ id: 'ClusterPlanRevision' });

/** The plan head: its latest revision number plus that revision's content. */
export const ClusterPlan = ClusterPlanFields.extend({
  id: Dns1123Label,
  revision: z.number().int().positive().describe('latest revision'),
  createdAt: Timestamp,
  createdBy: z.string(),
  updatedAt: Timestamp,
}).meta({ id: 'ClusterPlan' });

// ---------- compute template ----------

export const LabelKey = z
  .string()
  .max(316)
  .regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'must be a Kubernetes label key');
export const LabelValue = z
  .string()
  .max(63)
  .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'must be a Kubernetes label value');
export const Taint = z.strictObject({
  key: LabelKey,
  value: LabelValue.optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});
export const CapacityType = z.enum(['on-demand', 'spot']);

export const NodePool = z
  .strictObject({
    name: Dns1123Label.max(20, 'pool names are at most 20 characters (CAPI derives longer names from them)'),
    instanceType: InstanceType,
    min: z.number().int().min(0).max(1000),
    desired: z.number().int().min(0).max(1000),
    max: z.number().int().min(1).max(1000),
    capacityType: CapacityType.default('on-demand'),
    labels: z.record(LabelKey, LabelValue).default({}),
    taints: z.array(Taint).max(20).default([]),
  })
  .superRefine((p, ctx) => {
    if (p.min > p.desired) ctx.addIssue({ code: 'custom', path: ['desired'], message: `desired (${p.desired}) must be at least min (${p.min})` });
    if (p.desired > p.max) ctx.addIssue({ code: 'custom', path: ['desired'], message: `desired (${p.desired}) must be at most max (${p.max})` });
  });
export type NodePool = z.infer<typeof NodePool>;

const ComputeTemplateFields = z.strictObject({
  description: Description.optional(),
  nodePools: z.array(NodePool).min(1).max(20),
});

function checkPoolNames(v: { nodePools: Array<{ name: string }> }, ctx: z.RefinementCtx): void {
  const names = v.nodePools.map((p) => p.name);
  if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['nodePools'], message: 'pool names must be unique' });
}

export const CreateComputeTemplateBody = ComputeTemplateFields.extend({ id: Dns1123Label })
  .superRefine(checkPoolNames)
  .meta({ id: 'CreateComputeTemplateBody' });
export const UpdateComputeTemplateBody = ComputeTemplateFields.extend({ version: z.number().int().optional() })
  .superRefine(checkPoolNames)
  .meta({ id: 'UpdateComputeTemplateBody' });
export const ComputeTemplate = ComputeTemplateFields.extend(ConfigItemFields).meta({ id: 'ComputeTemplate' });

// ---------- package ----------

export const HelmSource = z.strictObject({
  repoURL: z
    .string()
    .max(2048)
    .regex(/^(https|oci):\/\/[^\s]+$/, 'must be an https:// or oci:// URL'),
  chart: z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9./]*[a-z0-9])?$/, 'must be a chart name'),
  version: SemVer,
  releaseName: Dns1123Label.max(53).optional(),
  namespace: Dns1123Label.optional(),
  values: z.record(z.string(), z.unknown()).default({}),
});

export const ManifestObject = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().optional() }),
});

export const CreatePackageBody = z
  .strictObject({
    name: Dns1123Label,
    version: SemVer,
    description: Description.optional(),
    helm: HelmSource.optional(),
    manifests: z.array(ManifestObject).min(1).max(200).optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.helm === undefined) === (v.manifests === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['helm'], message: 'a package is either a Helm chart ("helm") or manifests ("manifests"), exactly one' });
    }
  })
  .meta({ id: 'CreatePackageBody' });

export const Package = z
  .object({
    name: Dns1123Label,
    version: SemVer,
    description: Description.optional(),
    helm: HelmSource.optional(),
    manifests: z.array(ManifestObject).optional(),
    createdAt: Timestamp,
    createdBy: z.string(),
  })
  .meta({ id: 'Package' });

// ---------- provisioning policy ----------

export const PolicyRules = z
  .strictObject({
    allowedRegions: z.array(AwsRegion).max(50).optional(),
    allowedInstanceTypes: z.array(InstanceTypeGlob).max(100).optional(),
    deniedInstanceTypes: z.array(InstanceTypeGlob).max(100).optional(),
    maxNodesPerCluster: z.number().int().min(1).max(10_000).optional(),
    maxClustersPerWorkspace: z.number().int().min(0).max(10_000).optional(),
    maxMonthlyCostPerClusterUsd: z.number().min(0).max(10_000_000).optional(),
    maxMonthlyCostPerWorkspaceUsd: z.number().min(0).max(100_000_000).optional(),
    allowedPlans: z.array(Dns1123Label).max(100).optional(),
    allowedKubernetesVersions: z.array(VersionGlob).max(50).optional(),
    maxLifetimeHours: z.number().int().positive().max(87_600).optional(),
    allowSpot: z.boolean().optional(),
  })
  .meta({ id: 'PolicyRules' });
export type PolicyRules = z.infer<typeof PolicyRules>;

const PolicyFields = z.strictObject({
  description: Description.optional(),
  workspaceId: Dns1123Label.nullable().describe('null: applies to every workspace'),
  rules: PolicyRules,
});

export const CreatePolicyBody = PolicyFields.extend({ id: Dns1123Label }).meta({ id: 'CreatePolicyBody' });
export const UpdatePolicyBody = PolicyFields.extend({ version: z.number().int().optional() }).meta({ id: 'UpdatePolicyBody' });
export const ProvisioningPolicy = PolicyFields.extend(ConfigItemFields).meta({ id: 'ProvisioningPolicy' });
export type ProvisioningPolicy = z.infer<typeof ProvisioningPolicy>;

// ---------- workspace ----------

export const WorkspaceRole = z.enum(['owner', 'member']);
export const Member = z.strictObject({ principal: Principal, role: WorkspaceRole });

export const CreateWorkspaceBody = z
  .strictObject({
    id: Dns1123Label.max(40, 'workspace ids are at most 40 characters (they prefix Kubernetes namespaces)'),
    name: z.string().min(1).max(128),
    description: Description.optional(),
    members: z.array(Member).max(500).default([]),
    cloudAccessIds: z.array(Dns1123Label).max(50).default([]),
  })
  .superRefine((v, ctx) => {
    const ps = v.members.map((m) => m.principal);
    if (new Set(ps).size !== ps.length) ctx.addIssue({ code: 'custom', path: ['members'], message: 'a principal may appear once' });
  })
  .meta({ id: 'CreateWorkspaceBody' });

export const PutMemberBody = z.strictObject({ role: WorkspaceRole }).meta({ id: 'PutMemberBody' });

export const Workspace = z
  .object({
    id: Dns1123Label,
    name: z.string(),
    description: Description.optional(),
    members: z.array(Member),
    cloudAccessIds: z.array(Dns1123Label),
    createdAt: Timestamp,
    createdBy: z.string(),
    updatedAt: Timestamp,
    version: z.number().int(),
  })
  .meta({ id: 'Workspace' });

// ---------- cluster ----------

export const PoolOverride = z.strictObject({ name: Dns1123Label, desired: z.number().int().min(0).max(1000) });

export const CreateClusterBody = z
  .strictObject({
    name: ClusterName,
    plan: z.strictObject({ id: Dns1123Label, revision: z.number().int().positive().optional() }),
    computeTemplateId: Dns1123Label,
    region: AwsRegion,
    cloudAccessId: Dns1123Label,
    nodePools: z.array(PoolOverride).max(20).optional(),
    ttlHours: z.number().int().positive().max(87_600).optional(),
  })
  .superRefine((v, ctx) => {
    const names = (v.nodePools ?? []).map((p) => p.name);
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['nodePools'], message: 'a pool may appear once' });
  })
  .meta({ id: 'CreateClusterBody' });

export const UpdateClusterBody = z
  .strictObject({
    generation: z.number().int().positive().optional().describe('the generation the caller last saw; stale → 409'),
    nodePools: z.array(PoolOverride).min(1).max(20).optional(),
    kubernetesVersion: KubernetesVersion.optional(),
    plan: z.strictObject({ revision: z.number().int().positive() }).optional(),
  })
  .superRefine((v, ctx) => {
    const kinds = [v.nodePools, v.kubernetesVersion, v.plan].filter((x) => x !== undefined).length;
    if (kinds !== 1) {
      ctx.addIssue({ code: 'custom', path: [], message: 'exactly one kind of change: "nodePools", "kubernetesVersion" or "plan"' });
    }
  })
  .meta({ id: 'UpdateClusterBody' });

export const ClusterPhase = z.enum([
  'Requested',
  'Provisioning',
  'Pivoting',
  'Scaling',
  'InstallingAddons',
  'Ready',
  'Updating',
  'Deleting',
  'Deleted',
  'Failed',
]);
export type ClusterPhase = z.infer<typeof ClusterPhase>;
export const TERMINAL_PHASES: ReadonlySet<ClusterPhase> = new Set(['Ready', 'Deleted', 'Failed']);

export const CostLine = z.object({
  component: z.enum(['control-plane', 'node-pool']),
  name: z.string(),
  instanceType: z.string(),
  count: z.number().int(),
  hourlyUsdEach: z.number(),
  monthlyUsd: z.number(),
});
export const CostEstimate = z
  .object({
    monthlyUsd: z.number(),
    currency: z.literal('USD'),
    hoursPerMonth: z.number(),
    region: z.string(),
    breakdown: z.array(CostLine),
  })
  .meta({ id: 'CostEstimate' });
export type CostEstimate = z.infer<typeof CostEstimate>;

export const Violation = z
  .object({ code: z.string(), policyId: z.string(), field: z.string(), message: z.string() })
  .meta({ id: 'Violation' });

export const Evaluation = z
  .object({ allowed: z.boolean(), violations: z.array(Violation), costEstimate: CostEstimate })
  .meta({ id: 'Evaluation' });

export const ResolvedNodePool = NodePool;

export const Condition = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: Timestamp.optional(),
});

export const Operation = z.enum(['provision', 'update', 'delete']);

export const Cluster = z
  .object({
    uid: z.string().describe('unique per cluster incarnation (a name can be reused after deletion)'),
    workspaceId: Dns1123Label,
    name: ClusterName,
    plan: z.object({ id: Dns1123Label, revision: z.number().int() }),
    clusterClass: ClusterClassName,
    computeTemplateId: Dns1123Label,
    region: AwsRegion,
    cloudAccessId: Dns1123Label,
    kubernetesVersion: KubernetesVersion,
    controlPlane: z.object({ replicas: ControlPlaneReplicas, instanceType: InstanceType }),
    nodePools: z.array(ResolvedNodePool),
    phase: ClusterPhase,
    step: z.string().nullable(),
    message: z.string().nullable(),
    conditions: z.array(Condition),
    generation: z.number().int(),
    observedGeneration: z.number().int(),
    operation: Operation.nullable().describe('the operation in flight, if any'),
    executionId: z.string().nullable(),
    capiLocation: z.enum(['management', 'self']).nullable().describe('where the CAPI objects live'),
    costEstimate: CostEstimate,
    ttlHours: z.number().int().nullable(),
    expiresAt: Timestamp.nullable(),
    createdAt: Timestamp,
    createdBy: z.string(),
    updatedAt: Timestamp,
  })
  .meta({ id: 'Cluster' });
export type Cluster = z.infer<typeof Cluster>;

export const HistoryRecord = z
  .object({
    at: Timestamp,
    seq: z.string(),
    phase: ClusterPhase,
    step: z.string().nullable(),
    message: z.string().nullable(),
    generation: z.number().int(),
    actor: z.string(),
  })
  .meta({ id: 'HistoryRecord' });

export const Me = z
  .object({
    principal: z.string(),
    principals: z.array(z.string()),
    email: z.string().nullable(),
    admin: z.boolean(),
    workspaces: z.array(z.object({ id: z.string(), role: WorkspaceRole })),
  })
  .meta({ id: 'Me' });

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.looseObject({ field: z.string().optional(), message: z.string(), code: z.string().optional() })).optional(),
  })
  .meta({ id: 'Problem' });

export function pageOf<T extends z.ZodType>(item: T, id: string) {
  return z.object({ items: z.array(item), nextToken: z.string().nullable() }).meta({ id });
}

export type CloudAccess = z.infer<typeof CloudAccess>;
export type NetworkPlan = z.infer<typeof NetworkPlan>;
export type ClusterPlan = z.infer<typeof ClusterPlan>;
export type ClusterPlanRevision = z.infer<typeof ClusterPlanRevision>;
export type ComputeTemplate = z.infer<typeof ComputeTemplate>;
export type Package = z.infer<typeof Package>;
export type Workspace = z.infer<typeof Workspace>;
export type Member = z.infer<typeof Member>;
export type Violation = z.infer<typeof Violation>;
export type Evaluation = z.infer<typeof Evaluation>;
export type HistoryRecord = z.infer<typeof HistoryRecord>;
export type CreateClusterBody = z.infer<typeof CreateClusterBody>;
export type UpdateClusterBody = z.infer<typeof UpdateClusterBody>;
