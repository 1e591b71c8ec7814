/** What every simulated controller may reach beyond its own virtual cluster: the cloud, the clock, the server. */
import type { SimCloud } from '../cloud.ts';
import type { Timing } from '../timing.ts';
import type { Client } from './client.ts';
import type { Rng } from './naming.ts';
import type { ClusterRuntime } from './runtime.ts';

export interface WorkloadEndpoint {
  /** Virtual cluster name in the API server. */
  name: string;
  url: string;
  token: string;
  /** The serving certificate (base64 PEM) when the API server serves HTTPS. */
  caData?: string;
}

export interface SimContext {
  readonly timing: Timing;
  readonly rng: Rng;
  readonly cloud: SimCloud;
  /** `http://127.0.0.1:PORT` */
  baseUrl(): string;
  runtime(virtualCluster: string): ClusterRuntime | undefined;
  /** Runtimes of the virtual clusters that currently hold a Cluster object with this identity (`ns/name`). */
  hostsOf(clusterKey: string): ClusterRuntime[];
  /** Creates (idempotently) the virtual cluster serving a workload cluster's API, with its controllers. */
  ensureWorkloadCluster(name: string, clusterKey: string): Promise<WorkloadEndpoint>;
  workloadCluster(name: string): WorkloadEndpoint | undefined;
  workloadClient(name: string): Client | undefined;
  removeWorkloadCluster(name: string): Promise<void>;
  /** False while injected API faults make the virtual cluster's API unreachable (every request fails). */
  reachable(name: string): boolean;
  /** Reports an unexpected controller error. */
  log(message: string): void;
}
