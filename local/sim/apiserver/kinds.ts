/**
 * The kinds the simulated API server serves: for each, its group, version(s), plural, scope, whether it has a
 * `status` subresource, and whether it is a custom resource (served through a CRD on a real cluster, which changes
 * a few behaviours: strategic merge patch → 415, unconditional updates refused, lists atomic for apply).
 */

export interface KindInfo {
  /** API group, '' for the core group. */
  readonly group: string;
  /** Served versions; the first one is the preferred (and storage) version. */
  readonly versions: readonly string[];
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly statusSubresource: boolean;
  /** true for kinds a real cluster serves through a CustomResourceDefinition. */
  readonly custom: boolean;
  readonly shortNames?: readonly string[];
  /**
   * For custom resources: the clusterctl provider whose components install the CRD (`cluster.x-k8s.io/provider`
   * label), or `inventory` for clusterctl's own Provider CRD.
   */
  readonly provider?: string;
  /** Field-selector paths this kind supports besides metadata.name and metadata.namespace. */
  readonly selectableFields?: readonly string[];
  /**
   * Associative lists (`listType=map`) besides the ones every kind has (LIST_KEYS_ALL): schema path, items
   * written `[]`, → key fields. Server-side apply merges and owns their items by key; other lists are atomic.
   */
  readonly listKeys?: Readonly<Record<string, readonly string[]>>;
  /**
   * Names are path segments (anything but `/`, `%`, `.` and `..`) rather than DNS subdomains, as for RBAC
   * objects — cert-manager's release has roles named `cert-manager:leaderelection`.
   */
  readonly pathSegmentNames?: boolean;
}

/** Associative lists of every kind: owner references by uid, conditions by type. */
export const LIST_KEYS_ALL: Readonly<Record<string, readonly string[]>> = {
  'metadata.ownerReferences': ['uid'],
  'status.conditions': ['type'],
};

const POD_SPEC_LISTS = (prefix: string): Record<string, readonly string[]> => ({
  [`${prefix}.containers`]: ['name'],
  [`${prefix}.initContainers`]: ['name'],
  [`${prefix}.containers[].env`]: ['name'],
  [`${prefix}.initContainers[].env`]: ['name'],
  [`${prefix}.containers[].ports`]: ['containerPort'],
  [`${prefix}.containers[].volumeMounts`]: ['mountPath'],
  [`${prefix}.volumes`]: ['name'],
});

const listKeyCache = new WeakMap<KindInfo, ReadonlyMap<string, readonly string[]>>();

/** The associative lists of a kind, as the apply code reads them. */
export function listKeysOf(info: KindInfo): ReadonlyMap<string, readonly string[]> {
  let keys = listKeyCache.get(info);
  if (keys === undefined) {
    keys = new Map(Object.entries({ ...LIST_KEYS_ALL, ...info.listKeys }));
    listKeyCache.set(info, keys);
  }
  return keys;
}

type KindSpec = Omit<KindInfo, 'singular' | 'plural'> & { plural?: string };

function k(spec: KindSpec): KindInfo {
  const singular = spec.kind.toLowerCase();
  return { ...spec, singular, plural: spec.plural ?? `${singular}s` };
}

const CAPI = 'cluster.x-k8s.io';
const cr = (group: string, version: string, kind: string, extra: Partial<KindSpec> = {}): KindInfo =>
  k({ group, versions: [version], kind, namespaced: true, statusSubresource: true, custom: true, ...extra });

