/**
 * Environment of each function kind, as zod schemas. The CDK constructs type their `environment` prop with
 * the input type (a missing variable fails compilation) and handlers parse it once at cold start.
 */
import * as z from 'zod';

const Common = {
  SLIPWAY_TABLE_NAME: z.string().min(3),
  /** Absent in AWS; locally points the SDK at DynamoDB Local. */
  AWS_ENDPOINT_URL_DYNAMODB: z.url().optional(),
};

export const ApiEnv = z.object({
  ...Common,
  SLIPWAY_ADMIN_GROUP: z.string().min(1).default('slipway-admins'),
  SLIPWAY_PROVISION_STATE_MACHINE_ARN: z.string().min(1),
  SLIPWAY_UPDATE_STATE_MACHINE_ARN: z.string().min(1),
  SLIPWAY_DELETE_STATE_MACHINE_ARN: z.string().min(1),
});
export type ApiEnv = z.infer<typeof ApiEnv>;
export type ApiEnvInput = z.input<typeof ApiEnv>;

/** The accounts routes: the API's environment plus onboard-account, which an admin's retry starts. */
export const AccountsApiEnv = ApiEnv.extend({
  SLIPWAY_ONBOARD_STATE_MACHINE_ARN: z.string().min(1),
});
export type AccountsApiEnv = z.infer<typeof AccountsApiEnv>;
export type AccountsApiEnvInput = z.input<typeof AccountsApiEnv>;

/**
 * Bounds of the lifetime of a per-user kubeconfig's token, in minutes. Kubernetes refuses TokenRequests under
 * 10 minutes; a day caps how long a token outlives the loss of a group or membership (its bindings go at the
 * user's next request, the token only at its expiry or with its ServiceAccount).
 */
export const KUBECONFIG_TTL_LIMITS = { minMinutes: 10, maxMinutes: 1440, defaultMinutes: 60, defaultMaxMinutes: 480 } as const;

const TtlMinutes = z.coerce.number().int().min(KUBECONFIG_TTL_LIMITS.minMinutes).max(KUBECONFIG_TTL_LIMITS.maxMinutes);

/** The kubeconfig route: the API's environment plus the management cluster holding the kept access. */
export const KubeconfigApiEnv = ApiEnv.extend({
  /** Name of the management EKS cluster (endpoint and CA come from eks:DescribeCluster). */
  SLIPWAY_MANAGEMENT_CLUSTER_NAME: z.string().min(1),
  /** Lifetime of a kubeconfig's token when the caller asks for none (`?ttlMinutes=`). */
  SLIPWAY_KUBECONFIG_TTL_MINUTES: TtlMinutes.default(KUBECONFIG_TTL_LIMITS.defaultMinutes),
  /** The longest lifetime a caller may ask for. */
  SLIPWAY_KUBECONFIG_MAX_TTL_MINUTES: TtlMinutes.default(KUBECONFIG_TTL_LIMITS.defaultMaxMinutes),
}).refine((env) => env.SLIPWAY_KUBECONFIG_TTL_MINUTES <= env.SLIPWAY_KUBECONFIG_MAX_TTL_MINUTES, {
  path: ['SLIPWAY_KUBECONFIG_TTL_MINUTES'],
  message: 'must not exceed SLIPWAY_KUBECONFIG_MAX_TTL_MINUTES',
});
export type KubeconfigApiEnv = z.infer<typeof KubeconfigApiEnv>;
export type KubeconfigApiEnvInput = z.input<typeof KubeconfigApiEnv>;

/**
 * Step handlers (state-machine tasks). One schema for every step function: they share one IAM role per
 * workflow family, so they share the environment too.
 */
export const StepEnv = z.object({
  ...Common,
  SLIPWAY_EVENT_BUS_NAME: z.string().min(1),
  /** Name of the management EKS cluster (endpoint and CA come from eks:DescribeCluster). */
  SLIPWAY_MANAGEMENT_CLUSTER_NAME: z.string().min(1),
  /** Onboarding requests its baseline cluster through the same path as the API. */
  SLIPWAY_PROVISION_STATE_MACHINE_ARN: z.string().min(1),
  /**
   * Base URL of a CAPI provider mirror in clusterctl's local-repository layout
   * (`<base>/<provider-label>/<version>/<file>`); absent: each provider's GitHub release.
   */
  SLIPWAY_PROVIDER_REPOSITORY: z.url({ protocol: /^https$/ }).optional(),
});
export type StepEnv = z.infer<typeof StepEnv>;
export type StepEnvInput = z.input<typeof StepEnv>;

/** EventBridge-triggered handlers (functions/events/): account vending. */
export const EventsEnv = z.object({
  ...Common,
  SLIPWAY_EVENT_BUS_NAME: z.string().min(1),
  SLIPWAY_ONBOARD_STATE_MACHINE_ARN: z.string().min(1),
});
export type EventsEnv = z.infer<typeof EventsEnv>;
export type EventsEnvInput = z.input<typeof EventsEnv>;

/**
 * The CAPI-providers custom resource (functions/custom-resources/): installs and upgrades the providers in a
 * management cluster the stack creates. Everything that should trigger an Update is a resource property
 * (shared/config/capi-providers.ts), not an environment variable.
 */
export const CapiProvidersEnv = z.object({
  /** Name of the created management EKS cluster (endpoint and CA come from eks:DescribeCluster). */
  SLIPWAY_MANAGEMENT_CLUSTER_NAME: z.string().min(1),
});
export type CapiProvidersEnv = z.infer<typeof CapiProvidersEnv>;
export type CapiProvidersEnvInput = z.input<typeof CapiProvidersEnv>;

export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

/** Parses once; a bad environment is a deployment bug, so fail loudly at cold start. */
export function parseEnv<T extends z.ZodType>(schema: T, env: Record<string, string | undefined> = process.env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new EnvironmentError(`invalid environment: ${fields}`);
  }
  return result.data;
}

/**
 * The scheduled sweep (functions/events/sweep-clusters.ts): restarts in-flight operations whose start was
 * lost and deletes clusters past their TTL, so it may start every cluster workflow.
 */
export const SweepEnv = z.object({
  ...Common,
  SLIPWAY_PROVISION_STATE_MACHINE_ARN: z.string().min(1),
  SLIPWAY_UPDATE_STATE_MACHINE_ARN: z.string().min(1),
  SLIPWAY_DELETE_STATE_MACHINE_ARN: z.string().min(1),
});
export type SweepEnv = z.infer<typeof SweepEnv>;
export type SweepEnvInput = z.input<typeof SweepEnv>;

/**
 * The access-revocation processor (functions/events/revoke-kubeconfigs.ts): reads the table's revocation
 * outbox and reaches workload clusters through the access kept in the management cluster.
 */
export const RevokeAccessEnv = z.object({
  ...Common,
  /** Name of the management EKS cluster (endpoint and CA come from eks:DescribeCluster). */
  SLIPWAY_MANAGEMENT_CLUSTER_NAME: z.string().min(1),
});
export type RevokeAccessEnv = z.infer<typeof RevokeAccessEnv>;
export type RevokeAccessEnvInput = z.input<typeof RevokeAccessEnv>;
