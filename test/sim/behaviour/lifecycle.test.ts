import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../local/sim/index.ts';
import {
  CAPI,
  type Clients,
  clientsFor,
  conditionOf,
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

const NS = 'team-a';
const NAME = 'dev-1';

describe('a topology Cluster through its life', () => {
  let sim: Simulator;
  let mgmt: Clients;
  let workload: Clients;

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'fast', seed: 7 });
    mgmt = clientsFor(sim.managementKubeconfig());
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('with one control-plane replica reaches ControlPlaneInitialized and its kubeconfig Secret reaches the workload cluster', async () => {
    // Prepare
    await ensureNamespace(mgmt, NS);
    // Act
    await mgmt.objects.create(topologyCluster(NS, NAME, { cpReplicas: 1 }));
    // Assess
    const cluster = await waitFor('ControlPlaneInitialized', async () => {
      const c = await getCluster(mgmt, NS, NAME);
      return isTrue(c, 'ControlPlaneInitialized') ? c : undefined;
    });
    expect(cluster.status?.initialization).toEqual({ infrastructureProvisioned: true, controlPlaneInitialized: true });
    const secret = await mgmt.core.readNamespacedSecret({ name: `${NAME}-kubeconfig`, namespace: NS });
    expect(secret.type).toBe('cluster.x-k8s.io/secret');
    expect(secret.metadata?.labels?.['cluster.x-k8s.io/cluster-name']).toBe(NAME);
    expect(secret.metadata?.ownerReferences?.[0]?.kind).toBe('KubeadmControlPlane');
    workload = await workloadClients(mgmt, NS, NAME);
    expect(workload.kc.getCurrentUser()?.name).toBe(`${NAME}-admin`);
    const namespaces = await workload.core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system']));
    const nodes = await waitFor('a node', async () => {
      const l = await workload.core.listNode();
      return l.items.length === 1 ? l.items : undefined;
    });
    expect(nodes[0]?.metadata?.labels?.['node-role.kubernetes.io/control-plane']).toBe('');
    expect(nodes[0]?.spec?.taints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
    expect(nodes[0]?.spec?.providerID).toMatch(/^sim:\/\/sim-region-1\/i-[0-9a-f]{17}$/);
    expect(nodeReady(nodes[0] ?? {})).toBe(false);
    // Topology-generated objects: names and ownership as CAPI makes them.
    const kcps = await list(mgmt, 'controlplane.cluster.x-k8s.io/v1beta2', 'KubeadmControlPlane', NS);
    expect(kcps).toHaveLength(1);
    expect(kcps[0]?.metadata?.name).toMatch(new RegExp(`^${NAME}-[a-z0-9]{5}$`));
    expect(kcps[0]?.metadata?.labels).toMatchObject({ 'cluster.x-k8s.io/cluster-name': NAME, 'topology.cluster.x-k8s.io/owned': '' });
    expect(kcps[0]?.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Cluster', name: NAME, controller: true })]);
    const machines = await list(mgmt, CAPI, 'Machine', NS);
    expect(machines[0]?.status?.nodeRef?.name).toBe(nodes[0]?.metadata?.name);
    expect(machines[0]?.spec?.providerID).toBe(nodes[0]?.spec?.providerID);
  });

  it('gets a Ready node once a CNI DaemonSet runs in kube-system', async () => {
    // Act
    await installCni(workload);
    // Assess
    await waitFor('node Ready', async () => {
      const l = await workload.core.listNode();
      return l.items.length === 1 && l.items.every(nodeReady);
    });
    const ds = await waitFor('cilium numberReady', async () => {
      const d = await workload.apps.readNamespacedDaemonSet({ name: 'cilium', namespace: 'kube-system' });
      return d.status?.numberReady === 1 ? d : undefined;
    });
    expect(ds.status?.desiredNumberScheduled).toBe(1);
  });

  it('scaled to 3 control-plane replicas and 2 workers becomes Available', async () => {
    // Act
    const cluster = await getCluster(mgmt, NS, NAME);
    await mergePatch(mgmt, cluster, {
      spec: { topology: { controlPlane: { replicas: 3 }, workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', replicas: 2 }] } } },
    });
    // Assess
    const available = await waitFor('Cluster Available with every machine ready', async () => {
      const c = await getCluster(mgmt, NS, NAME);
      const ready = (c.status?.controlPlane as { readyReplicas?: number } | undefined)?.readyReplicas === 3 && (c.status?.workers as { readyReplicas?: number } | undefined)?.readyReplicas === 2;
      return isTrue(c, 'Available') && ready ? c : undefined;
    });
    expect(available.status?.controlPlane).toMatchObject({ desiredReplicas: 3, replicas: 3, readyReplicas: 3, upToDateReplicas: 3 });
    expect(available.status?.workers).toMatchObject({ desiredReplicas: 2, replicas: 2, readyReplicas: 2, availableReplicas: 2 });
    for (const t of ['InfrastructureReady', 'ControlPlaneAvailable', 'WorkersAvailable', 'RemoteConnectionProbe', 'TopologyReconciled']) {
      expect(conditionOf(available, t)?.status, t).toBe('True');
    }
    const mds = await list(mgmt, CAPI, 'MachineDeployment', NS);
    expect(mds[0]?.metadata?.name).toMatch(new RegExp(`^${NAME}-md-0-[a-z0-9]{5}$`));
    expect(mds[0]?.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Cluster', name: NAME })]);
    expect(mds[0]?.metadata?.ownerReferences?.[0]?.controller).toBeUndefined();
    const nodes = await workload.core.listNode();
    expect(nodes.items).toHaveLength(5);
    expect(nodes.items.every(nodeReady)).toBe(true);
    expect(sim.counters()['team-a--dev-1']?.instances).toMatchObject({ running: 5, duplicated: 0, leaked: 0 });
  });

  it('rolls a Kubernetes version bump through the control plane first, then the workers', async () => {
    // Prepare: watch the invariant "workers only move once the whole control plane runs the new version".
    const violations: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        // MachineDeployment first: if it already carries the new version, the control plane read after it must too.
        const md = (await list(mgmt, CAPI, 'MachineDeployment', NS))[0];
        const kcp = (await list(mgmt, 'controlplane.cluster.x-k8s.io/v1beta2', 'KubeadmControlPlane', NS))[0];
        if (md?.spec?.template?.spec?.version === 'v1.31.5' && !(kcp?.status?.version === 'v1.31.5' && kcp.status.upToDateReplicas === 3)) {
          violations.push(`workers at v1.31.5 while control plane at ${kcp?.status?.version} (${kcp?.status?.upToDateReplicas} up to date)`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    // Act
    const cluster = await getCluster(mgmt, NS, NAME);
    await mergePatch(mgmt, cluster, { spec: { topology: { version: 'v1.31.5' } } });
    // Assess
    await waitFor(
      'every machine on v1.31.5 and the Cluster Available',
      async () => {
        const machines = await list(mgmt, CAPI, 'Machine', NS);
        const c = await getCluster(mgmt, NS, NAME);
        return machines.length === 5 && machines.every((m) => m.spec?.version === 'v1.31.5' && m.status?.phase === 'Running') && isTrue(c, 'Available') && !isTrue(c, 'RollingOut');
      },
      20_000,
    );
    watching = false;
    await watcher;
    expect(violations).toEqual([]);
    const nodes = await workload.core.listNode();
    expect(nodes.items.map((n) => n.status?.nodeInfo?.kubeletVersion)).toEqual(Array(5).fill('v1.31.5'));
    const instances = sim.counters()['team-a--dev-1']?.instances;
    expect(instances).toMatchObject({ running: 5, duplicated: 0, leaked: 0 });
  });
});