/** Every kind served by every virtual cluster. */
export const KINDS: readonly KindInfo[] = [
  // core/v1
  k({ group: '', versions: ['v1'], kind: 'Namespace', namespaced: false, statusSubresource: true, custom: false, shortNames: ['ns'], selectableFields: ['status.phase'] }),
  k({ group: '', versions: ['v1'], kind: 'Secret', namespaced: true, statusSubresource: false, custom: false, selectableFields: ['type'] }),
  k({ group: '', versions: ['v1'], kind: 'ConfigMap', namespaced: true, statusSubresource: false, custom: false, shortNames: ['cm'] }),
  k({ group: '', versions: ['v1'], kind: 'Node', namespaced: false, statusSubresource: true, custom: false, shortNames: ['no'], selectableFields: ['spec.unschedulable'] }),
  k({ group: '', versions: ['v1'], kind: 'ServiceAccount', namespaced: true, statusSubresource: false, custom: false, shortNames: ['sa'] }),
  k({ group: '', versions: ['v1'], kind: 'Service', namespaced: true, statusSubresource: true, custom: false, shortNames: ['svc'] }),
  k({
    group: '', versions: ['v1'], kind: 'Pod', namespaced: true, statusSubresource: true, custom: false, shortNames: ['po'],
    selectableFields: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
    listKeys: POD_SPEC_LISTS('spec'),
  }),
  k({
    group: '', versions: ['v1'], kind: 'Event', namespaced: true, statusSubresource: false, custom: false, shortNames: ['ev'],
    selectableFields: [
      'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
      'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type',
    ],
  }),
  // apps/v1
  k({ group: 'apps', versions: ['v1'], kind: 'Deployment', namespaced: true, statusSubresource: true, custom: false, shortNames: ['deploy'], listKeys: POD_SPEC_LISTS('spec.template.spec') }),
  k({ group: 'apps', versions: ['v1'], kind: 'DaemonSet', namespaced: true, statusSubresource: true, custom: false, shortNames: ['ds'], listKeys: POD_SPEC_LISTS('spec.template.spec') }),
  // rbac.authorization.k8s.io/v1
  ...(['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'] as const).map((kind) =>
    k({ group: 'rbac.authorization.k8s.io', versions: ['v1'], kind, namespaced: !kind.startsWith('Cluster'), statusSubresource: false, custom: false, pathSegmentNames: true }),
  ),
  // admissionregistration.k8s.io/v1: stored, never called (no admission request leaves the simulator)
  ...(['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'] as const).map((kind) =>
    k({ group: 'admissionregistration.k8s.io', versions: ['v1'], kind, namespaced: false, statusSubresource: false, custom: false, listKeys: { webhooks: ['name'] } }),
  ),
  // networking.k8s.io/v1
  k({ group: 'networking.k8s.io', versions: ['v1'], kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true, statusSubresource: false, custom: false, shortNames: ['netpol'] }),
  // apiextensions.k8s.io/v1
  k({ group: 'apiextensions.k8s.io', versions: ['v1'], kind: 'CustomResourceDefinition', namespaced: false, statusSubresource: true, custom: false, shortNames: ['crd', 'crds'] }),
  // Cluster API core
  cr(CAPI, 'v1beta2', 'Cluster', {
    shortNames: ['cl'],
    provider: 'cluster-api',
    listKeys: {
      'spec.topology.variables': ['name'],
      'spec.topology.controlPlane.variables.overrides': ['name'],
      'spec.topology.workers.machineDeployments': ['name'],
      'spec.topology.workers.machineDeployments[].variables.overrides': ['name'],
      'spec.topology.workers.machinePools': ['name'],
      'spec.topology.workers.machinePools[].variables.overrides': ['name'],
    },
  }),
  cr(CAPI, 'v1beta2', 'ClusterClass', {
    plural: 'clusterclasses',
    shortNames: ['cc'],
    provider: 'cluster-api',
    listKeys: { 'spec.variables': ['name'], 'spec.patches': ['name'], 'spec.workers.machineDeployments': ['class'], 'spec.workers.machinePools': ['class'] },
  }),
  cr(CAPI, 'v1beta2', 'MachineDeployment', { shortNames: ['md'], provider: 'cluster-api' }),
  cr(CAPI, 'v1beta2', 'MachineSet', { shortNames: ['ms'], provider: 'cluster-api' }),
  cr(CAPI, 'v1beta2', 'Machine', { shortNames: ['ma'], provider: 'cluster-api' }),
  cr(CAPI, 'v1beta2', 'MachinePool', { shortNames: ['mp'], provider: 'cluster-api' }),
  cr(CAPI, 'v1beta2', 'MachineHealthCheck', { shortNames: ['mhc'], provider: 'cluster-api' }),
  // Kubeadm control plane and bootstrap providers
  cr(`controlplane.${CAPI}`, 'v1beta2', 'KubeadmControlPlane', { shortNames: ['kcp'], provider: 'control-plane-kubeadm' }),
  cr(`controlplane.${CAPI}`, 'v1beta2', 'KubeadmControlPlaneTemplate', { statusSubresource: false, provider: 'control-plane-kubeadm' }),
  cr(`bootstrap.${CAPI}`, 'v1beta2', 'KubeadmConfig', { provider: 'bootstrap-kubeadm' }),
  cr(`bootstrap.${CAPI}`, 'v1beta2', 'KubeadmConfigTemplate', { statusSubresource: false, provider: 'bootstrap-kubeadm' }),
  // The simulated infrastructure provider (modelled on CAPI's in-memory and docker providers)
  cr(`infrastructure.${CAPI}`, 'v1beta2', 'SimCluster', { provider: 'infrastructure-sim' }),
  cr(`infrastructure.${CAPI}`, 'v1beta2', 'SimClusterTemplate', { statusSubresource: false, provider: 'infrastructure-sim' }),
  cr(`infrastructure.${CAPI}`, 'v1beta2', 'SimMachine', { provider: 'infrastructure-sim' }),
  cr(`infrastructure.${CAPI}`, 'v1beta2', 'SimMachineTemplate', { statusSubresource: false, provider: 'infrastructure-sim' }),
  // Add-ons: CAAPH and ClusterResourceSet
  cr(`addons.${CAPI}`, 'v1alpha1', 'HelmChartProxy', { plural: 'helmchartproxies', provider: 'addon-helm' }),
  cr(`addons.${CAPI}`, 'v1alpha1', 'HelmReleaseProxy', { plural: 'helmreleaseproxies', provider: 'addon-helm' }),
  cr(`addons.${CAPI}`, 'v1beta2', 'ClusterResourceSet', { shortNames: ['crs'], provider: 'cluster-api' }),
  cr(`addons.${CAPI}`, 'v1beta2', 'ClusterResourceSetBinding', { statusSubresource: false, shortNames: ['crsb'], provider: 'cluster-api' }),
  // cert-manager (installed by clusterctl before the providers; simulated in controllers/certmanager.ts)
  cr('cert-manager.io', 'v1', 'Certificate', { shortNames: ['cert', 'certs'], provider: 'cert-manager' }),
  cr('cert-manager.io', 'v1', 'Issuer', { provider: 'cert-manager' }),
  cr('cert-manager.io', 'v1', 'ClusterIssuer', { namespaced: false, provider: 'cert-manager' }),
  cr('cert-manager.io', 'v1', 'CertificateRequest', { shortNames: ['cr', 'crs'], provider: 'cert-manager' }),
  cr('acme.cert-manager.io', 'v1', 'Order', { provider: 'cert-manager' }),
  cr('acme.cert-manager.io', 'v1', 'Challenge', { provider: 'cert-manager' }),
  // clusterctl inventory
  cr(`clusterctl.${CAPI}`, 'v1alpha3', 'Provider', { statusSubresource: false, provider: 'inventory' }),
];

