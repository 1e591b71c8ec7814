/**
 * Benchmark of the CAPI simulator: provisions N virtual workload clusters (default 200 × 10 machines = 2,000)
 * on the fast profile through client-node, then measures API latency (GET and list through client-node, and
 * raw GET through fetch) next to a bare node:http echo server measured in the same run, and reports ratios.
 * The clients run in a worker thread (their own heap and GC), as they would in another process.
 * `runSimBench()` returns the figures; `npx tsx bench/sim.ts` prints them (SIM_BENCH_CLUSTERS to scale down).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { AppsV1Api, CoreV1Api, KubeConfig, type KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { startSimulator } from '../local/sim/index.ts';

export interface SimBenchOptions {
  clusters?: number;
  /** Machines per cluster: 1 control plane + (n − 1) workers. */
  machinesPerCluster?: number;
  /** Latency samples per measured operation. */
  samples?: number;
  timeoutMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface LatencyFigures {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export interface SimBenchFigures {
  clusters: number;
  machines: number;
  runningInstances: number;
  duplicatedInstances: number;
  leakedInstances: number;
  /** Wall time from the first Cluster create until every Cluster is Available. */
  provisionSeconds: number;
  reconciles: number;
  rssMb: number;
  sim: { getViaClientNode: LatencyFigures; listViaClientNode: LatencyFigures; getViaFetch: LatencyFigures };
  echo: { getViaFetch: LatencyFigures };
  /** sim ÷ echo, by percentile. */
  ratios: { getClientNodeP50: number; getClientNodeP99: number; listClientNodeP50: number; listClientNodeP99: number; getFetchP50: number; getFetchP99: number };
}

export class BenchTimeoutError extends Error {
  override name = 'BenchTimeoutError';
}

function figures(samples: number[]): LatencyFigures {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), meanMs: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)) };
}

async function time(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op(i);
    out.push(performance.now() - t0);
  }
  return out;
}

interface Conditioned extends KubernetesObject {
  status?: { conditions?: { type: string; status: string }[] };
}

