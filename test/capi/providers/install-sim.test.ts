/**
 * The installer end to end on the simulator: a fresh workload cluster that serves no CAPI kind until its CRDs
 * are installed (CRD-gated, as a real cluster), one tainted control-plane node with a CNI, components from the
 * simulator's release repository over HTTPS with its self-signed CA. Reconcile passes, polled like the state
 * machine polls them, until every provider is Available — then the controllers are proven by a pivot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../local/sim/index.ts';
import type { KubeClient } from '../../../shared/capi/client.ts';
import { connectKubeconfig, connectWorkload } from '../../../shared/capi/connect.ts';
import { KubeKindNotServedError } from '../../../shared/capi/errors.ts';
import { move } from '../../../shared/capi/mover.ts';
import {
  createComponentsFetcher,
  type ProviderInstallOptions,
  type ProviderStatus,
  providerStatus,
  reconcileProviders,
} from '../../../shared/capi/providers/index.ts';
import { renderCni, renderInitialCluster, type TopologyInput, workspaceNamespace } from '../../../shared/capi/render.ts';
import { clusterAvailable, controlPlaneInitialized, nodesReady, type WaitResult } from '../../../shared/capi/status.ts';
import type { KubeObject } from '../../../shared/capi/types.ts';

const CAPI = 'cluster.x-k8s.io/v1beta2';
const WS = 'team-i';
const NS = workspaceNamespace(WS);
const NAME = 'inst-1';

const input: TopologyInput = {
  cluster: {
    uid: '01JD3XINSTALL1',
    workspaceId: WS,
    name: NAME,
    clusterClass: 'sim-ferrol-1-31-v1',
    kubernetesVersion: 'v1.31.4',
    region: 'eu-west-1',
    controlPlane: { replicas: 1, instanceType: 'm6i.large' },
    nodePools: [],
  },
  plan: { clusterClass: 'sim-ferrol-1-31-v1', kubernetesVersion: 'v1.31.4' },
  network: { vpcCidr: '10.0.0.0/16', podCidr: '192.168.0.0/16', serviceCidr: '10.96.0.0/12', endpointAccess: 'public' },
};

async function waitUntil(what: string, read: () => Promise<WaitResult>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: WaitResult = { done: false, message: 'not polled' };
  while (Date.now() < deadline) {
    last = await read();
    if (last.done) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}: ${last.message}`);
}

/** Counts the calls a pass makes (the simulator's counters include the controllers' traffic). */
function counting(client: KubeClient): { client: KubeClient; calls: string[] } {
  const calls: string[] = [];
  const wrapped = new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { client: wrapped, calls };
}

describe('installing the providers into a fresh simulated workload cluster', () => {
  let sim: Simulator;
  let mgmt: KubeClient;
  let workload: KubeClient;
  let opts: ProviderInstallOptions;

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'fast', seed: 71, tls: true, crdGatedWorkloads: true });
    mgmt = await connectKubeconfig({ object: sim.managementKubeconfig() }, { cluster: 'management' });
    await mgmt.ensureNamespace(NS);
    await mgmt.apply(renderInitialCluster(input), { force: true });
    await waitUntil('control plane initialized', async () => {
      const [cluster, machines] = await Promise.all([
        mgmt.get({ apiVersion: CAPI, kind: 'Cluster', name: NAME, namespace: NS }),
        mgmt.list(CAPI, 'Machine', { namespace: NS, labelSelector: { 'cluster.x-k8s.io/cluster-name': NAME } }),
      ]);
      return controlPlaneInitialized(cluster, machines);
    });
    workload = await connectWorkload(mgmt, NS, NAME);
    for (const obj of renderCni({ cni: { name: 'cilium', version: '1.16.5' }, podCidr: '192.168.0.0/16' }, input.cluster)) await workload.apply(obj, { force: true });
    await waitUntil('the control-plane node Ready', async () => nodesReady(await workload.list('v1', 'Node')));
    const ca = Buffer.from(sim.server.caData ?? '', 'base64').toString('utf8');
    opts = { infrastructure: 'sim', repository: sim.releasesUrl, fetcher: createComponentsFetcher({ ca }), wait: { timeoutMs: 3000, intervalMs: 25 } };
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('knows no CAPI kind before the install', async () => {
    await expect(workload.list(CAPI, 'Cluster')).rejects.toThrow(KubeKindNotServedError);
    expect(await providerStatus(workload, opts)).toMatchObject({ ready: false, stage: 'cert-manager', applied: [] });
  });

  it('installs cert-manager and every provider, one set per pass, until all are Available', async () => {
    // Act
    const passes: ProviderStatus[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const status = await reconcileProviders(workload, opts);
      passes.push(status);
      if (status.ready) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Assess
    expect(passes.at(-1), JSON.stringify(passes.at(-1))).toMatchObject({ ready: true, stage: 'ready' });
    expect(passes.flatMap((p) => p.applied)).toEqual([
      'cert-manager v1.16.2',
      'cluster-api v1.14.0',
      'bootstrap-kubeadm v1.14.0',
      'control-plane-kubeadm v1.14.0',
      'infrastructure-sim v0.1.0',
      'addon-helm v0.6.0',
    ]);
    const inventory = await workload.list('clusterctl.cluster.x-k8s.io/v1alpha3', 'Provider');
    expect(inventory.map((p) => `${p.metadata.namespace}/${p.metadata.name} ${String(p.version)}`).sort()).toEqual([
      'caaph-system/addon-helm v0.6.0',
      'capi-kubeadm-bootstrap-system/bootstrap-kubeadm v1.14.0',
      'capi-kubeadm-control-plane-system/control-plane-kubeadm v1.14.0',
      'capi-sim-system/infrastructure-sim v0.1.0',
      'capi-system/cluster-api v1.14.0',
    ]);
    const crds = await workload.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition', { labelSelector: 'cluster.x-k8s.io/provider=cluster-api' });
    expect(crds.map((c) => c.metadata.name)).toContain('clusters.cluster.x-k8s.io');
    expect(await workload.get({ apiVersion: 'v1', kind: 'Namespace', name: 'cert-manager-test' }).then((ns) => ns?.metadata.deletionTimestamp !== undefined || ns === null)).toBe(true);
    const core = await workload.get<KubeObject>({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'capi-controller-manager', namespace: 'capi-system' });
    expect(JSON.stringify(core?.spec)).toContain('ClusterTopology=true');
  });

  it('polls with two LISTs once installed', async () => {
    // Prepare
    const { client, calls } = counting(workload);
    // Act
    const status = await reconcileProviders(client, opts);
    // Assess
    expect(status.ready).toBe(true);
    expect(calls).toEqual(['list', 'list']);
  });

  it('runs the controllers: the cluster pivots into itself and stays Available', async () => {
    // Act
    await move(mgmt, workload, { namespace: NS, clusterName: NAME });
    // Assess
    await waitUntil('Available in the workload cluster', async () =>
      clusterAvailable(await workload.get({ apiVersion: CAPI, kind: 'Cluster', name: NAME, namespace: NS }), { controlPlane: 1, workers: 0 }),
    );
    expect(sim.counters()[`${NS}--${NAME}`]?.instances).toMatchObject({ duplicated: 0, leaked: 0 });
  });
});
