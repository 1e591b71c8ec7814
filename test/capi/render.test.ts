import { describe, expect, it } from 'vitest';
import { ClusterPlanRevision, NetworkPlan, NodePool, Package } from '../../shared/domain/schemas.ts';
import {
  accessBindingName,
  clusterSelector,
  renderAccessBindings,
  renderCni,
  renderHelmChartProxies,
  renderInitialCluster,
  renderManifestPackage,
  renderNamespacePolicy,
  renderScaledTopology,
  slipwayLabels,
  type TopologyInput,
  workspaceNamespace,
} from '../../shared/capi/render.ts';
import type { KubeObject } from '../../shared/capi/types.ts';

const pools = [
  NodePool.parse({ name: 'workers', instanceType: 'm6i.large', min: 1, desired: 3, max: 6 }),
  NodePool.parse({ name: 'gpu', instanceType: 'g5.xlarge', min: 0, desired: 1, max: 2, capacityType: 'spot', labels: { gpu: 'true' }, taints: [{ key: 'gpu', effect: 'NoSchedule' }] }),
];

const cluster = {
  uid: '01JD3XK1Q2W3E4R5T6Y7U8I9O0',
  workspaceId: 'team-a',
  name: 'dev-1',
  clusterClass: 'sim-ferrol-1-31-v1',
  kubernetesVersion: 'v1.31.4',
  region: 'eu-west-1',
  controlPlane: { replicas: 3 as const, instanceType: 'm6i.large' },
  nodePools: pools,
};

const plan = ClusterPlanRevision.parse({
  planId: 'standard',
  revision: 2,
  createdAt: '2026-11-01T00:00:00Z',
  createdBy: 'user:admin',
  clusterClass: 'sim-ferrol-1-31-v1',
  kubernetesVersion: 'v1.31.4',
  networkPlanId: 'net',
  controlPlane: { replicas: 3, instanceType: 'm6i.large' },
  packages: [{ name: 'metrics-server', version: '3.12.2' }],
  podSecurity: 'restricted',
  defaultDenyNetwork: true,
  access: [
    { group: 'team-a-devs', role: 'edit' },
    { group: 'Platform_Admins@corp.example', role: 'cluster-admin' },
  ],
});

const network = NetworkPlan.parse({
  id: 'net',
  vpcCidr: '10.0.0.0/16',
  podCidr: '192.168.0.0/16',
  serviceCidr: '10.96.0.0/12',
  cni: { name: 'cilium', version: '1.16.5' },
  endpointAccess: 'public',
  createdAt: '2026-11-01T00:00:00Z',
  createdBy: 'user:admin',
  updatedAt: '2026-11-01T00:00:00Z',
  version: 1,
});

const input: TopologyInput = { cluster, plan, network };

function spec(obj: KubeObject): Record<string, unknown> {
  return obj.spec as Record<string, unknown>;
}

