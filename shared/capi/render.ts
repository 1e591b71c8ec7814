/**
 * Pure rendering of everything Slipway applies to Kubernetes, from the domain records (cluster, plan revision,
 * network plan, packages): the topology Cluster, the CNI, add-ons, in-cluster policies and RBAC. No I/O: steps
 * apply the result. (The CAPI providers come from their releases: shared/capi/providers.)
 *
 * Every object carries the Slipway labels tying it to its cluster (`slipway.dev/workspace`,
 * `slipway.dev/cluster`, `slipway.dev/cluster-uid`).
 *
 * ClusterClass variables — the contract between Slipway and its ClusterClasses (Cluster Stacks style):
 *   cluster level
 *     `region`                   string  cloud region of the cluster
 *     `controlPlaneInstanceType` string  instance type of the control-plane machines
 *     `workerInstanceType`       string  default instance type of workers (the first pool's)
 *     `vpcCidr`                  string  VPC CIDR of the network plan
 *     `apiEndpointAccess`        string  `public` | `private`
 *   per MachineDeployment (`workers.machineDeployments[].variables.overrides`)
 *     `workerInstanceType`       string  the pool's instance type
 *     `capacityType`             string  `on-demand` | `spot`
 *     `nodeLabels`               object  labels kubelet registers the pool's nodes with
 *     `nodeTaints`               array   `{key, value?, effect}` taints of the pool's nodes
 */
import type { Cluster, ClusterPlanRevision, NetworkPlan, NodePool, Package } from '../domain/schemas.ts';
import { CERT_MANAGER, PROVIDERS } from './providers/catalog.ts';
import type { KubeObject } from './types.ts';

export const LABEL_WORKSPACE = 'slipway.dev/workspace';
export const LABEL_CLUSTER = 'slipway.dev/cluster';
export const LABEL_CLUSTER_UID = 'slipway.dev/cluster-uid';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'slipway';
/** The worker class every Slipway ClusterClass defines. */
export const WORKER_CLASS = 'default-worker';
/** Where Slipway's ClusterClasses live in the management cluster. */
export const DEFAULT_CLASS_NAMESPACE = 'default';

const API_CLUSTER = 'cluster.x-k8s.io/v1beta2';
const API_ADDONS_HELM = 'addons.cluster.x-k8s.io/v1alpha1';
const API_RBAC = 'rbac.authorization.k8s.io/v1';

/** The fields of a cluster record the rendering needs. */
export type ClusterRecord = Pick<
  Cluster,
  'uid' | 'workspaceId' | 'name' | 'clusterClass' | 'kubernetesVersion' | 'region' | 'controlPlane' | 'nodePools'
>;

export interface TopologyInput {
  cluster: ClusterRecord;
  plan: Pick<ClusterPlanRevision, 'clusterClass' | 'kubernetesVersion'>;
  network: Pick<NetworkPlan, 'vpcCidr' | 'podCidr' | 'serviceCidr' | 'endpointAccess'>;
  /** Namespace of the ClusterClass (default `default`). */
  classNamespace?: string;
}

/** The namespace of a workspace's CAPI objects. */
export function workspaceNamespace(workspaceId: string): string {
  return `slipway-${workspaceId}`;
}

/** The labels tying an object to its Slipway cluster. */
export function slipwayLabels(cluster: Pick<ClusterRecord, 'workspaceId' | 'name' | 'uid'>): Record<string, string> {
  return {
    [LABEL_WORKSPACE]: cluster.workspaceId,
    [LABEL_CLUSTER]: cluster.name,
    [LABEL_CLUSTER_UID]: labelValue(cluster.uid),
    [LABEL_MANAGED_BY]: MANAGED_BY,
  };
}

/** A label selector string matching exactly this cluster's objects. */
export function clusterSelector(cluster: Pick<ClusterRecord, 'workspaceId' | 'name' | 'uid'>): string {
  const l = slipwayLabels(cluster);
  return `${LABEL_CLUSTER}=${l[LABEL_CLUSTER]},${LABEL_CLUSTER_UID}=${l[LABEL_CLUSTER_UID]}`;
}

/** Label values: at most 63 of [A-Za-z0-9_.-], starting and ending alphanumeric. */
export function labelValue(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
}

