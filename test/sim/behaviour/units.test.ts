/** Unit tests of the simulator's pure parts: cloud bookkeeping, naming, validation, scheduling, values. */
import { afterEach, describe, expect, it } from 'vitest';
import { allClusterClassObjects, CLUSTER_CLASS_NAMES } from '../../../local/sim/classes.ts';
import { InstanceLaunchError, type LaunchRequest, SimCloud } from '../../../local/sim/cloud.ts';
import { renderValues, ValuesTemplateError } from '../../../local/sim/controllers/addons.ts';
import { isCniDaemonSet, schedulableOn } from '../../../local/sim/controllers/kubelet.ts';
import { compareVersions, generateName, parseVersion, Rng, shortHash } from '../../../local/sim/controllers/naming.ts';
import { TopologyValidationError, validateTopology } from '../../../local/sim/controllers/topology.ts';
import type { Cluster, NodeObject } from '../../../local/sim/controllers/types.ts';
import { timingFor } from '../../../local/sim/timing.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function launch(machine: string): LaunchRequest {
  return { machineKey: `ns/c/${machine}`, clusterKey: 'ns/c', workloadCluster: 'ns--c', controlPlane: false, version: 'v1.31.4', nodeName: machine };
}

describe('SimCloud', () => {
  const clouds: SimCloud[] = [];
  afterEach(() => {
    for (const c of clouds.splice(0)) c.stop();
  });
  const cloud = (claimed: Set<string> = new Set()) => {
    const c = new SimCloud(timingFor('fast', 1, { instanceBootMs: 5, instanceTerminateMs: 5, leakGraceMs: 20 }), { seed: 3 });
    c.setClaimChecker((key) => claimed.has(key));
    clouds.push(c);
    return c;
  };

  it('boots an instance from pending to running under a sim:// provider id', async () => {
    // Prepare
    const c = cloud();
    // Act
    const i = c.runInstance(launch('m1'));
    // Assess
    expect(i.state).toBe('pending');
    expect(i.providerID).toMatch(/^sim:\/\/sim-region-1\/i-[0-9a-f]{17}$/);
    await sleep(20);
    expect(c.describe(i.providerID)?.state).toBe('running');
  });

  it('counts a second live instance for the same Machine as duplicated', async () => {
    // Prepare
    const c = cloud(new Set(['ns/c/m1']));
    // Act
    c.runInstance(launch('m1'));
    c.runInstance(launch('m1'));
    await sleep(20);
    // Assess
    expect(c.counters()).toMatchObject({ running: 2, duplicated: 1, leaked: 0 });
  });

  it('counts a running instance no Machine claims as leaked only after the grace period', async () => {
    // Prepare
    const c = cloud(new Set());
    c.runInstance(launch('orphan'));
    await sleep(15);
    // Act + Assess
    expect(c.counters().leaked).toBe(0);
    await sleep(30);
    expect(c.counters().leaked).toBe(1);
  });

  it('fails the next N launches of one cluster, then launches again', () => {
    // Prepare
    const c = cloud();
    c.failNextLaunches(1, 'ns/c');
    // Act + Assess
    expect(() => c.runInstance(launch('m1'))).toThrow(InstanceLaunchError);
    expect(c.runInstance(launch('m1')).state).toBe('pending');
    expect(c.runInstance({ ...launch('m2'), clusterKey: 'other/x' }).state).toBe('pending');
  });

  it('terminates idempotently', async () => {
    // Prepare
    const c = cloud();
    const i = c.runInstance(launch('m1'));
    // Act
    c.terminate(i.providerID);
    c.terminate(i.providerID);
    await sleep(20);
    // Assess
    expect(c.describe(i.providerID)?.state).toBe('terminated');
    expect(c.findLiveByMachine('ns/c/m1')).toEqual([]);
  });
});

