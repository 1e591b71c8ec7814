/**
 * The CAPI management-cluster simulator: an API server hosting virtual clusters (the `management` cluster and
 * one per workload cluster), the simulated CAPI controllers running in each of them, and the simulated cloud.
 *
 * At start the management cluster has CAPI core (ClusterTopology on), the kubeadm bootstrap and control-plane
 * providers, the simulated infrastructure provider and CAAPH installed (Provider inventory objects and
 * Available controller Deployments), two Ready worker Nodes with a CNI, and the ClusterClasses of
 * `classes.ts` in namespace `default` — reference them as `spec.topology.classRef {name, namespace:
 * "default"}`, worker class `default-worker`.
 *
 * The simulator also serves a provider release repository at `<url>/releases/<provider-label>/<version>/<file>`
 * (clusterctl's local-repository layout, no authentication; see releases.ts): cert-manager's static manifest and
 * each provider's components + metadata.yaml. Applied to a cluster (variables substituted, clusterctl's labels
 * and inventory added) they work there: the simulated cert-manager (controllers/certmanager.ts) issues the
 * webhook certificates the provider Deployments mount, and the controllers start once those are Available.
 *
 * Workload clusters are reached through their `<cluster>-kubeconfig` Secret (key `value`), whose server is
 * `<url>/clusters/<namespace>--<cluster>` with a bearer token for user `<cluster>-admin`.
 *
 * Behaviour worth knowing (details in controllers/): Nodes stay NotReady until a CNI DaemonSet exists in the
 * workload's kube-system (`k8s-app` ∈ cilium, calico-node, aws-node, kube-flannel, antrea-agent, weave-net, or
 * annotation `sim.slipway.dev/cni: "true"`); controller Deployments become Available only on a schedulable
 * Ready node (control-plane nodes are tainted); a virtual cluster's CAPI controllers run only once the
 * providers' inventory objects and Available Deployments exist there (topology also needs
 * `ClusterTopology=true` in the core Deployment's feature gates); after a `clusterctl move` the target adopts
 * the running instances by provider id, and `counters()[vc].instances` reports duplicated and leaked ones.
 */
import type { Kubeconfig } from './apiserver/kubeconfig.ts';
import { kubeconfigFor, kubeconfigText } from './apiserver/kubeconfig.ts';
import { type ApiServer, type ClusterCounters, createApiServer, type Faults } from './apiserver/server.ts';
import type { KubeObject } from './apiserver/store.ts';
import { allClusterClassObjects } from './classes.ts';
import { selfSignedCertificate } from './tls.ts';
import { type CloudCounters, SimCloud } from './cloud.ts';
import { Manager } from './controllers/manager.ts';
import { clusterKey, Rng } from './controllers/naming.ts';
import { providerComponents } from './controllers/providers.ts';
import { RELEASES_PREFIX, releaseFile } from './releases.ts';
import { type ProfileName, type Timing, timingFor } from './timing.ts';

export const MANAGEMENT_CLUSTER = 'management';

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  profile?: ProfileName;
  /** Multiplies every delay of the profile (0.5 = twice as fast). */
  timeFactor?: number;
  /** Seeds generated names and instance ids. */
  seed?: number;
  /** Overrides single delays of the profile (after scaling). */
  timing?: Partial<Timing>;
  /** Receives unexpected controller errors (default: stderr). */
  log?: (message: string) => void;
  /** Bearer token for the /sim admin endpoints. */
  adminToken?: string;
  /**
   * Serve HTTPS with a self-signed certificate minted at start (kubeconfigs carry it as
   * certificate-authority-data). Needed for kubectl, which never sends a bearer token over plain HTTP;
   * client-node works with both. Default false.
   */
  tls?: boolean;
  /**
   * Workload clusters serve CAPI kinds only once their CustomResourceDefinitions exist (as a fresh real cluster
   * does), so installing providers must apply CRDs first (`providerComponents()` includes them). Default true;
   * false serves every kind from the start.
   */
  crdGatedWorkloads?: boolean;
}

