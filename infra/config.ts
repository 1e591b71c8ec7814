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
  /** `import` an existing EKS management cluster (default); `create` is not implemented yet. */
  managementClusterMode: z.enum(['import', 'create']).default('import'),
  managementClusterName: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/).default('slipway-management'),
  /**
   * How the step role is authorised inside the management cluster: `cluster-admin` associates
   * AmazonEKSClusterAdminPolicy; `kubernetes-group` maps the role to `managementClusterGroup` only, and the
   * admin binds that group to the narrower ClusterRole documented in docs/operations.md.
   */
  managementClusterAccess: z.enum(['cluster-admin', 'kubernetes-group']).default('cluster-admin'),
  managementClusterGroup: z.string().min(1).default('slipway-capi'),
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
  if (result.data.managementClusterMode === 'create') {
    // Said plainly rather than half-built: see docs/operations.md "Management cluster".
    throw new ConfigError(
      'slipway:managementClusterMode=create is not implemented: create the EKS cluster with the CAPI providers first ' +
        '(docs/operations.md, "Management cluster") and import it by name',
    );
  }
  return result.data;
}
