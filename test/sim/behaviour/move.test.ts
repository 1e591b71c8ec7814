/**
 * Pivot: `clusterctl move` written with plain client-node calls, following CAPI.md's sequence, from the
 * management cluster into the workload cluster itself (Palette's order: moved while it has one control-plane
 * machine, scaled afterwards). The simulator must adopt the running instances: zero new, duplicated or leaked.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerComponents, type Simulator, startSimulator } from '../../../local/sim/index.ts';
import {
  CAPI,
  type CapiObject,
  type Clients,
  clientsFor,
  ensureNamespace,
  getCluster,
  installCni,
  isTrue,
  list,
  mergePatch,
  nodeReady,
  topologyCluster,
  waitFor,
  workloadClients,
} from './helpers.ts';

const NS = 'team-m';
const NAME = 'pivot-1';
const VC = `${NS}--${NAME}`;

/** The kinds clusterctl discovers (CRDs labelled clusterctl.cluster.x-k8s.io), plus Secrets and ConfigMaps. */
const MOVE_KINDS: [string, string][] = [
  [CAPI, 'Cluster'],
  [CAPI, 'ClusterClass'],
  ['controlplane.cluster.x-k8s.io/v1beta2', 'KubeadmControlPlane'],
  ['controlplane.cluster.x-k8s.io/v1beta2', 'KubeadmControlPlaneTemplate'],
  [CAPI, 'MachineDeployment'],
  [CAPI, 'MachineSet'],
  [CAPI, 'Machine'],
  ['bootstrap.cluster.x-k8s.io/v1beta2', 'KubeadmConfig'],
  ['bootstrap.cluster.x-k8s.io/v1beta2', 'KubeadmConfigTemplate'],
  ['infrastructure.cluster.x-k8s.io/v1beta2', 'SimCluster'],
  ['infrastructure.cluster.x-k8s.io/v1beta2', 'SimClusterTemplate'],
  ['infrastructure.cluster.x-k8s.io/v1beta2', 'SimMachine'],
  ['infrastructure.cluster.x-k8s.io/v1beta2', 'SimMachineTemplate'],
  ['v1', 'Secret'],
  ['v1', 'ConfigMap'],
];

interface Node {
  obj: KubernetesObject & Record<string, unknown>;
  /** Delete from the source after the move (false for the ClusterClass other clusters still use). */
  deleteFromSource: boolean;
}

function header(o: KubernetesObject) {
  return { apiVersion: o.apiVersion ?? '', kind: o.kind ?? '', metadata: { name: o.metadata?.name ?? '', ...(o.metadata?.namespace !== undefined ? { namespace: o.metadata.namespace } : {}) } };
}