describe('topology Cluster', () => {
  it('starts with one control-plane machine and no workers, in the workspace namespace, labelled for Slipway', () => {
    // Act
    const c = renderInitialCluster(input);
    // Assess
    expect(c.apiVersion).toBe('cluster.x-k8s.io/v1beta2');
    expect(c.kind).toBe('Cluster');
    expect(c.metadata).toEqual({
      name: 'dev-1',
      namespace: 'slipway-team-a',
      labels: { 'slipway.dev/workspace': 'team-a', 'slipway.dev/cluster': 'dev-1', 'slipway.dev/cluster-uid': cluster.uid, 'app.kubernetes.io/managed-by': 'slipway' },
    });
    expect(spec(c).clusterNetwork).toEqual({ pods: { cidrBlocks: ['192.168.0.0/16'] }, services: { cidrBlocks: ['10.96.0.0/12'] } });
    const topology = spec(c).topology as Record<string, unknown>;
    expect(topology.classRef).toEqual({ name: 'sim-ferrol-1-31-v1', namespace: 'default' });
    expect(topology.version).toBe('v1.31.4');
    expect(topology.controlPlane).toEqual({ replicas: 1 });
    expect(topology.workers).toBeUndefined();
    expect(topology.variables).toEqual([
      { name: 'region', value: 'eu-west-1' },
      { name: 'controlPlaneInstanceType', value: 'm6i.large' },
      { name: 'workerInstanceType', value: 'm6i.large' },
      { name: 'vpcCidr', value: '10.0.0.0/16' },
      { name: 'apiEndpointAccess', value: 'public' },
    ]);
    expect(spec(c).paused).toBeUndefined();
  });

  it('scales out to the plan control plane and every pool, with per-pool variables', () => {
    // Act
    const c = renderScaledTopology(input);
    // Assess
    const topology = spec(c).topology as { controlPlane: unknown; workers: { machineDeployments: unknown[] } };
    expect(topology.controlPlane).toEqual({ replicas: 3 });
    expect(topology.workers.machineDeployments).toEqual([
      {
        class: 'default-worker',
        name: 'workers',
        replicas: 3,
        variables: {
          overrides: [
            { name: 'workerInstanceType', value: 'm6i.large' },
            { name: 'capacityType', value: 'on-demand' },
            { name: 'nodeLabels', value: {} },
            { name: 'nodeTaints', value: [] },
          ],
        },
      },
      {
        class: 'default-worker',
        name: 'gpu',
        replicas: 1,
        variables: {
          overrides: [
            { name: 'workerInstanceType', value: 'g5.xlarge' },
            { name: 'capacityType', value: 'spot' },
            { name: 'nodeLabels', value: { gpu: 'true' } },
            { name: 'nodeTaints', value: [{ key: 'gpu', effect: 'NoSchedule' }] },
          ],
        },
      },
    ]);
  });

  it('uses the cluster record version and class for upgrades and rebases, and the given class namespace', () => {
    // Act
    const c = renderScaledTopology({ ...input, plan: { clusterClass: 'sim-ferrol-1-32-v1', kubernetesVersion: 'v1.32.1' }, classNamespace: 'classes' });
    // Assess
    const topology = spec(c).topology as Record<string, unknown>;
    expect(topology.classRef).toEqual({ name: 'sim-ferrol-1-32-v1', namespace: 'classes' });
    expect(topology.version).toBe('v1.32.1');
  });

  it('makes label values and selectors from any uid', () => {
    expect(slipwayLabels({ ...cluster, uid: 'a:b/c_' })['slipway.dev/cluster-uid']).toBe('a-b-c');
    expect(clusterSelector(cluster)).toBe(`slipway.dev/cluster=dev-1,slipway.dev/cluster-uid=${cluster.uid}`);
    expect(workspaceNamespace('team-a')).toBe('slipway-team-a');
  });
});

