import { describe, expect, it } from 'vitest';
import { CapiFailedError, ClusterClassNotFoundError, MachineFailedError, TopologyRefusedError } from '../../shared/capi/errors.ts';
import {
  clusterAvailable,
  clusterGone,
  controlPlaneInitialized,
  helmReleasesReady,
  machineFailure,
  machinesUpToDate,
  nodesReady,
  deploymentAvailable,
  throwIfFailed,
  topologyFailure,
  topologyStable,
} from '../../shared/capi/status.ts';
import type { KubeObject } from '../../shared/capi/types.ts';

const cond = (type: string, status: 'True' | 'False' | 'Unknown', reason = type, message?: string) => ({ type, status, reason, ...(message ? { message } : {}) });

function obj(kind: string, name: string, status: Record<string, unknown> = {}, extra: Partial<KubeObject> = {}): KubeObject {
  return { apiVersion: 'cluster.x-k8s.io/v1beta2', kind, metadata: { name, namespace: 'ns', generation: 1 }, status, ...extra };
}

function machine(name: string, status: Record<string, unknown>, version = 'v1.31.4'): KubeObject {
  return obj('Machine', name, status, { spec: { version } });
}

const running = (name: string, version = 'v1.31.4') =>
  machine(name, { phase: 'Running', nodeRef: { name }, conditions: [cond('Ready', 'True'), cond('UpToDate', 'True')] }, version);

describe('controlPlaneInitialized', () => {
  it('waits for infrastructure, then the control plane, and is done on the initialization flag or condition', () => {
    expect(controlPlaneInitialized(null)).toMatchObject({ done: false, message: 'Cluster not found' });
    expect(controlPlaneInitialized(obj('Cluster', 'c', { conditions: [cond('InfrastructureReady', 'False', 'Provisioning', 'waiting for VPC')] }))).toEqual({
      done: false,
      message: 'waiting for infrastructure: InfrastructureReady=False (Provisioning): waiting for VPC',
    });
    expect(controlPlaneInitialized(obj('Cluster', 'c', { initialization: { infrastructureProvisioned: true } }))).toMatchObject({ done: false, message: expect.stringContaining('control plane') });
    expect(controlPlaneInitialized(obj('Cluster', 'c', { initialization: { controlPlaneInitialized: true } })).done).toBe(true);
    expect(controlPlaneInitialized(obj('Cluster', 'c', { conditions: [cond('ControlPlaneInitialized', 'True')] })).done).toBe(true);
    // A phase string alone proves nothing.
    expect(controlPlaneInitialized(obj('Cluster', 'c', { phase: 'Provisioned' })).done).toBe(false);
  });

  it('reports a failed machine as a terminal machine failure', () => {
    const failed = machine('m1', { phase: 'Failed', deprecated: { v1beta1: { failureReason: 'InsufficientCapacity', failureMessage: 'no capacity in az-a' } } });
    const r = controlPlaneInitialized(obj('Cluster', 'c', {}), [failed]);
    expect(r).toMatchObject({ done: false, failedKind: 'machine', failed: 'Machine m1 failed: InsufficientCapacity (no capacity in az-a)' });
    expect(() => throwIfFailed(r, 'wait-control-plane')).toThrow(MachineFailedError);
    expect(machineFailure(machine('m2', { conditions: [cond('InfrastructureReady', 'False', 'InstanceProvisionFailed', 'quota')] }))).toBe('Machine m2 failed: InfrastructureReady InstanceProvisionFailed (quota)');
    expect(machineFailure(running('ok'))).toBeUndefined();
  });
});