// ── topology Cluster ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * Provision step 2: control plane 1 and no workers (Palette's order — the cluster is pivoted while it is
 * smallest, then scaled in the workload cluster).
 */
export function renderInitialCluster(input: TopologyInput): KubeObject {
  return renderCluster(input, { controlPlaneReplicas: 1, pools: [] });
}

/** The full requested topology: the plan's control-plane replicas and every node pool at its desired size. */
export function renderScaledTopology(input: TopologyInput): KubeObject {
  return renderCluster(input, { controlPlaneReplicas: input.cluster.controlPlane.replicas, pools: input.cluster.nodePools });
}

function renderCluster(input: TopologyInput, shape: { controlPlaneReplicas: number; pools: readonly NodePool[] }): KubeObject {
  const { cluster, plan, network } = input;
  const firstPool = cluster.nodePools[0];
  const variables: { name: string; value: unknown }[] = [
    { name: 'region', value: cluster.region },
    { name: 'controlPlaneInstanceType', value: cluster.controlPlane.instanceType },
    ...(firstPool === undefined ? [] : [{ name: 'workerInstanceType', value: firstPool.instanceType }]),
    { name: 'vpcCidr', value: network.vpcCidr },
    { name: 'apiEndpointAccess', value: network.endpointAccess },
  ];
  const topology: Record<string, unknown> = {
    classRef: { name: plan.clusterClass, namespace: input.classNamespace ?? DEFAULT_CLASS_NAMESPACE },
    version: plan.kubernetesVersion,
    controlPlane: { replicas: shape.controlPlaneReplicas },
    variables,
  };
  if (shape.pools.length > 0) {
    topology.workers = {
      machineDeployments: shape.pools.map((pool) => ({
        class: WORKER_CLASS,
        name: pool.name,
        replicas: pool.desired,
        variables: {
          overrides: [
            { name: 'workerInstanceType', value: pool.instanceType },
            { name: 'capacityType', value: pool.capacityType },
            { name: 'nodeLabels', value: pool.labels },
            { name: 'nodeTaints', value: pool.taints },
          ],
        },
      })),
    };
  }
  return {
    apiVersion: API_CLUSTER,
    kind: 'Cluster',
    metadata: { name: cluster.name, namespace: workspaceNamespace(cluster.workspaceId), labels: slipwayLabels(cluster) },
    spec: {
      clusterNetwork: {
        pods: { cidrBlocks: [network.podCidr] },
        services: { cidrBlocks: [network.serviceCidr] },
      },
      topology,
    },
  };
}

// ── CNI ──────────────────────────────────────────────────────────────────────────────────────────────────────

interface CniShape {
  /** DaemonSet and ServiceAccount name. */
  name: string;
  /** `k8s-app` label value, what kubelet-side tooling (and the simulator) recognise. */
  k8sApp: string;
  image: (version: string) => string;
  configName: string;
  config: (network: Pick<NetworkPlan, 'podCidr'>) => Record<string, string>;
  extraLabels?: Record<string, string>;
}

const CNIS: Record<NetworkPlan['cni']['name'], CniShape> = {
  cilium: {
    name: 'cilium',
    k8sApp: 'cilium',
    image: (v) => `quay.io/cilium/cilium:v${v.replace(/^v/, '')}`,
    configName: 'cilium-config',
    config: (n) => ({ ipam: 'cluster-pool', 'cluster-pool-ipv4-cidr': n.podCidr, 'cluster-pool-ipv4-mask-size': '24', tunnel: 'vxlan' }),
  },
  calico: {
    name: 'calico-node',
    k8sApp: 'calico-node',
    image: (v) => `docker.io/calico/node:v${v.replace(/^v/, '')}`,
    configName: 'calico-config',
    config: (n) => ({ calico_backend: 'bird', veth_mtu: '0', CALICO_IPV4POOL_CIDR: n.podCidr }),
  },
  'aws-vpc-cni': {
    name: 'aws-node',
    k8sApp: 'aws-node',
    image: (v) => `602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v${v.replace(/^v/, '')}`,
    configName: 'amazon-vpc-cni',
    config: () => ({ 'enable-windows-ipam': 'false', 'enable-network-policy-controller': 'false' }),
  },
  flannel: {
    name: 'kube-flannel',
    k8sApp: 'kube-flannel',
    image: (v) => `docker.io/flannel/flannel:v${v.replace(/^v/, '')}`,
    configName: 'kube-flannel-cfg',
    config: (n) => ({ 'net-conf.json': JSON.stringify({ Network: n.podCidr, Backend: { Type: 'vxlan' } }) }),
    extraLabels: { app: 'flannel' },
  },
};

