/**
 * The component sets Slipway installs into a cluster, in install order: cert-manager, then CAPI core, the
 * kubeadm bootstrap and control-plane providers, one infrastructure provider and (optionally) CAAPH.
 *
 * Each provider has its clusterctl label (`cluster.x-k8s.io/provider` value, inventory object name and
 * directory of a local repository), type, inventory `providerName`, version and components file name as
 * published with its GitHub release. The simulator's list (local/sim/controllers/providers.ts) carries the same
 * names and versions: keep the two in step.
 */

export type InfrastructureProvider = 'aws' | 'sim';

export type ProviderType = 'CoreProvider' | 'BootstrapProvider' | 'ControlPlaneProvider' | 'InfrastructureProvider' | 'AddonProvider';

export type ProviderLabel = 'cluster-api' | 'bootstrap-kubeadm' | 'control-plane-kubeadm' | 'infrastructure-aws' | 'infrastructure-sim' | 'addon-helm';

/** A GitHub repository whose releases publish components files as assets. */
export interface GitHubReleases {
  org: string;
  repo: string;
}

/** What every component set has: where to find its file and which version to install. */
export interface ComponentSetSpec {
  /** Directory name in a local repository; for providers also the clusterctl label. */
  label: string;
  version: string;
  /** Release asset name. */
  file: string;
  /** Where upstream publishes it; absent for the simulator's provider (served only by the simulator). */
  upstream?: GitHubReleases;
  /** The namespace its components create (informational: the file's Namespace object decides). */
  namespace: string;
}

export interface ProviderSpec extends ComponentSetSpec {
  label: ProviderLabel;
  type: ProviderType;
  /** The inventory object's `providerName`. */
  providerName: string;
}

export interface CertManagerSpec extends ComponentSetSpec {
  label: 'cert-manager';
  /** Its Deployments, all of which must exist for the set to count as applied. */
  deployments: readonly string[];
}

export const CAPI_VERSION = 'v1.14.0';
export const CAPA_VERSION = 'v2.11.0';
export const CAAPH_VERSION = 'v0.6.0';
export const SIM_PROVIDER_VERSION = 'v0.1.0';
export const CERT_MANAGER_VERSION = 'v1.16.2';

const CAPI_RELEASES: GitHubReleases = { org: 'kubernetes-sigs', repo: 'cluster-api' };

export const CERT_MANAGER: CertManagerSpec = {
  label: 'cert-manager',
  version: CERT_MANAGER_VERSION,
  file: 'cert-manager.yaml',
  upstream: { org: 'cert-manager', repo: 'cert-manager' },
  namespace: 'cert-manager',
  deployments: ['cert-manager', 'cert-manager-cainjector', 'cert-manager-webhook'],
};

export const PROVIDERS: Readonly<Record<ProviderLabel, ProviderSpec>> = {
  'cluster-api': {
    label: 'cluster-api',
    type: 'CoreProvider',
    providerName: 'cluster-api',
    version: CAPI_VERSION,
    file: 'core-components.yaml',
    upstream: CAPI_RELEASES,
    namespace: 'capi-system',
  },
  'bootstrap-kubeadm': {
    label: 'bootstrap-kubeadm',
    type: 'BootstrapProvider',
    providerName: 'kubeadm',
    version: CAPI_VERSION,
    file: 'bootstrap-components.yaml',
    upstream: CAPI_RELEASES,
    namespace: 'capi-kubeadm-bootstrap-system',
  },
  'control-plane-kubeadm': {
    label: 'control-plane-kubeadm',
    type: 'ControlPlaneProvider',
    providerName: 'kubeadm',
    version: CAPI_VERSION,
    file: 'control-plane-components.yaml',
    upstream: CAPI_RELEASES,
    namespace: 'capi-kubeadm-control-plane-system',
  },
  'infrastructure-aws': {
    label: 'infrastructure-aws',
    type: 'InfrastructureProvider',
    providerName: 'aws',
    version: CAPA_VERSION,
    file: 'infrastructure-components.yaml',
    upstream: { org: 'kubernetes-sigs', repo: 'cluster-api-provider-aws' },
    namespace: 'capa-system',
  },
  'infrastructure-sim': {
    label: 'infrastructure-sim',
    type: 'InfrastructureProvider',
    providerName: 'sim',
    version: SIM_PROVIDER_VERSION,
    file: 'infrastructure-components.yaml',
    namespace: 'capi-sim-system',
  },
  'addon-helm': {
    label: 'addon-helm',
    type: 'AddonProvider',
    providerName: 'helm',
    version: CAAPH_VERSION,
    file: 'addon-components.yaml',
    upstream: { org: 'kubernetes-sigs', repo: 'cluster-api-addon-provider-helm' },
    namespace: 'caaph-system',
  },
};

/** The providers of one cluster, in install order (core, bootstrap, control plane, infrastructure, add-on). */
export function providerSet(infrastructure: InfrastructureProvider, opts: { addonHelm?: boolean } = {}): ProviderSpec[] {
  const out = [PROVIDERS['cluster-api'], PROVIDERS['bootstrap-kubeadm'], PROVIDERS['control-plane-kubeadm'], PROVIDERS[`infrastructure-${infrastructure}`]];
  if (opts.addonHelm !== false) out.push(PROVIDERS['addon-helm']);
  return out;
}