export async function runSimBench(options: SimBenchOptions = {}): Promise<SimBenchFigures> {
  const clusters = options.clusters ?? 200;
  const perCluster = options.machinesPerCluster ?? 10;
  const samples = options.samples ?? 2_000;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const log = options.log ?? (() => {});
  const sim = await startSimulator({ profile: 'fast', seed: 99, log: (m) => log(m) });
  const echo = createServer((_req, res) => {
    const body = '{"kind":"Status","apiVersion":"v1","status":"Success"}';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  try {
    const kc = new KubeConfig();
    kc.loadFromString(sim.managementKubeconfigText());
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const core = kc.makeApiClient(CoreV1Api);
    const names = Array.from({ length: clusters }, (_, i) => `bench-${String(i).padStart(3, '0')}`);

    const t0 = performance.now();
    for (const ns of names) {
      await core.createNamespace({ body: { metadata: { name: ns } } });
      await objects.create({
        apiVersion: 'cluster.x-k8s.io/v1beta2',
        kind: 'Cluster',
        metadata: { name: 'c', namespace: ns },
        spec: {
          topology: {
            classRef: { name: 'sim-ferrol-1-31-v1', namespace: 'default' },
            version: 'v1.31.4',
            controlPlane: { replicas: 1 },
            workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', replicas: perCluster - 1 }] },
          },
        },
      } as KubernetesObject);
    }
    log(`created ${clusters} clusters in ${Math.round(performance.now() - t0)} ms`);
    // Each workload cluster gets its CNI as soon as its kubeconfig Secret exists (Slipway's step 4).
    const withCni = new Set<string>();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const ns of names) {
        if (withCni.has(ns)) continue;
        const secret = await core.readNamespacedSecret({ name: 'c-kubeconfig', namespace: ns }).catch(() => undefined);
        const value = secret?.data?.value;
        if (value === undefined) continue;
        const wkc = new KubeConfig();
        wkc.loadFromString(Buffer.from(value, 'base64').toString('utf8'));
        await wkc.makeApiClient(AppsV1Api).createNamespacedDaemonSet({
          namespace: 'kube-system',
          body: {
            metadata: { name: 'cilium', namespace: 'kube-system', labels: { 'k8s-app': 'cilium' } },
            spec: { selector: { matchLabels: { 'k8s-app': 'cilium' } }, template: { metadata: { labels: { 'k8s-app': 'cilium' } }, spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'cilium-agent', image: 'cilium:v1.16.5' }] } } },
          },
        });
        withCni.add(ns);
      }
      const list = await objects.list<Conditioned>('cluster.x-k8s.io/v1beta2', 'Cluster');
      const available = list.items.filter((c) => c.status?.conditions?.some((x) => x.type === 'Available' && x.status === 'True')).length;
      if (available === clusters) break;
      if (Date.now() > deadline) throw new BenchTimeoutError(`${available}/${clusters} clusters Available after ${timeoutMs} ms`);
      log(`${available}/${clusters} Available, ${sim.cloud.counters().running} instances running`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const provisionSeconds = (performance.now() - t0) / 1000;
    log(`all Available after ${provisionSeconds.toFixed(1)} s`);

    // Clients run in a worker thread, so their allocations and GC do not stall the server being measured.
    const samplesOut = await measureInWorker({
      kubeconfig: sim.managementKubeconfigText(),
      token: sim.managementKubeconfig().users[0]?.user.token ?? '',
      echoUrl: `http://127.0.0.1:${(echo.address() as AddressInfo).port}/api/v1/namespaces/x`,
      simUrl: `${sim.url}/clusters/management/apis/cluster.x-k8s.io/v1beta2/namespaces/bench-000/clusters/c`,
      namespaces: names,
      samples,
    });
    const { echoGet, simGetFetch, simGetExisting, simList } = samplesOut;

    const counters = sim.cloud.counters();
    let reconciles = 0;
    for (const c of Object.values(sim.counters())) reconciles += c.reconciles;
    const e = figures(echoGet);
    const g = figures(simGetExisting);
    const l = figures(simList);
    const f = figures(simGetFetch);
    const ratio = (a: number, b: number) => Math.round((a / Math.max(b, 0.001)) * 100) / 100;
    return {
      clusters,
      machines: clusters * perCluster,
      runningInstances: counters.running,
      duplicatedInstances: counters.duplicated,
      leakedInstances: counters.leaked,
      provisionSeconds: Math.round(provisionSeconds * 10) / 10,
      reconciles,
      rssMb: Math.round(process.memoryUsage().rss / 1_048_576),
      sim: { getViaClientNode: g, listViaClientNode: l, getViaFetch: f },
      echo: { getViaFetch: e },
      ratios: {
        getClientNodeP50: ratio(g.p50Ms, e.p50Ms),
        getClientNodeP99: ratio(g.p99Ms, e.p99Ms),
        listClientNodeP50: ratio(l.p50Ms, e.p50Ms),
        listClientNodeP99: ratio(l.p99Ms, e.p99Ms),
        getFetchP50: ratio(f.p50Ms, e.p50Ms),
        getFetchP99: ratio(f.p99Ms, e.p99Ms),
      },
    };
  } finally {
    echo.closeAllConnections();
    await new Promise<void>((r) => echo.close(() => r()));
    await sim.stop();
  }
}