export interface SimulatorCounters extends ClusterCounters {
  instances: CloudCounters;
  reconciles: number;
}

export interface SimulatorFaults {
  /** The next `count` machine launches fail (for one Cluster `namespace/name`, or any cluster). */
  failNextMachines(count: number, cluster?: string | { namespace: string; name: string }): void;
  /** Every instance boot (of one Cluster `namespace/name`, or all) takes `ms` longer. */
  bootDelay(ms: number, cluster?: string | { namespace: string; name: string }): void;
  /** Every reconcile waits `ms` longer (in one virtual cluster, or all). */
  reconcileDelay(ms: number, virtualCluster?: string): void;
  /**
   * API faults (latency, 503 rate, dropped connections) for one virtual cluster or `'*'`; undefined clears.
   * A workload cluster whose API fails every request (errorRate 1, or dropping without a count) also fails its
   * Cluster's RemoteConnectionProbe, so the Cluster is not Available — as CAPI reports an unreachable cluster.
   */
  api(virtualCluster: string, faults: Faults | undefined): void;
}

export interface Simulator {
  /** `http://127.0.0.1:PORT` (`https://` with `tls`) */
  readonly url: string;
  /**
   * The provider release repository, `<url>/releases`: `<provider-label>/<version>/<file>` as in clusterctl's
   * local repository layout (see releases.ts), no authentication.
   */
  readonly releasesUrl: string;
  readonly timing: Timing;
  readonly cloud: SimCloud;
  readonly server: ApiServer;
  readonly faults: SimulatorFaults;
  managementKubeconfig(): Kubeconfig;
  /** The management kubeconfig as file content (JSON, which kubectl reads as YAML). */
  managementKubeconfigText(): string;
  /** Admin kubeconfig of any virtual cluster (`management`, or `<namespace>--<cluster>`). */
  kubeconfigFor(virtualCluster: string): Kubeconfig;
  /** API counters per virtual cluster, with the instances whose nodes join it and the reconcile count. */
  counters(): Record<string, SimulatorCounters>;
  /** Resolves when no reconcile has been queued for `quietMs` (or rejects after `timeoutMs`). */
  settle(options?: { quietMs?: number; timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export class SimulatorNotSettledError extends Error {
  override name = 'SimulatorNotSettledError';
}

export class UnknownVirtualClusterError extends Error {
  override name = 'UnknownVirtualClusterError';
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const timing = timingFor(options.profile ?? 'fast', options.timeFactor ?? 1, options.timing);
  const seed = options.seed ?? 1;
  const server = await createApiServer({
    port: options.port ?? 0,
    ...(options.tls === true ? { tls: selfSignedCertificate() } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.adminToken !== undefined ? { adminToken: options.adminToken } : {}),
  });
  const url = server.url;
  server.addFileSource(RELEASES_PREFIX, (path) => {
    const [provider = '', version = '', file = '', ...rest] = path;
    const text = rest.length === 0 ? releaseFile(provider, version, file) : undefined;
    return text === undefined ? undefined : { contentType: 'application/yaml', body: text };
  });
  const cloud = new SimCloud(timing, { seed });
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const manager = new Manager({ server, cloud, timing, rng: new Rng(seed ^ 0x5eed), publicUrl: url, crdGatedWorkloads: options.crdGatedWorkloads ?? true, log });
  server.addCounterSource((name) => ({
    instances: cloud.counters({ workloadCluster: name }),
    reconciles: manager.runtime(name)?.reconciles ?? 0,
  }));
  const leakScan = setInterval(() => cloud.scanLeaks(), Math.max(50, Math.floor(timing.leakGraceMs / 3)));
  leakScan.unref();

  const management = server.addCluster(MANAGEMENT_CLUSTER);
  manager.attach(management);
  installManagement(management.store);

  const kubeconfigOf = (name: string): Kubeconfig => {
    const vc = server.getCluster(name);
    if (vc === undefined) throw new UnknownVirtualClusterError(`no virtual cluster "${name}"`);
    return kubeconfigFor({ name, server: manager.urlOf(name), token: vc.token, ...(server.caData !== undefined ? { caData: server.caData } : {}) });
  };

  const faults: SimulatorFaults = {
    failNextMachines(count, cluster) {
      const key = cluster === undefined ? undefined : typeof cluster === 'string' ? cluster : clusterKey(cluster.namespace, cluster.name);
      cloud.failNextLaunches(count, key);
    },
    bootDelay(ms, cluster) {
      cloud.setExtraBootDelay(ms, cluster === undefined ? undefined : typeof cluster === 'string' ? cluster : clusterKey(cluster.namespace, cluster.name));
    },
    reconcileDelay(ms, virtualCluster) {
      manager.setReconcileDelay(ms, virtualCluster);
    },
    api(virtualCluster, f) {
      server.setFaults(virtualCluster, f);
      // A workload API that answers nothing fails CAPI's remote connection probe too.
      const unreachable = f !== undefined && ((f.errorRate ?? 0) >= 1 || (f.dropAfterRequests !== undefined && f.dropCount === undefined));
      manager.setUnreachable(virtualCluster, unreachable);
    },
  };

  return {
    url,
    releasesUrl: `${url}/${RELEASES_PREFIX}`,
    timing,
    cloud,
    server,
    faults,
    managementKubeconfig: () => kubeconfigOf(MANAGEMENT_CLUSTER),
    managementKubeconfigText: () =>
      kubeconfigText({ name: MANAGEMENT_CLUSTER, server: manager.urlOf(MANAGEMENT_CLUSTER), token: management.token, ...(server.caData !== undefined ? { caData: server.caData } : {}) }),
    kubeconfigFor: kubeconfigOf,
    counters: () => server.allCounters() as Record<string, SimulatorCounters>,
    async settle({ quietMs = 100, timeoutMs = 30_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      let quietSince = Date.now();
      while (Date.now() - quietSince < quietMs) {
        if (Date.now() > deadline) throw new SimulatorNotSettledError(`reconciles still pending after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
        if (manager.pending > 0) quietSince = Date.now();
      }
    },
    async stop() {
      clearInterval(leakScan);
      manager.stop();
      cloud.stop();
      await server.close();
    },
  };
}

/** The management cluster as `clusterctl init` plus an EKS node group would leave it. */
function installManagement(store: import('./apiserver/store.ts').ClusterStore): void {
  const create = (o: unknown) => store.create(o as KubeObject, { fieldManager: 'clusterctl' });
  for (const o of providerComponents()) create(o);
  create({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'aws-node', namespace: 'kube-system', labels: { 'k8s-app': 'aws-node' } },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'aws-node' } },
      template: { metadata: { labels: { 'k8s-app': 'aws-node' } }, spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'aws-node', image: 'amazon-k8s-cni:v1.19.0' }] } },
    },
  });
  for (let i = 0; i < 2; i++) {
    const name = `ip-10-0-${i}-10.sim-region-1.compute.internal`;
    store.create(
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'eks.amazonaws.com/nodegroup': 'management' } },
        spec: { providerID: `aws:///sim-region-1a/i-management${i}` },
        status: {
          conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'starting' }],
          nodeInfo: { kubeletVersion: 'v1.31.4-eks', operatingSystem: 'linux', architecture: 'amd64' },
        },
      } as KubeObject,
      { withStatus: true, fieldManager: 'kubelet' },
    );
  }
  for (const o of allClusterClassObjects()) create(o);
}

export type { Faults } from './apiserver/server.ts';
export type { Kubeconfig } from './apiserver/kubeconfig.ts';
export { CLUSTER_CLASS_NAMES, CLUSTER_CLASS_NAMESPACE, DEFAULT_WORKER_CLASS } from './classes.ts';
export { CERT_MANAGER_VERSION, certManagerComponents, PROVIDERS, providerComponents } from './controllers/providers.ts';
export { CERT_MANAGER_FILE, CERT_MANAGER_LABEL, COMPONENTS_FILE, METADATA_FILE, type ReleaseFile, releaseFiles } from './releases.ts';
export type { ProfileName, Timing } from './timing.ts';
