/**
 * Pure readers of what CAPI (v1beta2) and Kubernetes report, one per thing Slipway waits on. Each answers
 * `{done, message, failed?}`: `done` when the wait is over, a short progress message for the cluster record,
 * and `failed` (a reason) when waiting longer cannot help — the step turns it into a named error
 * (`throwIfFailed`). Readiness comes from conditions and counters, never from phase strings; a Machine's
 * `Failed` phase or failure reason is read only to detect a terminal failure.
 */
import { CapiFailedError, ClusterClassNotFoundError, MachineFailedError, TopologyRefusedError } from './errors.ts';
import { type Condition, isRecord, type KubeObject } from './types.ts';

export interface WaitResult {
  done: boolean;
  message: string;
  /** Terminal failure: stop waiting. */
  failed?: string;
  /** What failed, to choose the error (`machine` → MachineFailedError, `clusterClass`, `topology`). */
  failedKind?: 'machine' | 'clusterClass' | 'topology' | 'other';
}

interface ReplicaCounters {
  desiredReplicas?: number;
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  upToDateReplicas?: number;
}

interface ClusterStatus {
  initialization?: { infrastructureProvisioned?: boolean; controlPlaneInitialized?: boolean };
  conditions?: Condition[];
  controlPlane?: ReplicaCounters;
  workers?: ReplicaCounters;
  observedGeneration?: number;
}

export function conditionsOf(obj: KubeObject | null | undefined): Condition[] {
  const status = obj?.status;
  if (!isRecord(status) || !Array.isArray(status.conditions)) return [];
  return status.conditions.filter((c): c is Condition => isRecord(c) && typeof c.type === 'string' && typeof c.status === 'string');
}

export function condition(obj: KubeObject | null | undefined, type: string): Condition | undefined {
  return conditionsOf(obj).find((c) => c.type === type);
}

export function isTrue(obj: KubeObject | null | undefined, type: string): boolean {
  return condition(obj, type)?.status === 'True';
}

function statusOf<T>(obj: KubeObject | null | undefined): T {
  return (isRecord(obj?.status) ? obj.status : {}) as T;
}

function specOf<T>(obj: KubeObject | null | undefined): T {
  return (isRecord(obj?.spec) ? obj.spec : {}) as T;
}

