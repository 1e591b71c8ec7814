/**
 * What `clusterctl init` leaves in a cluster, for the providers the simulator emulates: per provider a namespace,
 * a controller Deployment and a clusterctl Provider inventory object, labelled as clusterctl labels them.
 * The simulator installs these in the management cluster at start; tests (and Slipway's installer) create the
 * same objects in a workload cluster to turn its controllers on.
 *
 * A virtual cluster's controllers for a provider run only when its inventory object exists and its Deployment
 * is Available (which needs a schedulable node and, as the providers' webhooks need certificates, an Available
 * `cert-manager/cert-manager-webhook`: see kubelet.ts). The topology controller also
 * needs the ClusterTopology feature gate on the core Deployment (`--feature-gates=...ClusterTopology=true`), as
 * in CAPI where it is off by default.
 */
import { crdsFor } from '../apiserver/crds.ts';
import { API_CLUSTERCTL } from '../classes.ts';

export type ProviderType = 'CoreProvider' | 'BootstrapProvider' | 'ControlPlaneProvider' | 'InfrastructureProvider' | 'AddonProvider';

export interface ProviderSpec {
  /** Inventory name, also the `cluster.x-k8s.io/provider` label value. */
  name: string;
  providerName: string;
  type: ProviderType;
  namespace: string;
  deployment: string;
  image: string;
  version: string;
}

export const PROVIDERS: readonly ProviderSpec[] = [
  {
    name: 'cluster-api',
    providerName: 'cluster-api',
    type: 'CoreProvider',
    namespace: 'capi-system',
    deployment: 'capi-controller-manager',
    image: 'registry.k8s.io/cluster-api/cluster-api-controller',
    version: 'v1.14.0',
  },
  {
    name: 'bootstrap-kubeadm',
    providerName: 'kubeadm',
    type: 'BootstrapProvider',
    namespace: 'capi-kubeadm-bootstrap-system',
    deployment: 'capi-kubeadm-bootstrap-controller-manager',
    image: 'registry.k8s.io/cluster-api/kubeadm-bootstrap-controller',
    version: 'v1.14.0',
  },
  {
    name: 'control-plane-kubeadm',
    providerName: 'kubeadm',
    type: 'ControlPlaneProvider',
    namespace: 'capi-kubeadm-control-plane-system',
    deployment: 'capi-kubeadm-control-plane-controller-manager',
    image: 'registry.k8s.io/cluster-api/kubeadm-control-plane-controller',
    version: 'v1.14.0',
  },
  {
    name: 'infrastructure-sim',
    providerName: 'sim',
    type: 'InfrastructureProvider',
    namespace: 'capi-sim-system',
    deployment: 'capi-sim-controller-manager',
    image: 'ghcr.io/slipway/capi-sim-controller',
    version: 'v0.1.0',
  },
  {
    name: 'addon-helm',
    providerName: 'helm',
    type: 'AddonProvider',
    namespace: 'caaph-system',
    deployment: 'caaph-controller-manager',
    image: 'registry.k8s.io/cluster-api-helm/cluster-api-helm-controller',
    version: 'v0.6.0',
  },
];

export interface ComponentObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  [key: string]: unknown;
}

export interface ComponentOptions {
  /** Turn the ClusterTopology feature gate on (core provider). Default true. */
  clusterTopology?: boolean;
  /** Let the controllers run on control-plane nodes (needed before a cluster has workers). Default true. */
  tolerateControlPlane?: boolean;
  /** Include CAAPH. Default true. */
  addonHelm?: boolean;
  /** Include cert-manager (clusterctl init installs it when missing). Default true. */
  certManager?: boolean;
  /** Include each provider's CustomResourceDefinitions (and clusterctl's inventory CRD). Default true. */
  crds?: boolean;
}

export const CERT_MANAGER_NAMESPACE = 'cert-manager';
export const CERT_MANAGER_WEBHOOK = 'cert-manager-webhook';
export const CERT_MANAGER_VERSION = 'v1.16.2';

/** cert-manager as its static manifest installs it: namespace and three Deployments. */
export function certManagerComponents(tolerateControlPlane = true): ComponentObject[] {
  const out: ComponentObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CERT_MANAGER_NAMESPACE, labels: { 'app.kubernetes.io/instance': 'cert-manager' } } },
  ];
  for (const [name, component] of [
    ['cert-manager', 'controller'],
    ['cert-manager-cainjector', 'cainjector'],
    [CERT_MANAGER_WEBHOOK, 'webhook'],
  ] as const) {
    const labels = { 'app.kubernetes.io/name': component, 'app.kubernetes.io/instance': 'cert-manager', 'app.kubernetes.io/component': component };
    out.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: CERT_MANAGER_NAMESPACE, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [{ name: component, image: `quay.io/jetstack/cert-manager-${component}:${CERT_MANAGER_VERSION}` }],
            tolerations: tolerateControlPlane ? [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] : [],
          },
        },
      },
    });
  }
  return out;
}

/**
 * cert-manager, clusterctl's inventory CRD, then per provider its CRDs, Namespace, Deployment and Provider
 * inventory object, in creation order.
 */
export function providerComponents(options: ComponentOptions = {}): ComponentObject[] {
  const { clusterTopology = true, tolerateControlPlane = true, addonHelm = true, certManager = true, crds = true } = options;
  const out: ComponentObject[] = certManager ? certManagerComponents(tolerateControlPlane) : [];
  if (crds) out.push(...(crdsFor(['inventory']) as unknown as ComponentObject[]));
  for (const p of PROVIDERS) {
    if (p.type === 'AddonProvider' && !addonHelm) continue;
    const labels = { 'clusterctl.cluster.x-k8s.io': '', 'cluster.x-k8s.io/provider': p.name };
    // clusterctl applies a provider's CRDs before its controller.
    if (crds) out.push(...(crdsFor([p.name]) as unknown as ComponentObject[]));
    out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: p.namespace, labels } });
    const args = ['--leader-elect', '--diagnostics-address=:8443'];
    if (p.type === 'CoreProvider' || p.type === 'ControlPlaneProvider') {
      args.push(`--feature-gates=MachinePool=true,ClusterTopology=${clusterTopology}`);
    }
    const selector = { 'cluster.x-k8s.io/provider': p.name, 'control-plane': 'controller-manager' };
    out.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: p.deployment, namespace: p.namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...selector, 'clusterctl.cluster.x-k8s.io': '' } },
          spec: {
            containers: [{ name: 'manager', image: `${p.image}:${p.version}`, args }],
            serviceAccountName: 'manager',
            terminationGracePeriodSeconds: 10,
            tolerations: tolerateControlPlane
              ? [
                  { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
                  { key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' },
                ]
              : [],
          },
        },
      },
    });
    out.push({
      apiVersion: API_CLUSTERCTL,
      kind: 'Provider',
      metadata: { name: p.name, namespace: p.namespace, labels },
      providerName: p.providerName,
      type: p.type,
      version: p.version,
    });
  }
  return out;
}