/** The CNI of a network plan, for the workload cluster's kube-system: ServiceAccount, RBAC, ConfigMap, DaemonSet. */
export function renderCni(network: Pick<NetworkPlan, 'cni' | 'podCidr'>, cluster?: Pick<ClusterRecord, 'workspaceId' | 'name' | 'uid'>): KubeObject[] {
  const shape = CNIS[network.cni.name];
  const labels = { 'k8s-app': shape.k8sApp, ...(shape.extraLabels ?? {}), ...(cluster ? slipwayLabels(cluster) : { [LABEL_MANAGED_BY]: MANAGED_BY }) };
  const ns = 'kube-system';
  const selector = { 'k8s-app': shape.k8sApp };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: shape.name, namespace: ns, labels } },
    {
      apiVersion: API_RBAC,
      kind: 'ClusterRole',
      metadata: { name: shape.name, labels },
      rules: [
        { apiGroups: [''], resources: ['nodes', 'pods', 'namespaces', 'services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch', 'update'] },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: API_RBAC,
      kind: 'ClusterRoleBinding',
      metadata: { name: shape.name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: shape.name },
      subjects: [{ kind: 'ServiceAccount', name: shape.name, namespace: ns }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: shape.configName, namespace: ns, labels }, data: shape.config(network) },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: shape.name, namespace: ns, labels },
      spec: {
        selector: { matchLabels: selector },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: { ...selector, ...(shape.extraLabels ?? {}) } },
          spec: {
            serviceAccountName: shape.name,
            hostNetwork: true,
            priorityClassName: 'system-node-critical',
            // The CNI must run on every node, the tainted control plane and not-ready nodes included.
            tolerations: [{ operator: 'Exists' }],
            containers: [
              {
                name: shape.name,
                image: shape.image(network.cni.version),
                securityContext: { privileged: true },
                envFrom: [{ configMapRef: { name: shape.configName } }],
                volumeMounts: [{ name: 'cni-net-dir', mountPath: '/host/etc/cni/net.d' }],
              },
            ],
            volumes: [{ name: 'cni-net-dir', hostPath: { path: '/etc/cni/net.d', type: 'DirectoryOrCreate' } }],
          },
        },
      },
    },
  ];
}

// ── add-ons ──────────────────────────────────────────────────────────────────────────────────────────────────

/** The HelmChartProxy name of a package for a cluster (`<cluster>-<package>`, within 63 characters). */
export function helmChartProxyName(clusterName: string, packageName: string): string {
  return `${clusterName}-${packageName}`.slice(0, 63).replace(/-+$/, '');
}

/**
 * One CAAPH HelmChartProxy per Helm package, in the namespace of the cluster's CAPI objects, selecting exactly
 * this cluster through its Slipway labels (which the topology Cluster carries).
 */
export function renderHelmChartProxies(cluster: Pick<ClusterRecord, 'workspaceId' | 'name' | 'uid'>, packages: readonly Package[]): KubeObject[] {
  const labels = slipwayLabels(cluster);
  return packages.flatMap((pkg) => {
    if (pkg.helm === undefined) return [];
    const helm = pkg.helm;
    return [
      {
        apiVersion: API_ADDONS_HELM,
        kind: 'HelmChartProxy',
        metadata: { name: helmChartProxyName(cluster.name, pkg.name), namespace: workspaceNamespace(cluster.workspaceId), labels: { ...labels, 'slipway.dev/package': pkg.name } },
        spec: {
          clusterSelector: { matchLabels: { [LABEL_CLUSTER]: labels[LABEL_CLUSTER], [LABEL_CLUSTER_UID]: labels[LABEL_CLUSTER_UID] } },
          repoURL: helm.repoURL,
          chartName: helm.chart,
          version: helm.version,
          releaseName: helm.releaseName ?? pkg.name,
          namespace: helm.namespace ?? pkg.name,
          // JSON is YAML; CAAPH renders it as a Go template first, so literal "{{" in values would need escaping.
          valuesTemplate: JSON.stringify(helm.values ?? {}),
          reconcileStrategy: 'Continuous',
          options: { wait: true, timeout: '10m0s', atomic: false, install: { createNamespace: true } },
        },
      },
    ];
  });
}

