/**
 * The simulated cloud shared by every virtual cluster. It knows nothing of Kubernetes: like EC2 it runs
 * instances tagged with the Machine they were launched for, boots them, terminates them. Because it outlives the
 * objects of any one virtual cluster, it is where pivot bugs become visible: two live instances for one Machine
 * (duplicated) or a running instance no live Machine claims (leaked).
 */
import { Rng } from './controllers/naming.ts';
import type { Timing } from './timing.ts';

export type InstanceState = 'pending' | 'running' | 'shutting-down' | 'terminated';

export interface LaunchRequest {
  /** Identity of the Machine (`namespace/cluster/machine`), kept across moves: the instance's owner tag. */
  machineKey: string;
  /** Identity of the Cluster (`namespace/cluster`). */
  clusterKey: string;
  /** Virtual cluster whose API server the instance's kubelet joins. */
  workloadCluster: string;
  controlPlane: boolean;
  version: string;
  /** Node name the kubelet registers with (the simulated provider names nodes after their Machine, as CAPD). */
  nodeName: string;
  instanceType?: string;
}

export interface Instance extends LaunchRequest {
  id: string;
  providerID: string;
  region: string;
  state: InstanceState;
  launchedAt: number;
  runningAt?: number;
  terminatedAt?: number;
  privateIp: string;
}

export interface CloudCounters {
  launched: number;
  pending: number;
  running: number;
  terminated: number;
  /** Live instances in excess of one per Machine. */
  duplicated: number;
  /** Running instances no live Machine claims, for longer than the grace period. */
  leaked: number;
}

/** Raised by `runInstances` when a fault asked the next launch to fail (as an EC2 capacity or quota error). */
export class InstanceLaunchError extends Error {
  override name = 'InstanceLaunchError';
  readonly code: string;
  constructor(message: string, code = 'InsufficientInstanceCapacity') {
    super(message);
    this.code = code;
  }
}

export class InstanceNotFoundError extends Error {
  override name = 'InstanceNotFoundError';
}

export type InstanceListener = (instance: Instance) => void;
/** Answers whether some live Machine, in any virtual cluster, claims the instance launched for `machineKey`. */
export type ClaimChecker = (machineKey: string, instance: Instance) => boolean;

const LIVE: ReadonlySet<InstanceState> = new Set(['pending', 'running']);

export class SimCloud {
  readonly region: string;
  readonly #timing: Timing;
  readonly #rng: Rng;
  readonly #instances = new Map<string, Instance>();
  readonly #byMachine = new Map<string, Set<string>>();
  readonly #listeners = new Set<InstanceListener>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #unclaimedSince = new Map<string, number>();
  #failGlobal = 0;
  readonly #failByCluster = new Map<string, number>();
  #extraBootMs = 0;
  readonly #extraBootByCluster = new Map<string, number>();
  #launched = 0;
  #claimChecker: ClaimChecker = () => true;
  #ipCounter = 10;

  constructor(timing: Timing, options: { seed?: number; region?: string } = {}) {
    this.#timing = timing;
    this.#rng = new Rng(options.seed ?? 1);
    this.region = options.region ?? 'sim-region-1';
  }