export function formatSimBench(f: SimBenchFigures): string {
  const row = (name: string, x: LatencyFigures) => `  ${name.padEnd(28)} p50 ${x.p50Ms.toFixed(3)} ms   p99 ${x.p99Ms.toFixed(3)} ms`;
  return [
    `CAPI simulator: ${f.clusters} workload clusters, ${f.machines} machines (fast profile)`,
    `  provisioned (all Available) in ${f.provisionSeconds} s, ${f.reconciles} reconciles, RSS ${f.rssMb} MB`,
    `  instances running ${f.runningInstances}, duplicated ${f.duplicatedInstances}, leaked ${f.leakedInstances}`,
    row('echo GET (fetch)', f.echo.getViaFetch),
    row('sim GET Cluster (fetch)', f.sim.getViaFetch),
    row('sim GET Machine (client-node)', f.sim.getViaClientNode),
    row('sim list Machines/ns (client-node)', f.sim.listViaClientNode),
    `  ratios vs echo: GET client-node p50 ×${f.ratios.getClientNodeP50} p99 ×${f.ratios.getClientNodeP99}; list client-node p50 ×${f.ratios.listClientNodeP50} p99 ×${f.ratios.listClientNodeP99}; GET fetch p50 ×${f.ratios.getFetchP50} p99 ×${f.ratios.getFetchP99}`,
  ].join('\n');
}

interface WorkerInput {
  kubeconfig: string;
  token: string;
  echoUrl: string;
  simUrl: string;
  namespaces: string[];
  samples: number;
}

interface WorkerOutput {
  echoGet: number[];
  simGetFetch: number[];
  simGetExisting: number[];
  simList: number[];
}

class BenchWorkerError extends Error {
  override name = 'BenchWorkerError';
}

function measureInWorker(input: WorkerInput): Promise<WorkerOutput> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { role: ROLE, input }, execArgv: ['--import', 'tsx'] });
    worker.once('message', (out: WorkerOutput) => resolve(out));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new BenchWorkerError(`bench client worker exited with ${code}`));
    });
  });
}

async function clientMeasurements(input: WorkerInput): Promise<WorkerOutput> {
  const kc = new KubeConfig();
  kc.loadFromString(input.kubeconfig);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const headers = { Accept: 'application/json, */*;q=0.8', Authorization: `Bearer ${input.token}` };
  const names = input.namespaces;
  const sampled = names.slice(0, Math.min(50, names.length));
  const machineNames = new Map<string, string>();
  for (const ns of sampled) {
    const l = await objects.list('cluster.x-k8s.io/v1beta2', 'Machine', ns);
    machineNames.set(ns, l.items[0]?.metadata?.name ?? '');
  }
  // Warm-up (discovery cache, keep-alive connections, JIT).
  for (let i = 0; i < 200; i++) {
    await objects.read({ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name: 'c', namespace: sampled[i % sampled.length] ?? '' } });
    await (await fetch(input.echoUrl, { headers })).text();
    await (await fetch(input.simUrl, { headers })).text();
  }
  // Interleaved, so machine noise (other processes, GC) falls on every series alike.
  const echoGet: number[] = [];
  const simGetFetch: number[] = [];
  const simGetExisting: number[] = [];
  const simList: number[] = [];
  for (let i = 0; i < input.samples; i++) {
    const ns = sampled[i % sampled.length] ?? '';
    echoGet.push(...(await time(1, async () => (await fetch(input.echoUrl, { headers })).text())));
    simGetFetch.push(...(await time(1, async () => (await fetch(input.simUrl, { headers })).text())));
    simGetExisting.push(
      ...(await time(1, () => objects.read({ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine', metadata: { name: machineNames.get(ns) ?? '', namespace: ns } }))),
    );
    simList.push(...(await time(1, () => objects.list('cluster.x-k8s.io/v1beta2', 'Machine', names[i % names.length]))));
  }
  return { echoGet, simGetFetch, simGetExisting, simList };
}

const ROLE = 'slipway-sim-bench-client';
if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE) {
  const out = await clientMeasurements((workerData as { input: WorkerInput }).input);
  parentPort?.postMessage(out);
}

if (isMainThread && import.meta.url === `file://${process.argv[1]}`) {
  const clusters = Number(process.env.SIM_BENCH_CLUSTERS ?? 200);
  const figuresOut = await runSimBench({ clusters, log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${formatSimBench(figuresOut)}\n`);
}
