/**
 * Named errors of the CAPI driver. Step Functions match `error.name`, so each class has its own stable name:
 * `KubeTransientError` is the one the state machines Retry; the others are Caught (or handled by the caller,
 * e.g. a 404 read becomes `null`). Messages carry the verb and the object (`Kind ns/name`), never contents.
 */
import { describeRef, type ObjectRef } from './types.ts';

export interface KubeErrorContext {
  verb: string;
  ref?: ObjectRef | undefined;
  /** HTTP status, 0 when no answer came (connection reset, timeout). */
  code: number;
  /** `Status.reason` from the server (`NotFound`, `AlreadyExists`, `Conflict`, …). */
  reason?: string | undefined;
  /** Which cluster the client talks to (a name, never a URL with credentials). */
  cluster?: string | undefined;
}

/** Any failed Kubernetes API call. */
export class KubeApiError extends Error {
  override readonly name: string = 'KubeApiError';
  readonly code: number;
  readonly reason: string | undefined;
  readonly verb: string;
  readonly ref: ObjectRef | undefined;
  readonly cluster: string | undefined;

  constructor(message: string, context: KubeErrorContext, options?: { cause?: unknown }) {
    const where = context.ref === undefined ? '' : ` ${describeRef(context.ref)}`;
    const on = context.cluster === undefined ? '' : ` on ${context.cluster}`;
    super(`${context.verb}${where}${on}: ${message}`, options);
    this.code = context.code;
    this.reason = context.reason;
    this.verb = context.verb;
    this.ref = context.ref;
    this.cluster = context.cluster;
  }
}

/** 5xx, 429, timeouts, connection resets: worth retrying (the ASL Retries this name). */
export class KubeTransientError extends KubeApiError {
  override readonly name = 'KubeTransientError';
}

export class KubeNotFoundError extends KubeApiError {
  override readonly name = 'KubeNotFoundError';
}

export class KubeAlreadyExistsError extends KubeApiError {
  override readonly name = 'KubeAlreadyExistsError';
}

/** Stale resourceVersion or a server-side-apply field conflict. */
export class KubeConflictError extends KubeApiError {
  override readonly name = 'KubeConflictError';
}

/** The server does not serve this apiVersion/kind (CRD not installed). */
export class KubeKindNotServedError extends KubeApiError {
  override readonly name = 'KubeKindNotServedError';
}

/** A kubeconfig (file, object or `<cluster>-kubeconfig` Secret) is missing or unusable. */
export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

/** The workload cluster's `<cluster>-kubeconfig` Secret does not exist (yet). */
export class KubeconfigNotFoundError extends Error {
  override readonly name = 'KubeconfigNotFoundError';
}

/**
 * A move cannot start: the source or the target is not ready for it. Each problem is listed;
 * `machinesWithoutNode` names the Machines among them that have no node yet (still booting: the one problem
 * that time mends by itself).
 */
export class MovePreflightError extends Error {
  override readonly name = 'MovePreflightError';
  constructor(
    readonly problems: readonly string[],
    readonly machinesWithoutNode: readonly string[] = [],
  ) {
    super(`move preflight failed: ${problems.join('; ')}`);
  }
}

/** Objects still carry `clusterctl.cluster.x-k8s.io/block-move` after the wait: retry the step later. */
export class MoveBlockedError extends Error {
  override readonly name = 'MoveBlockedError';
}

/** A move sub-step failed for a non-transient reason (context in the message, the API error as cause). */
export class MoveError extends Error {
  override readonly name = 'MoveError';
}

/** A Machine (or its infrastructure) reported a terminal failure. */
export class MachineFailedError extends Error {
  override readonly name = 'MachineFailedError';
}

/**
 * The Cluster's ClusterClass does not exist where its topology is reconciled (CAPI accepts such a Cluster with
 * a warning and reports `TopologyReconciled` False/ReconcileFailed): nothing gets built until someone installs
 * the class, so waiting cannot help.
 */
export class ClusterClassNotFoundError extends Error {
  override readonly name = 'ClusterClassNotFoundError';
}

/** CAPI refuses the Cluster's topology as invalid (a validation error): it stays refused until the spec changes. */
export class TopologyRefusedError extends Error {
  override readonly name = 'TopologyRefusedError';
}

/** Something Slipway waits on reported a terminal failure other than a machine (e.g. a Helm release). */
export class CapiFailedError extends Error {
  override readonly name = 'CapiFailedError';
}