function code(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

/** Objects of the namespace, plus the ClusterClass (soft owner) and its templates from the class namespace. */
async function discover(source: Clients, namespace: string, clusterName: string): Promise<Node[]> {
  const out: Node[] = [];
  for (const [apiVersion, kind] of MOVE_KINDS) {
    for (const o of await list(source, apiVersion, kind, namespace)) out.push({ obj: o as Node['obj'], deleteFromSource: true });
  }
  const cluster = await getCluster(source, namespace, clusterName);
  const classRef = cluster.spec?.topology?.classRef;
  if (classRef !== undefined && (classRef.namespace ?? namespace) !== namespace) {
    const classNs = classRef.namespace ?? namespace;
    const cc = await source.objects.read<CapiObject>({ apiVersion: CAPI, kind: 'ClusterClass', metadata: { name: classRef.name, namespace: classNs } });
    out.push({ obj: cc as Node['obj'], deleteFromSource: false });
    for (const [apiVersion, kind] of MOVE_KINDS.filter(([, k]) => k.endsWith('Template'))) {
      for (const t of await list(source, apiVersion, kind, classNs)) {
        if (t.metadata?.ownerReferences?.some((r) => r.uid === cc.metadata?.uid)) out.push({ obj: t as Node['obj'], deleteFromSource: false });
      }
    }
  }
  return out;
}

/** Each object after all its owners (owners outside the moved set are ignored). */
function ownerOrder(nodes: Node[]): Node[] {
  const byUid = new Map(nodes.map((n) => [n.obj.metadata?.uid ?? '', n]));
  const done = new Set<string>();
  const out: Node[] = [];
  const visit = (n: Node, path: Set<string>) => {
    const uid = n.obj.metadata?.uid ?? '';
    if (done.has(uid) || path.has(uid)) return;
    path.add(uid);
    for (const ref of n.obj.metadata?.ownerReferences ?? []) {
      const owner = byUid.get(ref.uid);
      if (owner !== undefined) visit(owner, path);
    }
    done.add(uid);
    out.push(n);
  };
  for (const n of nodes) visit(n, new Set());
  return out;
}

async function move(source: Clients, target: Clients, namespace: string, clusterName: string): Promise<{ moved: number }> {
  // Preflight: providers in the target, provisioning complete, nothing paused.
  const providers = await list(target, 'clusterctl.cluster.x-k8s.io/v1alpha3', 'Provider');
  expect(providers.map((p) => p.metadata?.name).sort()).toEqual(expect.arrayContaining(['bootstrap-kubeadm', 'cluster-api', 'control-plane-kubeadm', 'infrastructure-sim']));
  const cluster = await getCluster(source, namespace, clusterName);
  expect(cluster.status?.initialization).toEqual({ infrastructureProvisioned: true, controlPlaneInitialized: true });
  for (const m of await list(source, CAPI, 'Machine', namespace)) expect(m.status?.nodeRef, m.metadata?.name).toBeDefined();
  expect(cluster.spec?.paused).not.toBe(true);

  const nodes = ownerOrder(await discover(source, namespace, clusterName));
  const classNode = nodes.find((n) => n.obj.kind === 'ClusterClass');

  // (1) pause
  await mergePatch(source, cluster, { spec: { paused: true } });
  if (classNode !== undefined) await mergePatch(source, classNode.obj, { metadata: { annotations: { 'cluster.x-k8s.io/paused': '' } } });
  // (2) wait until nothing blocks the move
  await waitFor('no block-move annotation', async () => {
    for (const n of nodes) {
      const live = await source.objects.read(header(n.obj)).catch(() => undefined);
      if (live?.metadata?.annotations?.['clusterctl.cluster.x-k8s.io/block-move'] !== undefined) return false;
    }
    return true;
  });
  // (3)+(4) create in owner order with rebuilt ownerReferences; status is not copied
  const newUid = new Map<string, string>();
  for (const n of nodes) {
    const live = (await source.objects.read(header(n.obj))) as Node['obj'];
    const { status: _status, ...rest } = live;
    const meta = live.metadata ?? {};
    const obj = {
      ...rest,
      metadata: {
        name: meta.name,
        namespace: meta.namespace,
        labels: meta.labels,
        annotations: meta.annotations,
        finalizers: meta.finalizers,
        ownerReferences: (meta.ownerReferences ?? [])
          .filter((r) => newUid.has(r.uid))
          .map((r) => ({ ...r, uid: newUid.get(r.uid) ?? r.uid })),
      },
    } as Node['obj'];
    if (meta.namespace !== undefined) await ensureNamespace(target, meta.namespace);
    let created: KubernetesObject;
    try {
      created = await target.objects.create(obj);
    } catch (err) {
      if (code(err) !== 409) throw err;
      const current = await target.objects.read(header(obj));
      created = await target.objects.replace({ ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata?.resourceVersion } });
    }
    newUid.set(meta.uid ?? '', created.metadata?.uid ?? '');
  }
  // (5) delete from the source in reverse order
  for (const n of [...nodes].reverse()) {
    if (!n.deleteFromSource) continue;
    try {
      await mergePatch(source, n.obj, { metadata: { annotations: { 'clusterctl.cluster.x-k8s.io/delete-for-move': '' } } });
      await source.objects.delete(n.obj);
      await mergePatch(source, n.obj, { metadata: { finalizers: [] } });
    } catch (err) {
      if (code(err) !== 404) throw err;
    }
  }
  if (classNode !== undefined) await mergePatch(source, classNode.obj, { metadata: { annotations: { 'cluster.x-k8s.io/paused': null } } });
  // (6) unpause in the target
  const moved = await getCluster(target, namespace, clusterName);
  await mergePatch(target, moved, { spec: { paused: null } });
  if (classNode !== undefined) await mergePatch(target, classNode.obj, { metadata: { annotations: { 'cluster.x-k8s.io/paused': null } } });
  return { moved: nodes.length };
}

