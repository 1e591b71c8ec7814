/**
 * API latency through the local HTTP server (the real handlers, the local API Gateway adapter with JWT
 * verification, DynamoDB Local): p50/p99 of the dry run and of GET cluster at concurrency 16, next to the
 * floor measured in the same run — a raw DynamoDB Local GetItem of the same cluster item.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalRuntime } from '../local/runtime.ts';
import { DEMO_CLUSTER_REQUEST, DEMO_DEVELOPER, DEMO_WORKSPACE } from '../local/seed.ts';
import { localDocumentClient } from '../local/dynamodb.ts';
import { keys } from '../shared/store/keys.ts';
import { type Latency, latencyOf, measure, round } from './stats.ts';

export interface ApiBenchFigures {
  concurrency: number;
  dryRun: Latency;
  getCluster: Latency;
  getItemFloor: Latency;
  dryRunOverFloorP50: number;
  getClusterOverFloorP50: number;
  getClusterOverFloorP99: number;
}

export async function runApiBench(options: { requests?: number; concurrency?: number } = {}): Promise<ApiBenchFigures> {
  const requests = options.requests ?? 800;
  const concurrency = options.concurrency ?? 16;
  const dataDir = await mkdtemp(join(tmpdir(), 'slipway-bench-api-'));
  const runtime = await startLocalRuntime({ dataDir, port: 0, seed: true, timeFactor: 0.01, simulator: { profile: 'fast' }, ttlSweepMs: 0 });
  try {
    const token = await runtime.issuer.issue({ sub: DEMO_DEVELOPER.sub, groups: [...DEMO_DEVELOPER.groups] });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const body = JSON.stringify(DEMO_CLUSTER_REQUEST);
    const created = await fetch(`${runtime.url}/v1/workspaces/${DEMO_WORKSPACE}/clusters`, { method: 'POST', headers, body });
    if (created.status !== 202) throw new Error(`bench setup: POST cluster answered ${created.status}`);
    const path = `${runtime.url}/v1/workspaces/${DEMO_WORKSPACE}/clusters/${DEMO_CLUSTER_REQUEST.name}`;
    const call = async (url: string, init: RequestInit) => {
      const res = await fetch(url, init);
      await res.arrayBuffer();
      if (res.status >= 300) throw new Error(`bench: ${init.method ?? 'GET'} ${url} answered ${res.status}`);
    };
    // Warm up every path once (JIT, connection pools).
    await measure(50, concurrency, () => call(`${runtime.url}/v1/workspaces/${DEMO_WORKSPACE}/clusters?dryRun=true`, { method: 'POST', headers, body }));
    await measure(50, concurrency, () => call(path, { headers }));

    const dryRun = latencyOf(
      await measure(requests, concurrency, () => call(`${runtime.url}/v1/workspaces/${DEMO_WORKSPACE}/clusters?dryRun=true`, { method: 'POST', headers, body })),
    );
    const getCluster = latencyOf(await measure(requests, concurrency, () => call(path, { headers })));
    const doc = localDocumentClient(runtime.dynamoEndpoint);
    const key = keys.cluster(DEMO_WORKSPACE, DEMO_CLUSTER_REQUEST.name);
    await measure(50, concurrency, async () => {
      await doc.send(new GetCommand({ TableName: runtime.tableName, Key: key, ConsistentRead: true }));
    });
    const getItemFloor = latencyOf(
      await measure(requests, concurrency, async () => {
        await doc.send(new GetCommand({ TableName: runtime.tableName, Key: key, ConsistentRead: true }));
      }),
    );
    doc.destroy();
    return {
      concurrency,
      dryRun,
      getCluster,
      getItemFloor,
      dryRunOverFloorP50: round(dryRun.p50Ms / getItemFloor.p50Ms),
      getClusterOverFloorP50: round(getCluster.p50Ms / getItemFloor.p50Ms),
      getClusterOverFloorP99: round(getCluster.p99Ms / getItemFloor.p99Ms),
    };
  } finally {
    await runtime.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
