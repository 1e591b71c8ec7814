/**
 * Runs the simulated controllers of every virtual cluster hosted by the API server, and ties what crosses
 * cluster boundaries together: cloud instance events reach the SimMachines (wherever their Cluster lives now)
 * and the kubelets of their workload cluster; Node changes reach the Machines that own them; the cloud asks
 * which Machines, across all virtual clusters, still claim its instances.
 */
import type { ApiServer, VirtualCluster } from '../apiserver/server.ts';
import type { ClusterStore } from '../apiserver/store.ts';
import { kubeconfigText } from '../apiserver/kubeconfig.ts';
import type { Instance, SimCloud } from '../cloud.ts';
import type { Timing } from '../timing.ts';
import { helmChartProxyReconciler, helmReleaseProxyReconciler } from './addons.ts';
import { bootstrapReconciler } from './bootstrap.ts';
import { certManagerReconcilers, certManagerRouter } from './certmanager.ts';
import type { Client } from './client.ts';
import { clusterReconciler } from './cluster.ts';
import { clusterClassReconciler } from './clusterclass.ts';
import type { SimContext, WorkloadEndpoint } from './context.ts';
import { controlPlaneReconciler } from './controlplane.ts';
import { simClusterReconciler, simMachineReconciler } from './infrastructure.ts';
import { daemonSetReconciler, deploymentReconciler, nodeReadinessReconciler, nodeRegistrationReconciler, providerGateReconciler } from './kubelet.ts';
import { machineReconciler } from './machine.ts';
import { machineDeploymentReconciler, machineSetReconciler } from './machinedeployment.ts';
import { machineKey, type Rng } from './naming.ts';
import { standardRouters } from './routes.ts';
import { ClusterRuntime, type EventRouter, type Reconciler, type WatchEventLike } from './runtime.ts';
import { StoreClient } from './store-client.ts';
import type { Machine } from './types.ts';

export interface ManagerOptions {
  server: ApiServer;
  cloud: SimCloud;
  timing: Timing;
  rng: Rng;
  /** Base URL clients use; default: the API server's own URL. */
  publicUrl?: string;
  /** New workload clusters serve CAPI kinds only once their CRDs are installed, as a real cluster does (default). */
  crdGatedWorkloads?: boolean;
  log?: (message: string) => void;
}

export class Manager implements SimContext {
  readonly timing: Timing;
  readonly rng: Rng;
  readonly cloud: SimCloud;
  readonly #server: ApiServer;
  readonly #publicUrl: string;
  readonly #crdGatedWorkloads: boolean;
  readonly #runtimes = new Map<string, ClusterRuntime>();
  readonly #unsubscribe = new Map<string, () => void>();
  readonly #clusterHosts = new Map<string, Set<string>>();
  readonly #machineClaims = new Map<string, Set<string>>();
  readonly #workloadIdentity = new Map<string, { namespace: string; cluster: string }>();
  readonly #reconcilers: Reconciler[];
  readonly #routers: EventRouter[];
  readonly #log: (message: string) => void;
  #extraReconcileDelayMs = 0;
  readonly #perClusterDelay = new Map<string, number>();
  readonly #unreachable = new Set<string>();