describe('clusterctl move into the workload cluster (pivot)', () => {
  let sim: Simulator;
  let mgmt: Clients;
  let workload: Clients;
  let launchedBeforeMove = 0;
  let providerIdsBeforeMove: string[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'fast', seed: 11 });
    mgmt = clientsFor(sim.managementKubeconfig());
    // Prepare (Palette's order): 1 control-plane replica, CNI, node Ready, providers installed and Available.
    await ensureNamespace(mgmt, NS);
    await mgmt.objects.create(topologyCluster(NS, NAME, { cpReplicas: 1 }));
    await waitFor('ControlPlaneInitialized', async () => isTrue(await getCluster(mgmt, NS, NAME), 'ControlPlaneInitialized'));
    workload = await workloadClients(mgmt, NS, NAME);
    await installCni(workload);
    await waitFor('node Ready', async () => (await workload.core.listNode()).items.some(nodeReady));
    for (const o of providerComponents()) await workload.objects.create(o as KubernetesObject);
    await waitFor('provider Deployments Available', async () => {
      const ds = await workload.apps.listDeploymentForAllNamespaces();
      return ds.items.length === 8 && ds.items.every((d) => d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True'));
    });
    await waitFor('every Machine has a nodeRef', async () => (await list(mgmt, CAPI, 'Machine', NS)).every((m) => m.status?.nodeRef !== undefined));
    launchedBeforeMove = sim.cloud.totalLaunched;
    providerIdsBeforeMove = (await list(mgmt, 'infrastructure.cluster.x-k8s.io/v1beta2', 'SimMachine', NS)).map((m) => m.spec?.providerID ?? '').sort();
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('leaves the Cluster Available in the target with zero new, duplicated or leaked instances', async () => {
    // Act
    const { moved } = await move(mgmt, workload, NS, NAME);
    // Assess
    expect(moved).toBeGreaterThan(10);
    const cluster = await waitFor('Cluster Available in the target', async () => {
      const c = await getCluster(workload, NS, NAME);
      return isTrue(c, 'Available') ? c : undefined;
    });
    expect(cluster.spec?.paused).toBeUndefined();
    await expect(getCluster(mgmt, NS, NAME)).rejects.toMatchObject({ code: 404 });
    expect(await list(mgmt, CAPI, 'Machine', NS)).toEqual([]);
    const machines = await list(workload, CAPI, 'Machine', NS);
    expect(machines.every((m) => m.status?.nodeRef !== undefined && m.status.phase === 'Running')).toBe(true);
    const providerIds = (await list(workload, 'infrastructure.cluster.x-k8s.io/v1beta2', 'SimMachine', NS)).map((m) => m.spec?.providerID ?? '').sort();
    expect(providerIds).toEqual(providerIdsBeforeMove);
    // Past the leak grace period, the cloud must still see exactly the machines it had.
    await new Promise((r) => setTimeout(r, sim.timing.leakGraceMs + 100));
    expect(sim.cloud.totalLaunched).toBe(launchedBeforeMove);
    expect(sim.counters()[VC]?.instances).toMatchObject({ running: 1, duplicated: 0, leaked: 0 });
  });

  it('keeps managing itself after the move: scaled to 3 + 1 it becomes Available, still with no duplicate or leak', async () => {
    // Act
    const cluster = await getCluster(workload, NS, NAME);
    await mergePatch(workload, cluster, {
      spec: { topology: { controlPlane: { replicas: 3 }, workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', replicas: 1 }] } } },
    });
    // Assess
    await waitFor('Cluster Available at 3 + 1', async () => {
      const c = await getCluster(workload, NS, NAME);
      const cp = c.status?.controlPlane as { readyReplicas?: number } | undefined;
      const w = c.status?.workers as { readyReplicas?: number } | undefined;
      return isTrue(c, 'Available') && cp?.readyReplicas === 3 && w?.readyReplicas === 1;
    });
    expect(sim.cloud.totalLaunched).toBe(launchedBeforeMove + 3);
    expect(sim.counters()[VC]?.instances).toMatchObject({ running: 4, duplicated: 0, leaked: 0 });
  });

  it('moves back to the management cluster the same way, then deletion terminates every instance', async () => {
    // Prepare
    const launched = sim.cloud.totalLaunched;
    const providerIds = (await list(workload, 'infrastructure.cluster.x-k8s.io/v1beta2', 'SimMachine', NS)).map((m) => m.spec?.providerID ?? '');
    // Act: move back (every Machine has a node, so the preflight passes)
    await move(workload, mgmt, NS, NAME);
    await waitFor('Cluster Available in the management cluster', async () => isTrue(await getCluster(mgmt, NS, NAME), 'Available'));
    await new Promise((r) => setTimeout(r, sim.timing.leakGraceMs + 100));
    // Assess: adopted again, nothing new, nothing leaked
    expect(sim.cloud.totalLaunched).toBe(launched);
    expect(sim.counters()[VC]?.instances).toMatchObject({ running: 4, duplicated: 0, leaked: 0 });
    // Act: delete from the management cluster
    await mgmt.objects.delete({ apiVersion: CAPI, kind: 'Cluster', metadata: { name: NAME, namespace: NS } });
    // Assess
    await waitFor('Cluster gone', async () => getCluster(mgmt, NS, NAME).then(() => false, (err: { code?: number }) => err.code === 404));
    expect(providerIds.map((id) => sim.cloud.describe(id)?.state)).toEqual(providerIds.map(() => 'terminated'));
    expect(sim.server.getCluster(VC)).toBeUndefined();
    expect(sim.cloud.counters()).toMatchObject({ running: 0, duplicated: 0, leaked: 0 });
  });
});