describe('topologyFailure', () => {
  const topology = (reason: string, message: string, observedGeneration = 1, generation = 1) =>
    obj('Cluster', 'c', { observedGeneration, conditions: [{ ...cond('TopologyReconciled', 'False', reason, message), observedGeneration }] }, { metadata: { name: 'c', namespace: 'ns', generation } });

  it('a ClusterClass that does not exist is terminal, in CAPI’s wording and the simulator’s', () => {
    // core/reconcilers/topology/cluster: "failed to retrieve ClusterClass %s" wrapping the API's NotFound
    const capi = topology('ReconcileFailed', 'failed to retrieve ClusterClass default/aws-ferrol-1-31-v9: clusterclasses.cluster.x-k8s.io "aws-ferrol-1-31-v9" not found');
    const sim = topology('ReconcileFailed', 'failed to get ClusterClass default/sim-ferrol-1-31-v9: ClusterClass.cluster.x-k8s.io "sim-ferrol-1-31-v9" not found');
    for (const [cluster, name] of [[capi, 'aws-ferrol-1-31-v9'], [sim, 'sim-ferrol-1-31-v9']] as const) {
      const r = topologyFailure(cluster);
      expect(r).toMatchObject({ done: false, failedKind: 'clusterClass', failed: expect.stringMatching(new RegExp(`^ClusterClass ${name} does not exist \\(TopologyReconciled ReconcileFailed: `)) });
      // Every wait on the Cluster stops on it.
      expect(controlPlaneInitialized(cluster)).toEqual(r);
      expect(clusterAvailable(cluster, { controlPlane: 1, workers: 0 })).toEqual(r);
      expect(topologyStable(cluster)).toEqual(r);
      expect(() => throwIfFailed(controlPlaneInitialized(cluster), 'cluster c')).toThrow(ClusterClassNotFoundError);
    }
  });

  it('a topology refused as invalid is terminal', () => {
    for (const message of [
      'spec.topology.version: Invalid value: "v1.30.1": version cannot be decreased from "v1.31.4"',
      'spec.topology.controlPlane.replicas: Forbidden: cannot be an even number when etcd is stacked (got 4)',
      'spec.topology.workers.machineDeployments: Duplicate value: "workers"',
      'MachineDeployment class "gpu" not found in ClusterClass sim-ferrol-1-31-v1',
    ]) {
      const r = clusterAvailable(topology('ReconcileFailed', message), { controlPlane: 3, workers: 2 });
      expect(r, message).toMatchObject({ failedKind: 'topology', failed: `the topology is refused (TopologyReconciled ReconcileFailed: ${message})` });
      expect(() => throwIfFailed(r, 'cluster c')).toThrow(TopologyRefusedError);
    }
  });

  it('passing errors, progress, pauses, a class still reconciling and an earlier generation’s condition are waited on', () => {
    const waited = [
      topology('ReconcileFailed', 'failed to patch KubeadmControlPlane ns/c-x: Internal error occurred: failed calling webhook: connection refused'),
      topology('ReconcileFailed', 'SimMachineTemplate default/sim-ferrol-1-31-v1-worker (workers infrastructure) not found'),
      topology('ClusterUpgrading', 'Cluster is upgrading to v1.31.5\n  * KubeadmControlPlane c-x upgrading to version v1.31.5'),
      topology('ReconcilePaused', 'Cluster spec.paused is set to true'),
      topology('ClusterClassNotReconciled', 'ClusterClass not reconciled'),
      // The Cluster was changed since: the failure was about its previous spec.
      topology('ReconcileFailed', 'failed to retrieve ClusterClass default/x: clusterclasses.cluster.x-k8s.io "x" not found', 1, 2),
    ];
    for (const cluster of waited) {
      expect(topologyFailure(cluster), JSON.stringify(cluster.status)).toBeUndefined();
      expect(controlPlaneInitialized(cluster).failed).toBeUndefined();
    }
  });
});

describe('clusterAvailable', () => {
  const counters = (n: number) => ({ desiredReplicas: n, replicas: n, readyReplicas: n, availableReplicas: n, upToDateReplicas: n });

  it('is done only when Available with exactly the requested replicas everywhere', () => {
    const ok = obj('Cluster', 'c', { observedGeneration: 1, conditions: [cond('Available', 'True')], controlPlane: counters(3), workers: counters(4) });
    expect(clusterAvailable(ok, { controlPlane: 3, workers: 4 })).toEqual({ done: true, message: 'available: control plane 3, workers 4' });
    expect(clusterAvailable(ok, { controlPlane: 3, workers: 5 }).done).toBe(false);
    const scaling = obj('Cluster', 'c', { conditions: [cond('Available', 'True'), cond('ScalingUp', 'True')], controlPlane: counters(3), workers: { ...counters(4), availableReplicas: 3 } });
    expect(clusterAvailable(scaling, { controlPlane: 3, workers: 4 })).toMatchObject({ done: false, message: expect.stringContaining('workers 3/4 available') });
    const stale = obj('Cluster', 'c', { observedGeneration: 0, conditions: [cond('Available', 'True')], controlPlane: counters(1) });
    expect(clusterAvailable({ ...stale, metadata: { ...stale.metadata, generation: 2 } }, { controlPlane: 1, workers: 0 }).done).toBe(false);
    const noWorkers = obj('Cluster', 'c', { conditions: [cond('Available', 'True')], controlPlane: counters(1) });
    expect(clusterAvailable(noWorkers, { controlPlane: 1, workers: 0 }).done).toBe(true);
    expect(clusterAvailable(obj('Cluster', 'c', { conditions: [cond('Available', 'False', 'NotAvailable')], controlPlane: counters(1) }), { controlPlane: 1, workers: 0 })).toMatchObject({
      done: false,
      message: 'Available=False (NotAvailable)',
    });
  });
});