/** "group/version" (or "v1" for core) — the apiVersion string of a group and version. */
export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** Splits an apiVersion into group and version ("v1" → core). */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Lookup tables over a set of kinds; one instance is shared by every store (the registry is immutable). */
export class KindRegistry {
  private readonly byGroupKind = new Map<string, KindInfo>();
  private readonly byGroupVersionPlural = new Map<string, KindInfo>();
  private readonly byGroupVersion = new Map<string, KindInfo[]>();

  constructor(readonly kinds: readonly KindInfo[]) {
    for (const info of kinds) {
      this.byGroupKind.set(`${info.group}/${info.kind}`, info);
      for (const v of info.versions) {
        this.byGroupVersionPlural.set(`${info.group}/${v}/${info.plural}`, info);
        const gv = `${info.group}/${v}`;
        const list = this.byGroupVersion.get(gv) ?? [];
        list.push(info);
        this.byGroupVersion.set(gv, list);
      }
    }
  }

  /** The kind for an apiVersion + kind pair, or undefined if that version of that kind is not served. */
  forApiVersionKind(apiVersion: string, kind: string): KindInfo | undefined {
    const { group, version } = parseApiVersion(apiVersion);
    const info = this.byGroupKind.get(`${group}/${kind}`);
    return info?.versions.includes(version) ? info : undefined;
  }

  forPlural(group: string, version: string, plural: string): KindInfo | undefined {
    return this.byGroupVersionPlural.get(`${group}/${version}/${plural}`);
  }

  /** Kinds served in one group/version (for discovery); undefined when the group/version is not served. */
  inGroupVersion(group: string, version: string): readonly KindInfo[] | undefined {
    return this.byGroupVersion.get(`${group}/${version}`);
  }

  /** Non-core groups with their versions, preferred first, in registration order. */
  groups(): { name: string; versions: string[] }[] {
    const out = new Map<string, string[]>();
    for (const info of this.kinds) {
      if (info.group === '') continue;
      const versions = out.get(info.group) ?? [];
      for (const v of info.versions) if (!versions.includes(v)) versions.push(v);
      out.set(info.group, versions);
    }
    return [...out].map(([name, versions]) => ({ name, versions }));
  }
}

export const defaultKinds = new KindRegistry(KINDS);
