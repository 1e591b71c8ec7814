/**
 * Deployment configuration: CDK context keys `slipway:<name>`, validated with zod, every one with a default
 * so that `cdk synth` works with no context at all. Values given with `-c key=value` arrive as strings, so
 * numbers, booleans and lists are coerced (lists: comma-separated or a JSON array).
 * docs/operations.md ("Deploying") documents each key; keep the two in step.
 */
import * as z from 'zod';

const list = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (t.startsWith('[')) return JSON.parse(t) as unknown;
  return t === '' ? [] : t.split(',').map((s) => s.trim());
}, z.array(z.string().min(1)));

const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const accountId = z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id');

export const PLACEHOLDER_ISSUER = 'https://issuer.example.invalid/';

/**
 * Kubernetes version of a created management cluster unless `managementKubernetesVersion` says otherwise: in
 * EKS standard support and within the range CAPI v1.14 supports for a management cluster.
 */
export const DEFAULT_MANAGEMENT_KUBERNETES_VERSION = '1.36';

export const SlipwayConfig = z.object({
  stackName: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,40}$/).default('Slipway'),
  /** OIDC issuer of the JWT authorizer; the placeholder synthesises but no token will ever validate. */
  issuer: z.url().default(PLACEHOLDER_ISSUER),
  /** Accepted `aud` values (the IdP's client ids). */
  audience: list.pipe(z.array(z.string()).min(1)).default(['slipway']),
  adminGroup: z.string().min(1).default('slipway-admins'),
  /** Browser origins allowed by CORS; empty (default) leaves CORS off. */
  corsOrigins: list.default([]),
  throttleRate: z.coerce.number().int().positive().default(50),
  throttleBurst: z.coerce.number().int().positive().default(100),
  /**
   * `import` an existing EKS management cluster by name (default), or `create` one in this stack: VPC, EKS,
   * nodes, CAPA's role and the CAPI providers (infra/management-cluster-create.ts, docs/operations.md).
   */
  managementClusterMode: z.enum(['import', 'create']).default('import'),
  /** The cluster imported, or the name given to the one created. */
  managementClusterName: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/).default('slipway-management'),
  /**
   * How the step role is authorised inside the management cluster: `cluster-admin` associates
   * AmazonEKSClusterAdminPolicy; `kubernetes-group` maps the role to `managementClusterGroup` only, and the
   * admin binds that group to the narrower ClusterRole documented in docs/operations.md.
   */
  managementClusterAccess: z.enum(['cluster-admin', 'kubernetes-group']).default('cluster-admin'),
  managementClusterGroup: z.string().min(1).default('slipway-capi'),
  /**
   * Base URL (https) of a mirror of the providers' release assets in clusterctl's local-repository layout
   * (`<base>/<provider-label>/<version>/<file>`); default: each provider's GitHub releases. Used for
   * every provider install: a created management cluster's and each workload cluster's.
   */
  providerRepository: z.url({ protocol: /^https$/ }).optional(),
  // ── create mode only (CREATE_ONLY_KEYS): given with `import` they are an error, not silently ignored ──
  /** Kubernetes minor version of the created cluster; raising it upgrades the control plane, then the nodes. */
  managementKubernetesVersion: z
    .string()
    .regex(/^1\.\d{2}$/, 'a Kubernetes minor version such as 1.36')
    .refine((v) => Number(v.split('.')[1]) >= 30, 'at least 1.30 (AL2023 node images, EKS Pod Identity)')
    .default(DEFAULT_MANAGEMENT_KUBERNETES_VERSION),
  /** EC2 instance type of the managed node group; Graviton types (m7g, c6gn, ...) get the arm64 image. */
  managementNodeInstanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an EC2 instance type such as m6i.large').default('m6i.large'),
  /** Nodes of the managed node group (2: the providers' webhooks survive one node's replacement). */
  managementNodeCount: z.coerce.number().int().min(1).max(20).default(2),
  /** NAT gateways of the created VPC: 1 (default, cheapest) up to one per availability zone (3). */
  managementNatGateways: z.coerce.number().int().min(1).max(3).default(1),
  /** An existing VPC to build the cluster in instead of creating one (with `managementSubnetIds`). */
  managementVpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'a VPC id (vpc-…)').optional(),
  /** Private subnets of `managementVpcId`, in two AZs at least, with a route out (NAT). */
  managementSubnetIds: list.pipe(z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'a subnet id (subnet-…)')).min(2, 'two subnets at least (EKS needs two AZs)')).optional(),
  /**
   * `public-and-private` (default): the API server answers on a public endpoint too, authenticated by IAM
   * (access entries) — the functions stay outside the VPC. `private`: private endpoint only, and the functions
   * that call Kubernetes run in the VPC's private subnets.
   */
  managementEndpointAccess: z.enum(['public-and-private', 'private']).default('public-and-private'),
  /** IAM roles/users given cluster-admin access entries on the created cluster (humans, break-glass). */
  managementAdminPrincipalArns: list
    .pipe(z.array(z.string().regex(/^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/, 'an IAM role or user ARN')))
    .default([]),
  eventBusName: z.string().regex(/^[A-Za-z0-9._-]{1,256}$/).default('slipway'),
  archiveRetentionDays: z.coerce.number().int().min(0).default(365),
  /** Accounts allowed to put events (e.g. `Account Vended`) on the Slipway bus. */
  eventPublisherAccounts: list.pipe(z.array(accountId)).default([]),
  /** Event buses (ARNs, other accounts included) that receive a copy of every Slipway status event. */
  eventConsumerBusArns: list.pipe(z.array(z.string().startsWith('arn:'))).default([]),
  /** Wire Control Tower's CreateManagedAccount (default bus) to account vending. */
  controlTowerVending: bool.default(true),
  /**
   * Name(s) of the role Slipway assumes in vended accounts (`arn:aws:iam::<account>:role/<name>`), comma
   * separated: every role name an onboarding rule uses must be listed.
   */
  cloudAccessRoleName: list.pipe(z.array(z.string().regex(/^[\w+=,.@-]{1,64}$/)).min(1)).default(['SlipwayProvisioner']),
  logRetentionDays: z.coerce
    .number()
    .refine((d) => LOG_RETENTION_DAYS.includes(d), `one of ${LOG_RETENTION_DAYS.join(', ')}`)
    .default(90),
  /** Log execution inputs/outputs of state machines (off: they carry cluster specs, never secrets, but still). */
  logExecutionData: bool.default(false),
  /** How often the sweeper runs (TTL deletes, lost workflow starts). */
  sweepIntervalMinutes: z.coerce.number().int().min(1).max(1440).default(5),
  /** Fail the synth when a workflow's step handler is missing (default: leave that workflow out, with a warning). */
  strictWorkflows: bool.default(false),
  /** Email subscribed to the alarm topic (confirm the subscription mail once). */
  alarmEmail: z.email().optional(),
  /** Customer-managed KMS key for the table; default is the AWS-managed key (see docs/operations.md). */
  tableKmsKeyArn: z.string().startsWith('arn:').optional(),
});
export type SlipwayConfig = z.infer<typeof SlipwayConfig>;

