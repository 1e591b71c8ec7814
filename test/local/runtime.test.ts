/**
 * The local runtime end to end: its own DynamoDB Local on disk, seeding, the real API handlers behind the
 * local gateway, workflows bound to step handlers by the `${Step<Name>Arn}` convention, and a restart that
 * keeps the data and resumes what was in flight.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, type StepLambda, startLocalRuntime } from '../../local/runtime.ts';
import { DEMO_CLUSTER_REQUEST, DEMO_DEVELOPER, DEMO_WORKSPACE } from '../../local/seed.ts';
import { clusterExecutionName } from '../../shared/workflow/starter.ts';

const PROVISION_STEPS = [
  'begin-provisioning',
  'apply-cluster',
  'install-cni',
  'install-providers',
  'pivot',
  'scale-out',
  'install-addons',
  'mark-ready',
  'mark-failed',
];
const PROVISION_CHECKS = ['check-control-plane', 'check-nodes', 'check-providers', 'check-scale', 'check-addons'];

interface StepCall {
  step: string;
  event: unknown;
  functionName: string;
}

/**
 * Test doubles for the provision steps (the real ones live in functions/steps): they only record what they
 * were given, and every check reports "not yet, wait 5 s" once, then done — so each Task/Choice/Wait loop
 * of the real ASL runs once, at the runtime's time factor.
 */
function recordingSteps(calls: StepCall[]): Record<string, StepLambda> {
  const polls = new Map<string, number>();
  const steps: Record<string, StepLambda> = {};
  for (const step of PROVISION_STEPS) {
    steps[step] = async (event, context) => {
      calls.push({ step, event, functionName: context.functionName });
      return {};
    };
  }
  for (const step of PROVISION_CHECKS) {
    steps[step] = async (event, context) => {
      calls.push({ step, event, functionName: context.functionName });
      const attempt = (polls.get(step) ?? 0) + 1;
      polls.set(step, attempt);
      return { attempt, done: attempt % 2 === 0, waitSeconds: 5 };
    };
  }
  return steps;
}

let dataDir: string;
let runtime: LocalRuntime | undefined;
const calls: StepCall[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'slipway-runtime-'));
});
afterAll(async () => {
  await runtime?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const start = () => startLocalRuntime({ dataDir, port: 0, seed: true, steps: recordingSteps(calls), timeFactor: 0.01 });

async function api(rt: LocalRuntime, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${rt.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('local runtime', () => {
  it('starts fresh: seeds the demo, serves the API, runs the provision workflow through the bound steps', async () => {
    // Prepare
    runtime = await start();
    const dev = await runtime.issuer.issue({ sub: DEMO_DEVELOPER.sub, groups: [...DEMO_DEVELOPER.groups] });

    // Act
    const me = await api(runtime, 'GET', '/v1/me', dev);
    const dryRun = await api(runtime, 'POST', `/v1/workspaces/${DEMO_WORKSPACE}/clusters?dryRun=true`, dev, DEMO_CLUSTER_REQUEST);
    const created = await api(runtime, 'POST', `/v1/workspaces/${DEMO_WORKSPACE}/clusters`, dev, DEMO_CLUSTER_REQUEST);
    const cluster = await runtime.stores.clusters.get(DEMO_WORKSPACE, DEMO_CLUSTER_REQUEST.name);
    const execution = await runtime.workflows.waitFor(clusterExecutionName(cluster!), { workflow: 'provision-cluster', timeoutMs: 30_000 });

    // Assess
    expect(runtime.seeded?.created).toHaveLength(9);
    expect(me.body).toMatchObject({ principal: 'user:dev', admin: false, workspaces: [{ id: 'demo', role: 'member' }] });
    expect(dryRun.status).toBe(200);
    expect(dryRun.body).toMatchObject({ allowed: true, violations: [] });
    expect(created.status).toBe(202);
    expect(execution.status).toBe('SUCCEEDED');
    // Every provision step ran once per loop, as the in-process stand-in of its Lambda, with the cluster ref.
    expect(new Set(calls.map((c) => c.step))).toEqual(new Set([...PROVISION_STEPS.filter((s) => s !== 'mark-failed'), ...PROVISION_CHECKS]));
    expect(calls[0]).toMatchObject({
      step: 'begin-provisioning',
      functionName: 'slipway-step-begin-provisioning',
      event: { workspaceId: 'demo', name: 'dev-1', uid: cluster?.uid, generation: 1 },
    });
    // The five polling Waits (SecondsPath 5 s) ran scaled, as Waits.
    expect(runtime.workflows.machine('provision-cluster')?.dynamicWaits.size).toBe(5);
    // Every workflow has a handler for each of its Tasks: nothing is held.
    expect([...runtime.workflows.unavailable.keys()]).toEqual([]);
  });

  it('keeps data across a restart, does not seed again and resumes the operation in flight', async () => {
    // Prepare: an old token and the cluster left with its provision operation in flight (the doubles do
    // not record progress).
    const oldToken = await runtime!.issuer.issue({ sub: DEMO_DEVELOPER.sub, groups: [...DEMO_DEVELOPER.groups] });
    await runtime!.stop();
    calls.length = 0;

    // Act
    runtime = await start();
    const list = await api(runtime, 'GET', `/v1/workspaces/${DEMO_WORKSPACE}/clusters`, oldToken);
    const cluster = await runtime.stores.clusters.get(DEMO_WORKSPACE, DEMO_CLUSTER_REQUEST.name);
    const execution = await runtime.workflows.waitFor(clusterExecutionName(cluster!), { workflow: 'provision-cluster', timeoutMs: 30_000 });

    // Assess
    expect(runtime.seeded).toBeNull();
    expect(list.status).toBe(200);
    expect((list.body.items as unknown[]).length).toBe(1);
    expect(runtime.resumed).toEqual(['demo/dev-1 (provision, generation 1)']);
    expect(runtime.notResumed).toEqual([]);
    expect(execution.status).toBe('SUCCEEDED');
    expect(calls.some((c) => c.step === 'begin-provisioning')).toBe(true);
  });
});
