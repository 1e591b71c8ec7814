/**
 * What the CAPI-providers custom resource's handlers share: their dependencies (the management cluster, the
 * providers' reconciler, a logger), the request/response shapes of the CDK provider framework, and one
 * reconcile pass. The handlers themselves (capi-providers.ts = onEvent, capi-providers-complete.ts =
 * isComplete) stay thin.
 */
import type { KubeClient } from '../../shared/capi/client.ts';
import { connectEks } from '../../shared/capi/connect.ts';
import {
  ProviderComponentsFetchError,
  ProviderComponentsInvalidError,
  type ProviderInstallOptions,
  ProviderSourceError,
  type ProviderStatus,
  ProviderVariablesMissingError,
  reconcileProviders,
} from '../../shared/capi/providers/index.ts';
import { type CapiProvidersProperties, CapiProvidersPropertiesError, parseCapiProvidersProperties } from '../../shared/config/capi-providers.ts';
import { CapiProvidersEnv, parseEnv } from '../../shared/config/env.ts';
import { createLogger, type Logger } from '../../shared/log.ts';

/** One reconcile pass: apply at most one component set, report what it waits for (shared/capi/providers). */
export type ReconcileProviders = (client: KubeClient, opts: ProviderInstallOptions) => Promise<ProviderStatus>;

export interface CapiProvidersDeps {
  clusterName: string;
  /** The management cluster (one cached connection per container). */
  management(): KubeClient;
  reconcile: ReconcileProviders;
  log: Logger;
}

/** The CDK provider framework's request to onEvent (a CloudFormation custom-resource event). */
export interface OnEventRequest {
  RequestType: 'Create' | 'Update' | 'Delete';
  LogicalResourceId: string;
  RequestId: string;
  StackId: string;
  ResourceType: string;
  ResourceProperties: Record<string, unknown>;
  OldResourceProperties?: Record<string, unknown>;
  /** Absent on Create. */
  PhysicalResourceId?: string;
}

export interface OnEventResponse {
  PhysicalResourceId?: string;
  Data?: Record<string, string>;
}

/** isComplete gets the onEvent request merged with onEvent's response. */
export interface IsCompleteRequest extends OnEventRequest {
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

export interface IsCompleteResponse {
  IsComplete: boolean;
  /** Only with IsComplete true (the framework refuses Data otherwise). */
  Data?: Record<string, string>;
}

/** One resource per cluster; stable across updates (an Update never replaces it). */
export const providersResourceId = (clusterName: string): string => `capi-providers/${clusterName}`;

/** The installer's options for the resource's properties (its variables: Slipway's own, with CAPA on EKS Pod Identity). */
export function installOptions(props: CapiProvidersProperties): ProviderInstallOptions {
  return {
    infrastructure: props.Infrastructure,
    addonHelm: props.AddonHelm,
    ...(props.ProviderRepository ? { repository: props.ProviderRepository } : {}),
  };
}

/** One reconcile pass for the resource's properties (which the framework hands both handlers). */
export async function reconcilePass(deps: CapiProvidersDeps, request: OnEventRequest): Promise<ProviderStatus> {
  const props = parseCapiProvidersProperties(request.ResourceProperties);
  const status = await deps.reconcile(deps.management(), installOptions(props));
  deps.log.info('providers pass', {
    requestType: request.RequestType,
    ready: status.ready,
    stage: status.stage,
    applied: status.applied,
    waitingFor: status.waitingFor,
  });
  return status;
}

/**
 * Errors no later pass can cure: the resource's properties, a components source that does not exist, a
 * components file clusterctl would refuse, a download refused for good (404, an insecure URL). Anything else —
 * the API server not answering yet, a 401 before a new access entry is honoured, a 5xx from GitHub — may pass.
 */
export function isPermanent(err: unknown): boolean {
  if (err instanceof ProviderComponentsFetchError) return !err.transient;
  return (
    err instanceof CapiProvidersPropertiesError ||
    err instanceof ProviderSourceError ||
    err instanceof ProviderComponentsInvalidError ||
    err instanceof ProviderVariablesMissingError
  );
}

/** Builds the dependencies once per container, on first use (a bad environment fails that first call). */
export function lazily(deps: () => CapiProvidersDeps): () => CapiProvidersDeps {
  let built: CapiProvidersDeps | undefined;
  return () => {
    built ??= deps();
    return built;
  };
}

export function awsCapiProvidersDeps(): CapiProvidersDeps {
  const env = parseEnv(CapiProvidersEnv);
  const region = process.env.AWS_REGION ?? 'us-east-1';
  // EKS token from the function's own role, which has a cluster-admin access entry.
  const management = connectEks({ clusterName: env.SLIPWAY_MANAGEMENT_CLUSTER_NAME, region });
  return {
    clusterName: env.SLIPWAY_MANAGEMENT_CLUSTER_NAME,
    management: () => management,
    reconcile: reconcileProviders,
    log: createLogger({ component: 'capi-providers' }),
  };
}