function conditionText(obj: KubeObject | null | undefined, type: string): string {
  const c = condition(obj, type);
  if (c === undefined) return `${type} not reported yet`;
  return `${type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${firstLine(c.message)}` : ''}`;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

// ── machines ─────────────────────────────────────────────────────────────────────────────────────────────

interface MachineStatus {
  phase?: string;
  nodeRef?: { name?: string };
  failureReason?: string;
  failureMessage?: string;
  deprecated?: { v1beta1?: { failureReason?: string; failureMessage?: string } };
}

/** A terminal failure a Machine reports (phase Failed, a failure reason, or a condition whose reason says so). */
export function machineFailure(machine: KubeObject): string | undefined {
  const s = statusOf<MachineStatus>(machine);
  const reason = s.deprecated?.v1beta1?.failureReason ?? s.failureReason;
  const message = s.deprecated?.v1beta1?.failureMessage ?? s.failureMessage;
  if (reason !== undefined || s.phase === 'Failed') {
    return `Machine ${machine.metadata.name} failed${reason ? `: ${reason}` : ''}${message ? ` (${firstLine(message)})` : ''}`;
  }
  const bad = conditionsOf(machine).find((c) => c.status === 'False' && /(Failed|Failure)$/.test(c.reason ?? ''));
  if (bad !== undefined) return `Machine ${machine.metadata.name} failed: ${bad.type} ${bad.reason}${bad.message ? ` (${firstLine(bad.message)})` : ''}`;
  return undefined;
}

function firstMachineFailure(machines: readonly KubeObject[]): WaitResult | undefined {
  for (const m of machines) {
    if (m.metadata.deletionTimestamp !== undefined) continue;
    const failed = machineFailure(m);
    if (failed !== undefined) return { done: false, message: failed, failed, failedKind: 'machine' };
  }
  return undefined;
}

// ── topology ─────────────────────────────────────────────────────────────────────────────────────────────

/** Kubernetes' NotFound wording for the ClusterClass (`clusterclasses.cluster.x-k8s.io "name" not found`). */
const CLASS_NOT_FOUND = /clusterclass(?:es)?\.cluster\.x-k8s\.io "([^"]+)" not found/i;
/**
 * Validation refusals: Kubernetes field errors (`spec.topology.version: Invalid value: …`, `Forbidden: …`) and a
 * topology naming a worker class its ClusterClass does not define.
 */
const REFUSED = /: (?:Invalid value|Forbidden|Duplicate value|Required value|Unsupported value):|class "[^"]+" not found in ClusterClass/;

/**
 * A topology CAPI will never reconcile as it stands: `TopologyReconciled` False/ReconcileFailed, for the Cluster's
 * current generation, because its ClusterClass does not exist or because the topology is refused as invalid.
 * ReconcileFailed also carries passing errors (API conflicts, a runtime extension not answering) that CAPI
 * retries by itself, and other reasons are progress (ClusterUpgrading), a pause (a move) or a class still
 * being reconciled: only those two causes are terminal. A missing template of an existing class is not taken as
 * terminal either: classes and their templates are often applied together, so it may be there on the next poll.
 */
export function topologyFailure(cluster: KubeObject | null): WaitResult | undefined {
  if (cluster === null) return undefined;
  const c = condition(cluster, 'TopologyReconciled');
  if (c?.status !== 'False' || c.reason !== 'ReconcileFailed') return undefined;
  // Written for an earlier spec: it says nothing about the one just applied.
  const generation = cluster.metadata.generation;
  const observed = c.observedGeneration ?? statusOf<ClusterStatus>(cluster).observedGeneration;
  if (generation !== undefined && observed !== undefined && observed < generation) return undefined;
  const message = c.message ?? '';
  const missing = CLASS_NOT_FOUND.exec(message);
  if (missing !== null) {
    const failed = `ClusterClass ${missing[1]} does not exist (TopologyReconciled ReconcileFailed: ${firstLine(message)})`;
    return { done: false, message: failed, failed, failedKind: 'clusterClass' };
  }
  if (REFUSED.test(message)) {
    const failed = `the topology is refused (TopologyReconciled ReconcileFailed: ${firstLine(message)})`;
    return { done: false, message: failed, failed, failedKind: 'topology' };
  }
  return undefined;
}

// ── cluster ──────────────────────────────────────────────────────────────────────────────────────────────

/** Provision step 3: the first control-plane machine is up and the kubeconfig Secret can be used. */
export function controlPlaneInitialized(cluster: KubeObject | null, machines: readonly KubeObject[] = []): WaitResult {
  if (cluster === null) return { done: false, message: 'Cluster not found' };
  const failure = firstMachineFailure(machines) ?? topologyFailure(cluster);
  if (failure !== undefined) return failure;
  const s = statusOf<ClusterStatus>(cluster);
  if (s.initialization?.controlPlaneInitialized === true || isTrue(cluster, 'ControlPlaneInitialized')) {
    return { done: true, message: 'control plane initialized' };
  }
  if (s.initialization?.infrastructureProvisioned !== true && !isTrue(cluster, 'InfrastructureReady')) {
    return { done: false, message: `waiting for infrastructure: ${conditionText(cluster, 'InfrastructureReady')}` };
  }
  return { done: false, message: `waiting for the control plane: ${conditionText(cluster, 'ControlPlaneInitialized')}` };
}

export interface ReplicaTarget {
  controlPlane: number;
  /** Sum of the workers' replicas over every MachineDeployment. */
  workers: number;
}

/** The Cluster is Available with exactly the requested replicas, all ready, available and up to date. */
export function clusterAvailable(cluster: KubeObject | null, want: ReplicaTarget, machines: readonly KubeObject[] = []): WaitResult {
  if (cluster === null) return { done: false, message: 'Cluster not found' };
  const failure = firstMachineFailure(machines) ?? topologyFailure(cluster);
  if (failure !== undefined) return failure;
  const s = statusOf<ClusterStatus>(cluster);
  const generation = cluster.metadata.generation;
  if (generation !== undefined && s.observedGeneration !== undefined && s.observedGeneration < generation) {
    return { done: false, message: 'waiting for the Cluster controller to observe the change' };
  }
  const problems: string[] = [];
  const check = (what: string, counters: ReplicaCounters | undefined, wanted: number) => {
    const c = counters ?? {};
    const fields: (keyof ReplicaCounters)[] = ['desiredReplicas', 'replicas', 'readyReplicas', 'availableReplicas', 'upToDateReplicas'];
    // Zero workers may be reported as absent counters.
    if (wanted === 0 && fields.every((f) => (c[f] ?? 0) === 0)) return;
    const off = fields.filter((f) => c[f] !== wanted);
    if (off.length > 0) problems.push(`${what} ${c.availableReplicas ?? 0}/${wanted} available, ${c.upToDateReplicas ?? 0} up to date, ${c.replicas ?? 0} replicas`);
  };
  check('control plane', s.controlPlane, want.controlPlane);
  check('workers', s.workers, want.workers);
  if (!isTrue(cluster, 'Available')) problems.unshift(conditionText(cluster, 'Available'));
  for (const busy of ['RollingOut', 'ScalingUp', 'ScalingDown']) if (isTrue(cluster, busy)) problems.push(`${busy}`);
  if (problems.length === 0) return { done: true, message: `available: control plane ${want.controlPlane}, workers ${want.workers}` };
  return { done: false, message: problems.join('; ') };
}

/**
 * Update precondition: nothing is rolling out or scaling (CAPI refuses a topology change while the control
 * plane or workers are still upgrading), every replica up to date, no machine deleting.
 */
export function topologyStable(cluster: KubeObject | null, machines: readonly KubeObject[] = []): WaitResult {
  if (cluster === null) return { done: false, message: 'Cluster not found' };
  const failure = firstMachineFailure(machines) ?? topologyFailure(cluster);
  if (failure !== undefined) return failure;
  const s = statusOf<ClusterStatus>(cluster);
  const generation = cluster.metadata.generation;
  const busy: string[] = [];
  if (generation !== undefined && s.observedGeneration !== undefined && s.observedGeneration < generation) busy.push('last change not observed yet');
  for (const c of ['RollingOut', 'ScalingUp', 'ScalingDown']) if (isTrue(cluster, c)) busy.push(c);
  const behind = (what: string, counters: ReplicaCounters | undefined) => {
    if (counters !== undefined && (counters.upToDateReplicas ?? 0) < (counters.replicas ?? 0)) busy.push(`${what} ${counters.upToDateReplicas ?? 0}/${counters.replicas} up to date`);
  };
  behind('control plane', s.controlPlane);
  behind('workers', s.workers);
  const deleting = machines.filter((m) => m.metadata.deletionTimestamp !== undefined).length;
  if (deleting > 0) busy.push(`${deleting} machine(s) deleting`);
  if (busy.length === 0) return { done: true, message: 'no rollout in progress' };
  return { done: false, message: busy.join('; ') };
}

/**
 * After an upgrade or a class rebase: every Machine runs `version`, has its node, is Ready and up to date,
 * and none is left over (exactly `count` machines, none deleting).
 */
export function machinesUpToDate(machines: readonly KubeObject[], version: string, count: number): WaitResult {
  const failure = firstMachineFailure(machines);
  if (failure !== undefined) return failure;
  const deleting = machines.filter((m) => m.metadata.deletionTimestamp !== undefined).length;
  const live = machines.filter((m) => m.metadata.deletionTimestamp === undefined);
  const behind = live.filter((m) => specOf<{ version?: string }>(m).version !== version).length;
  const notReady = live.filter((m) => statusOf<MachineStatus>(m).nodeRef === undefined || !(isTrue(m, 'Ready') || isTrue(m, 'Available'))).length;
  const outdated = live.filter((m) => condition(m, 'UpToDate')?.status === 'False').length;
  if (deleting === 0 && live.length === count && behind === 0 && notReady === 0 && outdated === 0) {
    return { done: true, message: `${count} machines at ${version}` };
  }
  return {
    done: false,
    message: `${live.length - behind}/${count} machines at ${version}, ${notReady} not ready, ${outdated} not up to date, ${deleting} deleting`,
  };
}

/** Delete step: the Cluster and every Machine of it are gone. */
export function clusterGone(cluster: KubeObject | null, machines: readonly KubeObject[]): WaitResult {
  if (cluster === null && machines.length === 0) return { done: true, message: 'cluster deleted' };
  const what = cluster === null ? 'Cluster deleted' : `Cluster ${cluster.metadata.deletionTimestamp === undefined ? 'not deleting yet' : 'deleting'}`;
  return { done: false, message: `${what}, ${machines.length} machines left` };
}

// ── nodes and workloads in the workload cluster ──────────────────────────────────────────────────────────

/** Provision step 4: at least `min` Nodes registered and every Node Ready (the CNI runs). */
export function nodesReady(nodes: readonly KubeObject[], min = 1): WaitResult {
  const ready = nodes.filter((n) => isTrue(n, 'Ready')).length;
  if (nodes.length >= min && ready === nodes.length) return { done: true, message: `${ready} node(s) Ready` };
  if (nodes.length === 0) return { done: false, message: 'no Node registered yet' };
  const first = nodes.find((n) => !isTrue(n, 'Ready'));
  return { done: false, message: `${ready}/${Math.max(nodes.length, min)} nodes Ready${first ? `; ${first.metadata.name}: ${conditionText(first, 'Ready')}` : ''}` };
}

/** Available at its current generation (provision step 5 waits for every provider Deployment to be). */
export function deploymentAvailable(deployment: KubeObject | null): boolean {
  if (deployment === null) return false;
  const s = statusOf<{ observedGeneration?: number }>(deployment);
  const generation = deployment.metadata.generation;
  if (generation !== undefined && s.observedGeneration !== undefined && s.observedGeneration < generation) return false;
  return isTrue(deployment, 'Available');
}

/** CAAPH's label on a HelmReleaseProxy naming its HelmChartProxy. */
export const LABEL_HELM_CHART_PROXY = 'helmchartproxy.addons.cluster.x-k8s.io/name';

/**
 * Provision step 8: one HelmReleaseProxy per expected chart proxy, each `HelmReleaseReady`. A failed Helm
 * install is reported but not terminal: CAAPH retries it (a missing namespace or CRD often resolves), and the
 * wait is bounded by the state machine.
 */
export function helmReleasesReady(releases: readonly KubeObject[], expectedChartProxies: readonly string[]): WaitResult {
  const waiting: string[] = [];
  for (const proxy of expectedChartProxies) {
    const release = releases.find((r) => r.metadata.labels?.[LABEL_HELM_CHART_PROXY] === proxy || ownedBy(r, 'HelmChartProxy', proxy));
    if (release === undefined) {
      waiting.push(`${proxy} (no release yet)`);
      continue;
    }
    const s = statusOf<{ status?: string }>(release);
    const ready = condition(release, 'HelmReleaseReady') ?? condition(release, 'Ready');
    if (ready?.status === 'True') continue;
    const why = s.status === 'failed' ? `failed${ready?.message ? `: ${firstLine(ready.message)}` : ''}` : (s.status ?? ready?.reason ?? 'pending');
    waiting.push(`${proxy} (${why})`);
  }
  if (waiting.length === 0) return { done: true, message: `${expectedChartProxies.length} Helm release(s) Ready` };
  return { done: false, message: `waiting for ${waiting.join(', ')}` };
}

function ownedBy(obj: KubeObject, kind: string, name: string): boolean {
  return (obj.metadata.ownerReferences ?? []).some((r) => r.kind === kind && r.name === name);
}

/** Throws the named error a failed wait stands for (MachineFailedError for machines, …); returns otherwise. */
export function throwIfFailed(result: WaitResult, what: string): void {
  if (result.failed === undefined) return;
  if (result.failedKind === 'machine') throw new MachineFailedError(`${what}: ${result.failed}`);
  if (result.failedKind === 'clusterClass') throw new ClusterClassNotFoundError(`${what}: ${result.failed}`);
  if (result.failedKind === 'topology') throw new TopologyRefusedError(`${what}: ${result.failed}`);
  throw new CapiFailedError(`${what}: ${result.failed}`);
}
