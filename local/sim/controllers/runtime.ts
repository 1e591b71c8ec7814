/**
 * The controller runtime of one virtual cluster: a deduplicating, delayed work queue fed by store change events
 * (and by the simulated cloud), processed by reconcilers. No periodic resync over everything: a reconciler that
 * waits for something nobody will announce asks for a requeue, everything else is driven by events. This is what
 * lets 200 virtual clusters with 2,000 machines run on 2 cores.
 */
import type { Client } from './client.ts';
import type { KObject } from './types.ts';

/**
 * The component whose installation switches a reconciler on in a virtual cluster ('kubelet' = always on): a CAPI
 * provider, the topology feature, or one of cert-manager's three Deployments.
 */
export type ProviderGate =
  | 'kubelet'
  | 'cluster-api'
  | 'topology'
  | 'bootstrap-kubeadm'
  | 'control-plane-kubeadm'
  | 'infrastructure-sim'
  | 'addon-helm'
  | 'cert-manager'
  | 'cert-manager-cainjector'
  | 'cert-manager-webhook';

export interface Key {
  namespace: string;
  name: string;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export interface Reconciler {
  readonly name: string;
  readonly gate: ProviderGate;
  /** apiVersion + kind of the primary objects (used to resync when the gate opens). */
  readonly apiVersion: string;
  readonly kind: string;
  /** false when the primary "kind" is not a served kind (keys come from routers only, no resync). */
  readonly listable?: boolean;
  reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined>;
}

export interface WatchEventLike {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KObject;
}

/** Maps one change event to the reconciles it triggers (beyond the primary kind's own). */
export type EventRouter = (rt: ClusterRuntime, event: WatchEventLike) => void;

export interface RuntimeHooks {
  /** Logs an unexpected reconcile error (conflicts and not-found are expected and retried silently). */
  onError(rt: ClusterRuntime, controller: string, key: Key, err: unknown): void;
}

interface QueueItem {
  due: number;
  timer: NodeJS.Timeout;
}

export class ClusterRuntime {
  readonly name: string;
  readonly client: Client;
  readonly #reconcilers = new Map<string, Reconciler>();
  readonly #byKind = new Map<string, Reconciler[]>();
  readonly #queue = new Map<string, QueueItem>();
  readonly #inFlight = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #gates = new Set<ProviderGate>(['kubelet']);
  readonly #routers: EventRouter[] = [];
  readonly #hooks: RuntimeHooks;
  #reconcileDelayMs: number;
  #extraDelayMs = 0;
  #stopped = false;
  reconciles = 0;

  constructor(name: string, client: Client, reconcilers: Reconciler[], routers: EventRouter[], hooks: RuntimeHooks, reconcileDelayMs: number) {
    this.name = name;
    this.client = client;
    this.#hooks = hooks;
    this.#reconcileDelayMs = reconcileDelayMs;
    for (const r of reconcilers) {
      this.#reconcilers.set(r.name, r);
      const k = `${r.apiVersion}/${r.kind}`;
      const list = this.#byKind.get(k) ?? [];
      list.push(r);
      this.#byKind.set(k, list);
    }
    this.#routers.push(...routers);
  }

  /** Fault: every reconcile in this virtual cluster waits this much longer. */
  setExtraReconcileDelay(ms: number): void {
    this.#extraDelayMs = Math.max(0, ms);
  }

  gateOpen(gate: ProviderGate): boolean {
    return this.#gates.has(gate);
  }

