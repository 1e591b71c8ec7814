/**
 * Provisioning throughput and cost on the simulator: N clusters requested at once through the API, each
 * followed to Ready. Reported per cluster: time-to-Ready divided by the simulated infrastructure's critical
 * path (the ideal, 1.0), Step Functions state transitions and step invocations (what a Standard workflow
 * costs), and Kubernetes API requests against the management and the workload clusters.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLocalRuntime } from '../local/runtime.ts';
import { DEMO_CLUSTER_REQUEST, DEMO_DEVELOPER, DEMO_WORKSPACE } from '../local/seed.ts';
import type { ProfileName, Timing } from '../local/sim/index.ts';
import { round } from './stats.ts';

export interface WorkflowBenchFigures {
  profile: ProfileName;
  clusters: number;
  ready: number;
  failed: number;
  /** The simulated infrastructure's critical path for one cluster (see criticalPathMs). */
  criticalPathMs: number;
  timeToReadyP50Ms: number;
  timeToReadyMaxMs: number;
  /** p50 time-to-Ready ÷ critical path (1.0 is ideal). */
  ratioP50: number;
  transitionsPerCluster: number;
  taskInvocationsPerCluster: number;
  managementRequestsPerCluster: number;
  workloadRequestsPerCluster: number;
  duplicatedInstances: number;
  leakedInstances: number;
}

/**
 * What the simulated infrastructure cannot do faster, for a 3-control-plane cluster: network and load
 * balancer, the first control-plane machine and its node, the CNI, cert-manager then the providers, the two
 * further control-plane machines one after the other (KCP adds them one at a time; workers boot meanwhile),
 * and the Helm release.
 */
export function criticalPathMs(t: Timing, controlPlaneReplicas = 3): number {
  const machine = t.instanceBootMs + t.nodeRegisterMs;
  return t.infraProvisionMs + machine + t.cniReadyMs + 2 * t.podStartMs + (controlPlaneReplicas - 1) * (machine + t.cniReadyMs) + t.helmInstallMs;
}

export async function runWorkflowBench(options: { clusters?: number; profile?: ProfileName; timeFactor?: number; timeoutMs?: number } = {}): Promise<WorkflowBenchFigures> {
  const clusters = options.clusters ?? 50;
  const profile = options.profile ?? 'fast';
  const dataDir = await mkdtemp(join(tmpdir(), 'slipway-bench-wf-'));
  const runtime = await startLocalRuntime({
    dataDir,
    port: 0,
    seed: true,
    timeFactor: options.timeFactor ?? (profile === 'fast' ? 0.01 : 1),
    simulator: { profile, seed: 11 },
    ttlSweepMs: 0,
  });
  try {
    const sim = runtime.simulator;
    if (!sim) throw new Error('the workflow bench needs the simulator');
    // Room for N clusters in the demo workspace.
    const policy = await runtime.stores.policies.load('demo-guardrails');
    await runtime.stores.policies.replace(
      policy.id,
      { id: policy.id, workspaceId: null, rules: { ...policy.rules, maxClustersPerWorkspace: clusters + 10, maxMonthlyCostPerWorkspaceUsd: 10_000_000 } },
      { principal: 'system:bench' },
    );
    const token = await runtime.issuer.issue({ sub: DEMO_DEVELOPER.sub, groups: [...DEMO_DEVELOPER.groups] });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const before = { ...runtime.workflows.totals };

    const names = Array.from({ length: clusters }, (_, i) => `bench-${i}`);
    const started = performance.now();
    await Promise.all(
      names.map(async (name) => {
        const res = await fetch(`${runtime.url}/v1/workspaces/${DEMO_WORKSPACE}/clusters`, { method: 'POST', headers, body: JSON.stringify({ ...DEMO_CLUSTER_REQUEST, name }) });
        if (res.status !== 202) throw new Error(`bench: POST ${name} answered ${res.status}: ${await res.text()}`);
      }),
    );
    const done = new Map<string, { phase: string; ms: number }>();
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    // One paged Query per round, not a GetItem per cluster: polling 50 clusters every 25 ms that way is 2,000
    // requests a second to DynamoDB Local, on the very cores the workflows being measured need.
    const wanted = new Set(names);
    while (done.size < clusters && Date.now() < deadline) {
      let nextToken: string | undefined;
      do {
        const page = await runtime.stores.clusters.list(DEMO_WORKSPACE, { limit: 100, ...(nextToken === undefined ? {} : { nextToken }) });
        const now = performance.now();
        for (const c of page.items) {
          if (!wanted.has(c.name) || done.has(c.name)) continue;
          if (c.phase === 'Ready' || c.phase === 'Failed') done.set(c.name, { phase: c.phase, ms: now - started });
        }
        nextToken = page.nextToken ?? undefined;
      } while (nextToken !== undefined);
      await new Promise((r) => setTimeout(r, 25));
    }
    const times = [...done.values()].filter((d) => d.phase === 'Ready').map((d) => d.ms).sort((a, b) => a - b);
    const counters = sim.counters();
    let management = 0;
    let workload = 0;
    let duplicated = 0;
    let leaked = 0;
    for (const [name, c] of Object.entries(counters)) {
      if (name === 'management') management += c.requests.total;
      else workload += c.requests.total;
    }
    const cloud = sim.cloud.counters();
    duplicated = cloud.duplicated;
    leaked = cloud.leaked;
    const critical = criticalPathMs(sim.timing);
    const p50 = times[Math.floor(times.length / 2)] ?? Number.NaN;
    return {
      profile,
      clusters,
      ready: times.length,
      failed: [...done.values()].filter((d) => d.phase === 'Failed').length,
      criticalPathMs: critical,
      timeToReadyP50Ms: round(p50, 0),
      timeToReadyMaxMs: round(times.at(-1) ?? Number.NaN, 0),
      ratioP50: round(p50 / critical),
      transitionsPerCluster: round((runtime.workflows.totals.transitions - before.transitions) / clusters, 1),
      taskInvocationsPerCluster: round((runtime.workflows.totals.taskInvocations - before.taskInvocations) / clusters, 1),
      managementRequestsPerCluster: round(management / clusters, 1),
      workloadRequestsPerCluster: round(workload / clusters, 1),
      duplicatedInstances: duplicated,
      leakedInstances: leaked,
    };
  } finally {
    await runtime.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