  constructor(options: ManagerOptions) {
    this.#server = options.server;
    this.#publicUrl = options.publicUrl ?? options.server.url;
    this.#crdGatedWorkloads = options.crdGatedWorkloads ?? true;
    this.cloud = options.cloud;
    this.timing = options.timing;
    this.rng = options.rng;
    this.#log = options.log ?? (() => {});
    this.#reconcilers = [
      clusterReconciler(this),
      clusterClassReconciler(),
      controlPlaneReconciler(this),
      machineDeploymentReconciler(this),
      machineSetReconciler(this),
      machineReconciler(this),
      bootstrapReconciler(this),
      simClusterReconciler(this),
      simMachineReconciler(this),
      nodeRegistrationReconciler(this),
      nodeReadinessReconciler(this),
      deploymentReconciler(this),
      daemonSetReconciler(this),
      providerGateReconciler(),
      helmChartProxyReconciler(this),
      helmReleaseProxyReconciler(this),
      ...certManagerReconcilers(),
    ];
    this.#routers = [...standardRouters(this), certManagerRouter()];
    this.cloud.onChange((instance) => this.#onInstance(instance));
    this.cloud.setClaimChecker((key) => (this.#machineClaims.get(key)?.size ?? 0) > 0);
  }

  baseUrl(): string {
    return this.#publicUrl;
  }

  /** URL of a virtual cluster as clients reach it. */
  urlOf(name: string): string {
    return `${this.#publicUrl}/clusters/${name}`;
  }

  log(message: string): void {
    this.#log(message);
  }

  /** Starts the controllers of a virtual cluster (idempotent). */
  attach(vc: VirtualCluster): ClusterRuntime {
    const existing = this.#runtimes.get(vc.name);
    if (existing !== undefined) return existing;
    const client = new StoreClient(vc.store, 'capi-sim-controllers');
    const rt = new ClusterRuntime(
      vc.name,
      client,
      this.#reconcilers,
      this.#routers,
      { onError: (r, controller, key, err) => this.#log(`[sim ${r.name}] ${controller} ${key.namespace}/${key.name}: ${(err as Error).stack ?? String(err)}`) },
      this.timing.reconcileDelayMs,
    );
    rt.setExtraReconcileDelay(this.#perClusterDelay.get(vc.name) ?? this.#extraReconcileDelayMs);
    this.#runtimes.set(vc.name, rt);
    this.#unsubscribe.set(vc.name, vc.store.subscribe((event) => rt.onEvent(event as unknown as WatchEventLike)));
    rt.spawn('resync', rt.resync((r) => r.gate === 'kubelet'));
    rt.enqueue('providers', { namespace: '', name: 'gate' });
    // Instances that booted before this API server existed register their Nodes now.
    for (const instance of this.cloud.list({ workloadCluster: vc.name, state: 'running' })) {
      rt.enqueue('kubelet-register', { namespace: '', name: instance.providerID });
    }
    return rt;
  }

  detach(name: string): void {
    this.#unsubscribe.get(name)?.();
    this.#unsubscribe.delete(name);
    this.#runtimes.get(name)?.stop();
    this.#runtimes.delete(name);
    for (const hosts of this.#clusterHosts.values()) hosts.delete(name);
    for (const claims of this.#machineClaims.values()) claims.delete(name);
  }

  runtime(name: string): ClusterRuntime | undefined {
    return this.#runtimes.get(name);
  }

  runtimes(): ClusterRuntime[] {
    return [...this.#runtimes.values()];
  }

  hostsOf(clusterKey: string): ClusterRuntime[] {
    const out: ClusterRuntime[] = [];
    for (const name of this.#clusterHosts.get(clusterKey) ?? []) {
      const rt = this.#runtimes.get(name);
      if (rt !== undefined) out.push(rt);
    }
    return out;
  }

  /** Where the Machines of the Cluster served by workload virtual cluster `vc` live. */
  hostsOfWorkload(vc: string): { runtime: ClusterRuntime; namespace: string }[] {
    const id = this.#workloadIdentity.get(vc);
    if (id === undefined) return [];
    return this.hostsOf(`${id.namespace}/${id.cluster}`).map((runtime) => ({ runtime, namespace: id.namespace }));
  }

  trackCluster(rt: ClusterRuntime, clusterKey: string, deleted: boolean): void {
    let hosts = this.#clusterHosts.get(clusterKey);
    if (deleted) {
      hosts?.delete(rt.name);
      return;
    }
    if (hosts === undefined) {
      hosts = new Set();
      this.#clusterHosts.set(clusterKey, hosts);
    }
    hosts.add(rt.name);
  }

  trackMachine(rt: ClusterRuntime, machine: Machine, deleted: boolean): void {
    const key = machineKey(machine.metadata.namespace ?? '', machine.spec?.clusterName ?? '', machine.metadata.name);
    let claims = this.#machineClaims.get(key);
    if (deleted) {
      claims?.delete(rt.name);
      if (claims?.size === 0) this.#machineClaims.delete(key);
      return;
    }
    if (claims === undefined) {
      claims = new Set();
      this.#machineClaims.set(key, claims);
    }
    claims.add(rt.name);
  }

  async ensureWorkloadCluster(name: string, clusterKey: string): Promise<WorkloadEndpoint> {
    const [namespace = '', cluster = ''] = clusterKey.split('/');
    this.#workloadIdentity.set(name, { namespace, cluster });
    const vc = this.#server.getCluster(name) ?? this.#server.addCluster(name, { crdGated: this.#crdGatedWorkloads });
    this.attach(vc);
    return { name, url: this.urlOf(name), token: vc.token, ...this.#ca() };
  }

  #ca(): { caData?: string } {
    return this.#server.caData === undefined ? {} : { caData: this.#server.caData };
  }

  workloadCluster(name: string): WorkloadEndpoint | undefined {
    const vc = this.#server.getCluster(name);
    return vc === undefined ? undefined : { name, url: this.urlOf(name), token: vc.token, ...this.#ca() };
  }

  workloadClient(name: string): Client | undefined {
    return this.#runtimes.get(name)?.client;
  }

  async removeWorkloadCluster(name: string): Promise<void> {
    this.detach(name);
    this.#server.removeCluster(name);
    this.#workloadIdentity.delete(name);
  }

  /** Kubeconfig text for a virtual cluster (the format the `<cluster>-kubeconfig` Secret carries). */
  kubeconfigText(name: string, user: string): string | undefined {
    const vc = this.#server.getCluster(name);
    return vc === undefined ? undefined : kubeconfigText({ name: user, server: this.urlOf(name), token: vc.token, ...this.#ca() });
  }

  store(name: string): ClusterStore | undefined {
    return this.#server.getCluster(name)?.store;
  }

  /** Fault: extra delay before every reconcile, globally or in one virtual cluster. */
  setReconcileDelay(ms: number, cluster?: string): void {
    if (cluster === undefined) {
      this.#extraReconcileDelayMs = ms;
      for (const [name, rt] of this.#runtimes) rt.setExtraReconcileDelay(this.#perClusterDelay.get(name) ?? ms);
    } else {
      this.#perClusterDelay.set(cluster, ms);
      this.#runtimes.get(cluster)?.setExtraReconcileDelay(ms);
    }
  }

  reachable(name: string): boolean {
    return !(this.#unreachable.has(name) || this.#unreachable.has('*'));
  }

  /**
   * Records whether API faults make a virtual cluster unreachable (every request errors or is dropped), and
   * re-probes the Clusters it serves, as CAPI's ClusterCache health check would.
   */
  setUnreachable(name: string, unreachable: boolean): void {
    if (unreachable) this.#unreachable.add(name);
    else this.#unreachable.delete(name);
    const targets = name === '*' ? [...this.#workloadIdentity.keys()] : [name];
    for (const vc of targets) {
      for (const host of this.hostsOfWorkload(vc)) host.runtime.enqueue('cluster', { namespace: host.namespace, name: this.#workloadIdentity.get(vc)?.cluster ?? '' });
    }
  }

  /** Queued plus running reconciles, all clusters (0 = quiescent). */
  get pending(): number {
    let n = 0;
    for (const rt of this.#runtimes.values()) n += rt.pending;
    return n;
  }

  stop(): void {
    for (const name of [...this.#runtimes.keys()]) this.detach(name);
  }

  #onInstance(instance: Instance): void {
    const [namespace = '', , machine = ''] = instance.machineKey.split('/');
    for (const rt of this.hostsOf(instance.clusterKey)) rt.enqueue('simmachine', { namespace, name: machine });
    const workload = this.#runtimes.get(instance.workloadCluster);
    if (workload !== undefined) {
      if (instance.state === 'running') workload.enqueue('kubelet-register', { namespace: '', name: instance.providerID });
      else workload.enqueue('node', { namespace: '', name: instance.nodeName });
    }
  }
}