/** A manifests package's objects, labelled for the cluster, for server-side apply into the workload cluster. */
export function renderManifestPackage(cluster: Pick<ClusterRecord, 'workspaceId' | 'name' | 'uid'>, pkg: Package): KubeObject[] {
  const labels = { ...slipwayLabels(cluster), 'slipway.dev/package': pkg.name };
  return (pkg.manifests ?? []).map((m) => {
    const obj = structuredClone(m) as KubeObject;
    obj.metadata = { ...obj.metadata, labels: { ...(obj.metadata.labels ?? {}), ...labels } };
    return obj;
  });
}

// ── in-cluster policies ──────────────────────────────────────────────────────────────────────────────────────

const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', CERT_MANAGER.namespace, ...Object.values(PROVIDERS).map((p) => p.namespace)]);

/** Namespaces that run the platform itself: no Pod Security enforcement, no default-deny. */
export function isSystemNamespace(name: string): boolean {
  return SYSTEM_NAMESPACES.has(name) || name.startsWith('capi-') || name.startsWith('slipway-');
}

export interface NamespacePolicy {
  namespace: string;
  /** Labels to merge into the Namespace (Pod Security admission). */
  labels: Record<string, string>;
  /** Objects to apply in it (the default-deny NetworkPolicy when the plan asks for one). */
  objects: KubeObject[];
}

/** Pod Security labels and the default-deny NetworkPolicy for one non-system namespace; null for system ones. */
export function renderNamespacePolicy(
  plan: Pick<ClusterPlanRevision, 'podSecurity' | 'defaultDenyNetwork'>,
  namespace: string,
  cluster?: Pick<ClusterRecord, 'workspaceId' | 'name' | 'uid'>,
): NamespacePolicy | null {
  if (isSystemNamespace(namespace)) return null;
  const level = plan.podSecurity;
  const labels = {
    'pod-security.kubernetes.io/enforce': level,
    'pod-security.kubernetes.io/enforce-version': 'latest',
    'pod-security.kubernetes.io/audit': level,
    'pod-security.kubernetes.io/warn': level,
  };
  const objects: KubeObject[] = [];
  if (plan.defaultDenyNetwork) {
    objects.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'slipway-default-deny', namespace, labels: cluster ? slipwayLabels(cluster) : { [LABEL_MANAGED_BY]: MANAGED_BY } },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        // Deny everything except DNS, without which every workload breaks in confusing ways.
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
        ],
      },
    });
  }
  return { namespace, labels, objects };
}

// ── access ───────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * One ClusterRoleBinding per access entry of the plan: the IdP group bound to the built-in ClusterRole of its
 * role (`view`, `edit`, `admin`, `cluster-admin`). `groupPrefix` is the API server's OIDC groups prefix, if any.
 */
export function renderAccessBindings(
  plan: Pick<ClusterPlanRevision, 'access'>,
  cluster?: Pick<ClusterRecord, 'workspaceId' | 'name' | 'uid'>,
  opts: { groupPrefix?: string } = {},
): KubeObject[] {
  const labels = cluster ? slipwayLabels(cluster) : { [LABEL_MANAGED_BY]: MANAGED_BY };
  return plan.access.map((entry) => ({
    apiVersion: API_RBAC,
    kind: 'ClusterRoleBinding',
    metadata: { name: accessBindingName(entry.group, entry.role), labels: { ...labels, 'slipway.dev/access-role': entry.role } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: entry.role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `${opts.groupPrefix ?? ''}${entry.group}` }],
  }));
}

/** `slipway:<role>:<group>` made a valid object name; a hash keeps distinct groups distinct after cleaning. */
export function accessBindingName(group: string, role: string): string {
  const clean = group.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  const hash = fnv1a(group).toString(16).padStart(8, '0');
  return `slipway-${role}-${clean.slice(0, 200)}-${hash}`;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
