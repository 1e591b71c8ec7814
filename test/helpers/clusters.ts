/**
 * Cluster-level helpers for the workflow suites: request a cluster through the API and wait for its
 * operation to finish, and look at what the simulated cloud and the management cluster hold for it.
 */
import { expect } from 'vitest';
import { workspaceNamespace } from '../../shared/capi/render.ts';
import type { KubeClient } from '../../shared/capi/client.ts';
import type { KubeObject } from '../../shared/capi/types.ts';
import type { CreateClusterBody } from '../../shared/domain/schemas.ts';
import type { Simulator } from '../../local/sim/index.ts';
import type { Instance } from '../../local/sim/cloud.ts';
import type { RuntimeHarness } from './runtime.ts';

// biome-ignore lint/suspicious/noExplicitAny: clusters come back as JSON from the API
export type ClusterJson = any;

/** Phases an operation ends in. */
const SETTLED = new Set(['Ready', 'Failed', 'Deleted']);

export function clusterPath(ws: string, name: string): string {
  return `/v1/workspaces/${ws}/clusters/${name}`;
}

export async function getCluster(h: RuntimeHarness, token: string, ws: string, name: string): Promise<ClusterJson> {
  const res = await h.call('GET', clusterPath(ws, name), { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Polls the cluster until its operation is over (Ready, Failed or Deleted, nothing in flight). */
export async function waitSettled(h: RuntimeHarness, token: string, ws: string, name: string, timeoutMs = 90_000): Promise<ClusterJson> {
  return h.waitFor(
    `${ws}/${name} settled`,
    () => getCluster(h, token, ws, name),
    (c: ClusterJson) => SETTLED.has(c.phase) && c.operation === null,
    timeoutMs,
  );
}

/** POST the request (expects 202) and wait until the cluster is Ready (or fails the test with its step and message). */
export async function provisionReady(h: RuntimeHarness, token: string, ws: string, body: CreateClusterBody): Promise<ClusterJson> {
  const res = await h.call('POST', `/v1/workspaces/${ws}/clusters`, { token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const ready = await waitSettled(h, token, ws, body.name);
  expect(ready.phase, `${ready.step}: ${ready.message}`).toBe('Ready');
  return ready;
}

/** The simulator's identity of a Slipway cluster's CAPI Cluster (`namespace/name`). */
export function simClusterKey(ws: string, name: string): string {
  return `${workspaceNamespace(ws)}/${name}`;
}

/** Instances the simulated cloud launched for the cluster (every state). */
export function instancesOf(sim: Simulator, ws: string, name: string): Instance[] {
  return sim.cloud.list({ clusterKey: simClusterKey(ws, name) });
}

export function liveInstancesOf(sim: Simulator, ws: string, name: string): Instance[] {
  return instancesOf(sim, ws, name).filter((i) => i.state === 'pending' || i.state === 'running');
}

/** Over the whole simulated cloud: live instances in excess of one per Machine, and unclaimed running ones. */
export function cloudProblems(sim: Simulator): { duplicated: number; leaked: number } {
  const c = sim.cloud.counters();
  return { duplicated: c.duplicated, leaked: c.leaked };
}

/** The namespaced CAPI kinds a cluster's graph is made of (what `clusterctl move` would carry). */
export const CAPI_KINDS: ReadonlyArray<{ apiVersion: string; kind: string }> = [
  { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster' },
  { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'MachineDeployment' },
  { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'MachineSet' },
  { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine' },
  { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2', kind: 'KubeadmControlPlane' },
  { apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta2', kind: 'KubeadmConfig' },
  { apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta2', kind: 'KubeadmConfigTemplate' },
  { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'SimCluster' },
  { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'SimMachine' },
  { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'SimMachineTemplate' },
  { apiVersion: 'addons.cluster.x-k8s.io/v1alpha1', kind: 'HelmChartProxy' },
  { apiVersion: 'addons.cluster.x-k8s.io/v1alpha1', kind: 'HelmReleaseProxy' },
];

/** Every object of the CAPI kinds in the workspace namespace that belongs to the cluster, as `Kind/name`. */
export async function capiObjectsOf(client: KubeClient, ws: string, name: string): Promise<string[]> {
  const namespace = workspaceNamespace(ws);
  const out: string[] = [];
  for (const k of CAPI_KINDS) {
    const items: KubeObject[] = await client.list(k.apiVersion, k.kind, { namespace });
    for (const o of items) {
      const labels = o.metadata.labels ?? {};
      const owned = k.kind === 'Cluster' ? o.metadata.name === name : labels['cluster.x-k8s.io/cluster-name'] === name || labels['slipway.dev/cluster'] === name;
      if (owned) out.push(`${k.kind}/${o.metadata.name}`);
    }
  }
  for (const s of await client.list('v1', 'Secret', { namespace })) {
    if (s.metadata.name.startsWith(`${name}-`) || s.metadata.labels?.['cluster.x-k8s.io/cluster-name'] === name) out.push(`Secret/${s.metadata.name}`);
  }
  return out.sort();
}