describe('naming', () => {
  it('generates CAPI-style names with a 5-character suffix, reproducibly per seed', () => {
    // Act
    const a = generateName(new Rng(1), 'dev-1-');
    const b = generateName(new Rng(1), 'dev-1-');
    // Assess
    expect(a).toMatch(/^dev-1-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(a).toBe(b);
  });

  it('hashes templates independently of key order', () => {
    expect(shortHash({ a: 1, b: { c: 2, d: 3 } })).toBe(shortHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(shortHash({ a: 1 })).not.toBe(shortHash({ a: 2 }));
  });

  it('compares Kubernetes versions numerically', () => {
    expect(parseVersion('v1.31.4')).toEqual([1, 31, 4]);
    expect(parseVersion('1.31.4')).toBeUndefined();
    expect(compareVersions('v1.31.10', 'v1.31.9')).toBeGreaterThan(0);
    expect(compareVersions('v1.32.0', 'v1.31.12')).toBeGreaterThan(0);
  });
});

describe('topology validation', () => {
  const cluster = (version: string, replicas = 1): Cluster => ({
    apiVersion: 'cluster.x-k8s.io/v1beta2',
    kind: 'Cluster',
    metadata: { name: 'c' },
    spec: { topology: { version, controlPlane: { replicas } } },
  });

  it('accepts a patch or next-minor upgrade', () => {
    expect(() => validateTopology(cluster('v1.31.5'), 'v1.31.4')).not.toThrow();
    expect(() => validateTopology(cluster('v1.32.0'), 'v1.31.4')).not.toThrow();
  });

  it.each([
    ['an even control plane', cluster('v1.31.4', 4), undefined, 'even number'],
    ['a downgrade', cluster('v1.31.3'), 'v1.31.4', 'cannot be decreased'],
    ['a minor skip', cluster('v1.33.0'), 'v1.31.4', 'skipping minor versions'],
    ['an invalid version', cluster('1.31'), undefined, 'valid semantic version'],
  ])('refuses %s', (_name, c, current, message) => {
    expect(() => validateTopology(c, current)).toThrow(TopologyValidationError);
    expect(() => validateTopology(c, current)).toThrow(message);
  });
});

describe('scheduling and CNI rules', () => {
  const cpNode: NodeObject = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'cp' },
    spec: { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };

  it('schedules on a control-plane node only with the toleration', () => {
    expect(schedulableOn({ spec: {} }, cpNode, true)).toBe(false);
    expect(schedulableOn({ spec: { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } }, cpNode, true)).toBe(true);
    expect(schedulableOn({ spec: { tolerations: [{ operator: 'Exists' }] } }, cpNode, true)).toBe(true);
  });

  it('does not schedule on a NotReady node when readiness is required', () => {
    const notReady = { ...cpNode, spec: {}, status: { conditions: [{ type: 'Ready', status: 'False' }] } };
    expect(schedulableOn({}, notReady, true)).toBe(false);
    expect(schedulableOn({}, notReady, false)).toBe(true);
  });

  it('recognises CNI DaemonSets in kube-system by k8s-app or the annotation', () => {
    const ds = (ns: string, labels: Record<string, string>, annotations?: Record<string, string>) => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'x', namespace: ns, labels, ...(annotations ? { annotations } : {}) },
    });
    expect(isCniDaemonSet(ds('kube-system', { 'k8s-app': 'cilium' }))).toBe(true);
    expect(isCniDaemonSet(ds('kube-system', { 'k8s-app': 'calico-node' }))).toBe(true);
    expect(isCniDaemonSet(ds('kube-system', {}, { 'sim.slipway.dev/cni': 'true' }))).toBe(true);
    expect(isCniDaemonSet(ds('default', { 'k8s-app': 'cilium' }))).toBe(false);
    expect(isCniDaemonSet(ds('kube-system', { 'k8s-app': 'kube-proxy' }))).toBe(false);
  });
});

describe('CAAPH values templates', () => {
  it('renders field references of the Cluster', () => {
    expect(renderValues('name: {{ .Cluster.metadata.name }}\nns: {{.Cluster.metadata.namespace}}', { Cluster: { metadata: { name: 'c1', namespace: 'n' } } })).toBe('name: c1\nns: n');
  });

  it('reports missing keys and unsupported constructs', () => {
    expect(() => renderValues('{{ .Cluster.spec.nope }}', { Cluster: { spec: {} } })).toThrow(ValuesTemplateError);
    expect(() => renderValues('{{ if .Cluster }}x{{ end }}', { Cluster: {} })).toThrow(ValuesTemplateError);
  });
});

describe('ClusterClasses', () => {
  it('ships each class with its four templates, a default-worker class and the move label', () => {
    // Act
    const objects = allClusterClassObjects();
    // Assess
    expect(objects.filter((o) => o.kind === 'ClusterClass').map((o) => o.metadata.name)).toEqual([...CLUSTER_CLASS_NAMES]);
    expect(objects).toHaveLength(CLUSTER_CLASS_NAMES.length * 6);
    for (const o of objects) expect(o.metadata.labels['clusterctl.cluster.x-k8s.io/move']).toBe('');
    const cc = objects.find((o) => o.kind === 'ClusterClass');
    expect(JSON.stringify(cc?.spec)).toContain('"class":"default-worker"');
  });
});

describe('timing', () => {
  it('scales a profile and refuses a non-positive factor', () => {
    expect(timingFor('realistic', 0.5).instanceBootMs).toBe(timingFor('realistic').instanceBootMs / 2);
    expect(() => timingFor('fast', 0)).toThrow(RangeError);
  });
});