describe('CNI', () => {
  it.each([
    ['cilium', 'cilium', 'quay.io/cilium/cilium:v1.16.5'],
    ['calico', 'calico-node', 'docker.io/calico/node:v1.16.5'],
    ['aws-vpc-cni', 'aws-node', '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.16.5'],
    ['flannel', 'kube-flannel', 'docker.io/flannel/flannel:v1.16.5'],
  ] as const)('%s: a kube-system DaemonSet labelled k8s-app=%s tolerating every taint, with its ServiceAccount and ConfigMap', (name, app, image) => {
    // Act
    const objs = renderCni({ cni: { name, version: '1.16.5' }, podCidr: '192.168.0.0/16' }, cluster);
    // Assess
    const ds = objs.find((o) => o.kind === 'DaemonSet');
    expect(ds?.metadata.namespace).toBe('kube-system');
    expect(ds?.metadata.labels?.['k8s-app']).toBe(app);
    const template = (spec(ds as KubeObject).template as { spec: { tolerations: unknown[]; serviceAccountName: string; containers: { image: string }[] } }).spec;
    expect(template.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(template.containers[0]?.image).toBe(image);
    expect(objs.find((o) => o.kind === 'ServiceAccount')?.metadata.name).toBe(template.serviceAccountName);
    expect(objs.map((o) => o.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet']);
    expect(objs.every((o) => o.metadata.labels?.['slipway.dev/cluster'] === 'dev-1')).toBe(true);
  });

  it('puts the pod CIDR in the CNI configuration', () => {
    const cm = renderCni({ cni: { name: 'calico', version: '3.29.1' }, podCidr: '172.20.0.0/16' }).find((o) => o.kind === 'ConfigMap');
    expect(cm?.data).toMatchObject({ CALICO_IPV4POOL_CIDR: '172.20.0.0/16' });
  });
});

describe('add-ons', () => {
  const helm = Package.parse({
    name: 'metrics-server',
    version: '3.12.2',
    helm: { repoURL: 'https://kubernetes-sigs.github.io/metrics-server', chart: 'metrics-server', version: '3.12.2', values: { args: ['--kubelet-insecure-tls'] } },
    createdAt: '2026-11-01T00:00:00Z',
    createdBy: 'user:admin',
  });
  const manifests = Package.parse({
    name: 'team-config',
    version: '1.0.0',
    manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'team', namespace: 'default', labels: { a: 'b' } }, data: { k: 'v' } }],
    createdAt: '2026-11-01T00:00:00Z',
    createdBy: 'user:admin',
  });

  it('makes one HelmChartProxy per Helm package selecting this cluster by its Slipway labels', () => {
    // Act
    const proxies = renderHelmChartProxies(cluster, [helm, manifests]);
    // Assess
    expect(proxies).toHaveLength(1);
    const p = proxies[0] as KubeObject;
    expect(p).toMatchObject({ apiVersion: 'addons.cluster.x-k8s.io/v1alpha1', kind: 'HelmChartProxy', metadata: { name: 'dev-1-metrics-server', namespace: 'slipway-team-a' } });
    expect(spec(p)).toMatchObject({
      clusterSelector: { matchLabels: { 'slipway.dev/cluster': 'dev-1', 'slipway.dev/cluster-uid': cluster.uid } },
      repoURL: 'https://kubernetes-sigs.github.io/metrics-server',
      chartName: 'metrics-server',
      version: '3.12.2',
      releaseName: 'metrics-server',
      namespace: 'metrics-server',
      options: { install: { createNamespace: true } },
    });
    expect(JSON.parse(String(spec(p).valuesTemplate))).toEqual({ args: ['--kubelet-insecure-tls'] });
    // The topology Cluster carries the labels the selector matches.
    const labels = renderInitialCluster(input).metadata.labels ?? {};
    for (const [k, v] of Object.entries((spec(p).clusterSelector as { matchLabels: Record<string, string> }).matchLabels)) expect(labels[k]).toBe(v);
  });

  it('labels manifest objects for the cluster without losing their own labels', () => {
    const [cm] = renderManifestPackage(cluster, manifests);
    expect(cm?.metadata.labels).toMatchObject({ a: 'b', 'slipway.dev/cluster': 'dev-1', 'slipway.dev/package': 'team-config' });
    expect(manifests.manifests?.[0]?.metadata).not.toHaveProperty(['labels', 'slipway.dev/cluster']);
  });
});

describe('in-cluster policies and access', () => {
  it('labels non-system namespaces for Pod Security and denies traffic by default except DNS', () => {
    // Act
    const policy = renderNamespacePolicy(plan, 'default', cluster);
    // Assess
    expect(policy?.labels).toEqual({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    });
    const np = policy?.objects[0];
    expect(np).toMatchObject({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'default' } });
    expect(spec(np as KubeObject)).toMatchObject({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(spec(np as KubeObject).ingress).toBeUndefined();
  });

  it('leaves system namespaces alone and skips the NetworkPolicy when the plan does not ask for it', () => {
    for (const ns of ['kube-system', 'capi-system', 'cert-manager', 'caaph-system', 'slipway-team-a']) expect(renderNamespacePolicy(plan, ns)).toBeNull();
    expect(renderNamespacePolicy({ podSecurity: 'baseline', defaultDenyNetwork: false }, 'apps')?.objects).toEqual([]);
  });

  it('binds each access group to the built-in ClusterRole of its role', () => {
    // Act
    const bindings = renderAccessBindings(plan, cluster, { groupPrefix: 'oidc:' });
    // Assess
    expect(bindings.map((b) => [b.kind, (b.roleRef as { name: string }).name, (b.subjects as { kind: string; name: string }[])[0]])).toEqual([
      ['ClusterRoleBinding', 'edit', { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'oidc:team-a-devs' }],
      ['ClusterRoleBinding', 'cluster-admin', { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'oidc:Platform_Admins@corp.example' }],
    ]);
    for (const b of bindings) expect(b.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect(accessBindingName('a_b', 'view')).not.toBe(accessBindingName('a-b', 'view'));
  });
});