describe('topologyStable', () => {
  it('is stable only with nothing rolling out, scaling, unobserved or deleting', () => {
    const counters = (replicas: number, upToDate = replicas) => ({ replicas, upToDateReplicas: upToDate });
    const stable = obj('Cluster', 'c', { observedGeneration: 1, conditions: [cond('RollingOut', 'False')], controlPlane: counters(3), workers: counters(2) });
    expect(topologyStable(stable, [running('a')])).toEqual({ done: true, message: 'no rollout in progress' });
    const rolling = obj('Cluster', 'c', { observedGeneration: 1, conditions: [cond('RollingOut', 'True')], controlPlane: counters(3, 1), workers: counters(2) });
    expect(topologyStable(rolling)).toEqual({ done: false, message: 'RollingOut; control plane 1/3 up to date' });
    const unobserved = { ...stable, metadata: { ...stable.metadata, generation: 2 } };
    expect(topologyStable(unobserved).done).toBe(false);
    const deleting = { ...running('b'), metadata: { name: 'b', deletionTimestamp: '2026-11-22T00:00:00Z' } };
    expect(topologyStable(stable, [deleting])).toMatchObject({ done: false, message: '1 machine(s) deleting' });
    expect(topologyStable(null).done).toBe(false);
  });
});

describe('machines, nodes, providers, releases, deletion', () => {
  it('machinesUpToDate wants every machine at the version, ready, and none left over', () => {
    expect(machinesUpToDate([running('a', 'v1.32.1'), running('b', 'v1.32.1')], 'v1.32.1', 2).done).toBe(true);
    expect(machinesUpToDate([running('a', 'v1.32.1'), running('b')], 'v1.32.1', 2)).toMatchObject({ done: false, message: '1/2 machines at v1.32.1, 0 not ready, 0 not up to date, 0 deleting' });
    const old = { ...running('c'), metadata: { name: 'c', deletionTimestamp: '2026-11-22T00:00:00Z' } };
    expect(machinesUpToDate([running('a', 'v1.32.1'), running('b', 'v1.32.1'), old], 'v1.32.1', 2).done).toBe(false);
    expect(machinesUpToDate([running('a', 'v1.32.1'), machine('b', { phase: 'Provisioned' }, 'v1.32.1')], 'v1.32.1', 2).done).toBe(false);
  });

  it('nodesReady needs the minimum count and every node Ready', () => {
    const node = (name: string, ready: boolean) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { conditions: [cond('Ready', ready ? 'True' : 'False', ready ? 'KubeletReady' : 'KubeletNotReady', 'cni plugin not initialized')] } });
    expect(nodesReady([])).toEqual({ done: false, message: 'no Node registered yet' });
    expect(nodesReady([node('n1', false)])).toMatchObject({ done: false, message: expect.stringContaining('cni plugin not initialized') });
    expect(nodesReady([node('n1', true)]).done).toBe(true);
    expect(nodesReady([node('n1', true)], 2).done).toBe(false);
  });

  it('deploymentAvailable wants Available at the current generation', () => {
    const dep = (available: boolean, observed = 1) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'capi-controller-manager', namespace: 'capi-system', generation: 1 },
      status: { observedGeneration: observed, conditions: [cond('Available', available ? 'True' : 'False')] },
    });
    expect(deploymentAvailable(dep(true))).toBe(true);
    expect(deploymentAvailable(dep(false))).toBe(false);
    expect(deploymentAvailable(dep(true, 0))).toBe(false);
    expect(deploymentAvailable(null)).toBe(false);
  });

  it('helmReleasesReady waits for one HelmReleaseReady release per chart proxy, reporting failures while CAAPH retries', () => {
    const release = (proxy: string, status: Record<string, unknown>) =>
      obj('HelmReleaseProxy', `${proxy}-x`, status, { metadata: { name: `${proxy}-x`, labels: { 'helmchartproxy.addons.cluster.x-k8s.io/name': proxy } } });
    expect(helmReleasesReady([release('p1', { status: 'deployed', conditions: [cond('HelmReleaseReady', 'True')] })], ['p1']).done).toBe(true);
    expect(helmReleasesReady([], ['p1'])).toEqual({ done: false, message: 'waiting for p1 (no release yet)' });
    const failed = helmReleasesReady([release('p1', { status: 'failed', conditions: [cond('HelmReleaseReady', 'False', 'HelmInstallOrUpgradeFailed', 'chart not found')] })], ['p1']);
    expect(failed).toEqual({ done: false, message: 'waiting for p1 (failed: chart not found)' });
    expect(() => throwIfFailed(failed, 'wait-addons')).not.toThrow();
    expect(() => throwIfFailed({ done: false, message: 'x', failed: 'boom', failedKind: 'other' }, 'w')).toThrow(CapiFailedError);
  });

  it('clusterGone once the Cluster and every Machine are gone', () => {
    expect(clusterGone(null, []).done).toBe(true);
    expect(clusterGone(null, [running('a')])).toEqual({ done: false, message: 'Cluster deleted, 1 machines left' });
    expect(clusterGone(obj('Cluster', 'c'), []).done).toBe(false);
  });
});