export const CONTEXT_PREFIX = 'slipway:';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads the `slipway:*` context keys through `get` (a construct's `node.tryGetContext`) and validates them.
 * Unknown `slipway:` keys are an error: a typo would otherwise silently fall back to a default.
 */
export function loadConfig(get: (key: string) => unknown, allKeys: readonly string[] = []): SlipwayConfig {
  const known = Object.keys(SlipwayConfig.shape);
  const unknown = allKeys.filter((k) => k.startsWith(CONTEXT_PREFIX) && !known.includes(k.slice(CONTEXT_PREFIX.length)));
  if (unknown.length > 0) throw new ConfigError(`unknown context keys: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const raw: Record<string, unknown> = {};
  for (const key of known) {
    const value = get(CONTEXT_PREFIX + key);
    if (value !== undefined) raw[key] = value;
  }
  const result = SlipwayConfig.safeParse(raw);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${CONTEXT_PREFIX}${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid context: ${fields}`);
  }
  const { managementVpcId, managementSubnetIds } = result.data;
  if ((managementVpcId === undefined) !== (managementSubnetIds === undefined)) {
    throw new ConfigError(`${CONTEXT_PREFIX}managementVpcId and ${CONTEXT_PREFIX}managementSubnetIds go together`);
  }
  if (managementVpcId !== undefined && raw.managementNatGateways !== undefined) {
    throw new ConfigError(`${CONTEXT_PREFIX}managementNatGateways applies to a created VPC, not to ${CONTEXT_PREFIX}managementVpcId`);
  }
  if (result.data.managementClusterMode === 'import') {
    // They would change nothing on an imported cluster: a deployer who sets one expects an effect.
    const misplaced = CREATE_ONLY_KEYS.filter((k) => raw[k] !== undefined);
    if (misplaced.length > 0) {
      throw new ConfigError(
        `${misplaced.map((k) => CONTEXT_PREFIX + k).join(', ')} only apply with ${CONTEXT_PREFIX}managementClusterMode=create`,
      );
    }
  }
  return result.data;
}

/** Keys that configure a created management cluster (meaningless for an imported one). */
export const CREATE_ONLY_KEYS = [
  'managementKubernetesVersion',
  'managementNodeInstanceType',
  'managementNodeCount',
  'managementNatGateways',
  'managementVpcId',
  'managementSubnetIds',
  'managementEndpointAccess',
  'managementAdminPrincipalArns',
] as const satisfies readonly (keyof SlipwayConfig)[];