  onChange(listener: InstanceListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  setClaimChecker(checker: ClaimChecker): void {
    this.#claimChecker = checker;
  }

  /** Fault: the next `count` launches fail (for one Cluster identity `namespace/name`, or any). */
  failNextLaunches(count: number, clusterKey?: string): void {
    if (clusterKey === undefined) this.#failGlobal += count;
    else this.#failByCluster.set(clusterKey, (this.#failByCluster.get(clusterKey) ?? 0) + count);
  }

  /** Fault: every boot (of one Cluster identity `namespace/name`, or all) takes this much longer. */
  setExtraBootDelay(ms: number, clusterKey?: string): void {
    if (clusterKey === undefined) this.#extraBootMs = Math.max(0, ms);
    else this.#extraBootByCluster.set(clusterKey, Math.max(0, ms));
  }

  runInstance(request: LaunchRequest): Instance {
    const perCluster = this.#failByCluster.get(request.clusterKey) ?? 0;
    if (perCluster > 0) {
      this.#failByCluster.set(request.clusterKey, perCluster - 1);
      throw new InstanceLaunchError(
        `We currently do not have sufficient capacity in the Availability Zone you requested (injected fault for ${request.clusterKey})`,
      );
    }
    if (this.#failGlobal > 0) {
      this.#failGlobal--;
      throw new InstanceLaunchError(
        'We currently do not have sufficient capacity in the Availability Zone you requested (injected fault)',
      );
    }
    const id = `i-${this.#rng.hex(17)}`;
    const n = this.#ipCounter++;
    const instance: Instance = {
      ...request,
      id,
      providerID: `sim://${this.region}/${id}`,
      region: this.region,
      state: 'pending',
      launchedAt: Date.now(),
      privateIp: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    };
    this.#instances.set(instance.providerID, instance);
    let ids = this.#byMachine.get(request.machineKey);
    if (ids === undefined) {
      ids = new Set();
      this.#byMachine.set(request.machineKey, ids);
    }
    ids.add(instance.providerID);
    this.#launched++;
    const extra = this.#extraBootByCluster.get(request.clusterKey) ?? this.#extraBootMs;
    this.#later(this.#timing.instanceBootMs + extra, () => {
      if (instance.state !== 'pending') return;
      instance.state = 'running';
      instance.runningAt = Date.now();
      this.#emit(instance);
    });
    this.#emit(instance);
    return { ...instance };
  }

  /** The instance with this provider id (any state), as `DescribeInstances` by id would return it. */
  describe(providerID: string): Instance | undefined {
    const instance = this.#instances.get(providerID);
    return instance === undefined ? undefined : { ...instance };
  }

  /** Live instances tagged with this Machine identity (how CAPA finds an instance before it knows its id). */
  findLiveByMachine(machineKey: string): Instance[] {
    const out: Instance[] = [];
    for (const id of this.#byMachine.get(machineKey) ?? []) {
      const instance = this.#instances.get(id);
      if (instance !== undefined && LIVE.has(instance.state)) out.push({ ...instance });
    }
    return out;
  }

  list(filter: { clusterKey?: string; workloadCluster?: string; state?: InstanceState } = {}): Instance[] {
    const out: Instance[] = [];
    for (const instance of this.#instances.values()) {
      if (filter.clusterKey !== undefined && instance.clusterKey !== filter.clusterKey) continue;
      if (filter.workloadCluster !== undefined && instance.workloadCluster !== filter.workloadCluster) continue;
      if (filter.state !== undefined && instance.state !== filter.state) continue;
      out.push({ ...instance });
    }
    return out;
  }

  /** Idempotent, like `TerminateInstances`: terminating a terminated instance is not an error. */
  terminate(providerID: string): Instance {
    const instance = this.#instances.get(providerID);
    if (instance === undefined) throw new InstanceNotFoundError(`instance ${providerID} does not exist`);
    if (instance.state === 'pending' || instance.state === 'running') {
      instance.state = 'shutting-down';
      this.#emit(instance);
      this.#later(this.#timing.instanceTerminateMs, () => {
        instance.state = 'terminated';
        instance.terminatedAt = Date.now();
        this.#byMachine.get(instance.machineKey)?.delete(providerID);
        this.#unclaimedSince.delete(providerID);
        this.#emit(instance);
      });
    }
    return { ...instance };
  }

  /** Updates the leak clock of every running instance; called by `counters()` and periodically. */
  scanLeaks(now = Date.now()): void {
    for (const instance of this.#instances.values()) {
      if (instance.state !== 'running') continue;
      if (this.#claimChecker(instance.machineKey, instance)) this.#unclaimedSince.delete(instance.providerID);
      else if (!this.#unclaimedSince.has(instance.providerID)) this.#unclaimedSince.set(instance.providerID, now);
    }
  }

  counters(filter: { workloadCluster?: string } = {}): CloudCounters {
    const now = Date.now();
    this.scanLeaks(now);
    const c: CloudCounters = { launched: 0, pending: 0, running: 0, terminated: 0, duplicated: 0, leaked: 0 };
    const livePerMachine = new Map<string, number>();
    for (const instance of this.#instances.values()) {
      if (filter.workloadCluster !== undefined && instance.workloadCluster !== filter.workloadCluster) continue;
      c.launched++;
      if (instance.state === 'pending') c.pending++;
      else if (instance.state === 'running') c.running++;
      else if (instance.state === 'terminated') c.terminated++;
      if (LIVE.has(instance.state)) {
        livePerMachine.set(instance.machineKey, (livePerMachine.get(instance.machineKey) ?? 0) + 1);
      }
      const since = this.#unclaimedSince.get(instance.providerID);
      if (instance.state === 'running' && since !== undefined && now - since >= this.#timing.leakGraceMs) c.leaked++;
    }
    for (const n of livePerMachine.values()) if (n > 1) c.duplicated += n - 1;
    return c;
  }

  /** Every workload cluster that ever had an instance (for per-cluster counters). */
  workloadClusters(): string[] {
    return [...new Set([...this.#instances.values()].map((i) => i.workloadCluster))];
  }

  get totalLaunched(): number {
    return this.#launched;
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#listeners.clear();
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  #emit(instance: Instance): void {
    const snapshot = { ...instance };
    for (const listener of this.#listeners) listener(snapshot);
  }
}