  get openGates(): ProviderGate[] {
    return [...this.#gates];
  }

  /** Opens/closes gates; a gate that opens triggers a resync of its reconcilers' objects. */
  setGates(open: Iterable<ProviderGate>): void {
    const next = new Set<ProviderGate>(['kubelet', ...open]);
    const opened = [...next].filter((g) => !this.#gates.has(g));
    for (const g of [...this.#gates]) if (!next.has(g)) this.#gates.delete(g);
    for (const g of opened) this.#gates.add(g);
    if (opened.length > 0) this.resync((r) => opened.includes(r.gate)).catch((err: unknown) => this.#hooks.onError(this, 'resync', { namespace: '', name: '' }, err));
  }

  /** Enqueues every object of the selected reconcilers' kinds. */
  async resync(filter: (r: Reconciler) => boolean = () => true): Promise<void> {
    for (const r of this.#reconcilers.values()) {
      if (!filter(r) || r.listable === false) continue;
      const objects = await this.client.list<KObject>(r.apiVersion, r.kind);
      for (const o of objects) this.enqueue(r.name, { namespace: o.metadata.namespace ?? '', name: o.metadata.name });
    }
  }

  /** Handles one store change event: the primary kind's reconcilers, then the routers. */
  onEvent(event: WatchEventLike): void {
    if (this.#stopped) return;
    const o = event.object;
    const list = this.#byKind.get(`${o.apiVersion}/${o.kind}`);
    if (list !== undefined) {
      for (const r of list) this.enqueue(r.name, { namespace: o.metadata.namespace ?? '', name: o.metadata.name });
    }
    for (const route of this.#routers) route(this, event);
  }

  enqueue(controller: string, key: Key, delayMs?: number): void {
    if (this.#stopped) return;
    const r = this.#reconcilers.get(controller);
    if (r === undefined || !this.#gates.has(r.gate)) return;
    const id = `${controller}\u0000${key.namespace}\u0000${key.name}`;
    if (this.#inFlight.has(id) && (delayMs ?? 0) === 0) {
      this.#dirty.add(id);
      return;
    }
    const delay = (delayMs ?? this.#reconcileDelayMs) + this.#extraDelayMs;
    const due = Date.now() + delay;
    const existing = this.#queue.get(id);
    if (existing !== undefined) {
      if (existing.due <= due) return;
      clearTimeout(existing.timer);
    }
    const timer = setTimeout(() => {
      this.#queue.delete(id);
      void this.#run(id, r, key);
    }, delay);
    this.#queue.set(id, { due, timer });
  }

  async #run(id: string, r: Reconciler, key: Key): Promise<void> {
    if (this.#stopped || !this.#gates.has(r.gate)) return;
    if (this.#inFlight.has(id)) {
      this.#dirty.add(id);
      return;
    }
    this.#inFlight.add(id);
    let requeue: number | undefined;
    try {
      this.reconciles++;
      const result = await r.reconcile(this, key);
      this.#failures.delete(id);
      requeue = result?.requeueAfterMs;
    } catch (err) {
      const n = (this.#failures.get(id) ?? 0) + 1;
      this.#failures.set(id, n);
      const code = (err as { code?: unknown }).code;
      // Conflicts (stale resourceVersion) and races with deletions are normal for controllers: retry soon.
      // Others are logged on the first failure and then every 20th, so a persistent problem is visible, not noisy.
      if (code !== 409 && code !== 404 && (n === 1 || n % 20 === 0)) this.#hooks.onError(this, r.name, key, err);
      requeue = Math.min(5 * 2 ** Math.min(n, 8), 2_000);
    } finally {
      this.#inFlight.delete(id);
    }
    if (this.#stopped) return;
    if (this.#dirty.delete(id)) this.enqueue(r.name, key);
    if (requeue !== undefined) this.enqueue(r.name, key, requeue);
  }

  /** Runs a fire-and-forget task (event fan-out), reporting its failure instead of leaving it unhandled. */
  spawn(what: string, task: Promise<unknown>): void {
    task.catch((err: unknown) => {
      if (!this.#stopped) this.#hooks.onError(this, what, { namespace: '', name: '' }, err);
    });
  }

  /** Number of queued reconciles (for idle detection in tests and benchmarks). */
  get pending(): number {
    return this.#queue.size + this.#inFlight.size;
  }

  stop(): void {
    this.#stopped = true;
    for (const item of this.#queue.values()) clearTimeout(item.timer);
    this.#queue.clear();
  }

  get stopped(): boolean {
    return this.#stopped;
  }
}
