/**
 * What every workflow step shares: its dependencies, loading the cluster the execution is about (and
 * refusing to act for a superseded execution), recording phase changes (store + history + event), and the
 * polling helper behind every Task/Choice/Wait loop.
 */
import type { ClusterWorkflowInput } from '../clusters/workflow-input.ts';
import type { Cluster, ClusterPhase } from '../domain/schemas.ts';
import type { KubeClient } from '../capi/client.ts';
import type { ProviderSource } from '../capi/providers/index.ts';
import type { EventPublisher } from '../events/publisher.ts';
import { clusterPhaseEvents } from '../events/schemas.ts';
import { isBehind } from './progress.ts';
import type { Logger } from '../log.ts';
import type { PriceCatalog } from '../policy/cost.ts';
import type { ClusterPatch, Stores } from '../store/ports.ts';

export interface WaitPolicy {
  /** First wait, seconds. */
  initialSeconds: number;
  /** Longest single wait, seconds. */
  maxSeconds: number;
  /** Polls before the step gives up with WaitTimeoutError. */
  maxAttempts: number;
}

export interface StepDeps {
  stores: Stores;
  events: EventPublisher;
  /** The management cluster (cached connection). */
  management(): Promise<KubeClient>;
  /**
   * The workload cluster of a Slipway cluster, reached with the kubeconfig Slipway keeps for it (see
   * shared/capi/access.ts): valid before and after the pivot.
   */
  workload(cluster: Cluster): Promise<KubeClient>;
  /** Where CAPI provider components are downloaded from (a mirror, or each provider's GitHub release). */
  providers: ProviderSource;
  prices: PriceCatalog;
  clock: () => Date;
  waits: WaitPolicy;
  log: Logger;
}

/** The execution's input plus what the ASL adds along the way. */
export interface StepInput extends ClusterWorkflowInput {
  wait?: WaitState;
  error?: { Error?: string; Cause?: string };
  failedStep?: string;
}

export interface WaitState {
  attempt: number;
  done: boolean;
  waitSeconds?: number;
}

/** The execution is for an older generation or another incarnation: do nothing more. */
export class StaleExecutionError extends Error {
  override readonly name = 'StaleExecutionError';
}

/** A wait ran out of attempts: a bounded failure, never a hang. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

/** The cluster record is gone (deleted out of band). */
export class ClusterGoneError extends Error {
  override readonly name = 'ClusterGoneError';
}

export const SYSTEM_ACTOR = { principal: 'system:slipway' };

/**
 * Polling: 3 s, growing ×1.5 to 15 s, 240 polls (about an hour) before a wait counts as failed. A short cap
 * keeps a cluster from sitting Ready-but-unnoticed for long (a poll costs three state transitions and one
 * Lambda call: cents per thousand clusters). The local runner scales Wait states by its time factor, so the
 * same numbers serve a one-minute demo.
 */
export const DEFAULT_WAITS: WaitPolicy = { initialSeconds: 3, maxSeconds: 15, maxAttempts: 240 };

export async function loadCluster(deps: StepDeps, input: ClusterWorkflowInput): Promise<Cluster> {
  const cluster = await deps.stores.clusters.get(input.workspaceId, input.name);
  if (!cluster || cluster.uid !== input.uid) throw new ClusterGoneError(`cluster ${input.workspaceId}/${input.name} (${input.uid}) no longer exists`);
  if (cluster.generation !== input.generation) {
    throw new StaleExecutionError(`execution for generation ${input.generation} superseded by generation ${cluster.generation}`);
  }
  return cluster;
}

/**
 * Records a phase (and step/message) change with its history record, then publishes the event. Writing
 * is skipped when nothing changes, but the event is published on every call: a step retried after a
 * failed PutEvents must still announce its phase (consumers get EventBridge's usual at-least-once).
 *
 * A step re-run over a cluster already further along (a resumed execution starts again from its first
 * state) records and publishes nothing: within a generation the phase only moves forward (see progress.ts).
 *
 * `announce` publishes the phase even when the record has it already: the API records `Updating` and
 * `Deleting` itself when it accepts the operation (it publishes nothing), so the workflow's first step
 * announces that change, from the phase given (when known).
 */
export async function recordPhase(
  deps: StepDeps,
  cluster: Cluster,
  change: { phase: ClusterPhase; step: string | null; message: string | null } & Omit<ClusterPatch, 'phase' | 'step' | 'message'>,
  opts: { publish?: boolean; announce?: { from?: ClusterPhase } } = {},
): Promise<Cluster> {
  const { phase, step, message, ...rest } = change;
  if (isBehind(cluster, step)) return cluster;
  const unchanged = cluster.phase === phase && cluster.step === step && cluster.message === message && Object.keys(rest).length === 0;
  const updated = unchanged ? cluster : await deps.stores.clusters.recordStatus(cluster.workspaceId, cluster.name, cluster.generation, change, SYSTEM_ACTOR);
  if (opts.publish !== false && (cluster.phase !== phase || unchanged || opts.announce !== undefined)) {
    const previous = opts.announce !== undefined && cluster.phase === phase ? opts.announce.from : cluster.phase;
    await deps.events.publish(clusterPhaseEvents(updated, previous, deps.clock()));
  }
  return updated;
}

/** Progress messages during waits: written only when they change and move forward, never an event. */
export async function recordProgress(deps: StepDeps, cluster: Cluster, step: string, message: string): Promise<void> {
  if ((cluster.step === step && cluster.message === message) || isBehind(cluster, step)) return;
  await deps.stores.clusters.recordStatus(cluster.workspaceId, cluster.name, cluster.generation, { step, message }, SYSTEM_ACTOR);
}

export interface Probe {
  done: boolean;
  /** What we are waiting for, shown on the cluster while waiting. */
  message: string;
}

/**
 * One poll of a Task/Choice/Wait loop: runs the probe, and when not done returns the next wait — exponential
 * from `initialSeconds`, capped at `maxSeconds`, scaled by the time factor — or throws WaitTimeoutError after
 * `maxAttempts` polls.
 */
export async function poll(deps: StepDeps, input: StepInput, step: string, probe: (cluster: Cluster) => Promise<Probe>, policy: Partial<WaitPolicy> = {}): Promise<WaitState> {
  const p = { ...deps.waits, ...policy };
  const cluster = await loadCluster(deps, input);
  const attempt = (input.wait?.attempt ?? 0) + 1;
  const result = await probe(cluster);
  if (result.done) return { attempt, done: true };
  if (attempt >= p.maxAttempts) throw new WaitTimeoutError(`${step}: gave up after ${attempt} checks: ${result.message}`);
  await recordProgress(deps, cluster, step, result.message);
  // Whole seconds: what a Wait state's SecondsPath accepts.
  const waitSeconds = Math.max(1, Math.round(Math.min(p.maxSeconds, p.initialSeconds * 1.5 ** (attempt - 1))));
  return { attempt, done: false, waitSeconds };
}

/** Builds the handler of one step over lazily built deps. */
export function stepHandler<O>(name: string, deps: () => StepDeps, fn: (input: StepInput, deps: StepDeps) => Promise<O>): (input: StepInput) => Promise<O> {
  let built: StepDeps | undefined;
  return async (input) => {
    built ??= deps();
    const started = Date.now();
    try {
      const out = await fn(input, built);
      built.log.debug('step done', { step: name, workspaceId: input.workspaceId, cluster: input.name, generation: input.generation, ms: Date.now() - started });
      return out;
    } catch (error) {
      built.log.warn('step failed', { step: name, workspaceId: input.workspaceId, cluster: input.name, generation: input.generation, error });
      throw error;
    }
  };
}
