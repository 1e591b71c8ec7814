/**
 * The provider release repository the simulator serves, in clusterctl's local-repository layout:
 * `GET <url>/releases/<provider-label>/<version>/<file>` (`latest` also names the current version).
 *
 * | provider label | files |
 * |---|---|
 * | `cert-manager` | `cert-manager.yaml` (cert-manager's static manifest) |
 * | `cluster-api` | `core-components.yaml`, `metadata.yaml` |
 * | `bootstrap-kubeadm` | `bootstrap-components.yaml`, `metadata.yaml` |
 * | `control-plane-kubeadm` | `control-plane-components.yaml`, `metadata.yaml` |
 * | `infrastructure-sim` | `infrastructure-components.yaml`, `metadata.yaml` |
 * | `addon-helm` | `addon-components.yaml`, `metadata.yaml` |
 *
 * The components files are shaped like the real releases (kustomize output of each provider's `config/default`):
 * Namespace, CRDs with a conversion webhook and `cert-manager.io/inject-ca-from`, ServiceAccount, RBAC, webhook
 * Service, controller Deployment mounting the serving-certificate Secret, cert-manager Issuer + Certificate,
 * mutating and validating webhook configurations — every object labelled `cluster.x-k8s.io/provider`. What
 * clusterctl adds at install time is left out, as in a real release: the `clusterctl.cluster.x-k8s.io` label,
 * the Provider inventory object and its CRD. Controller args carry clusterctl variables (`${VAR:=default}`),
 * e.g. `ClusterTopology=${CLUSTER_TOPOLOGY:=false}`: topology stays off unless the installer sets
 * CLUSTER_TOPOLOGY=true. The CAPI-family controllers (core, kubeadm, sim — modelled on CAPD) tolerate the
 * control-plane taint as the upstream manifests do; CAAPH and cert-manager do not, so on a cluster with only
 * control-plane nodes the installer must add the toleration to those.
 *
 * The YAML is generated here from the simulator's kinds and provider list, once per file.
 */
import { dumpYaml, loadYaml } from '@kubernetes/client-node';
import { crdFor } from './apiserver/crds.ts';
import { type KindInfo, KINDS } from './apiserver/kinds.ts';
import type { KubeObject } from './apiserver/types.ts';
import { CERT_MANAGER_NAMESPACE, CERT_MANAGER_VERSION, CERT_MANAGER_WEBHOOK, PROVIDERS, type ProviderSpec, type ProviderType } from './controllers/providers.ts';

export const RELEASES_PREFIX = 'releases';
export const CERT_MANAGER_LABEL = 'cert-manager';
export const CERT_MANAGER_FILE = 'cert-manager.yaml';
export const METADATA_FILE = 'metadata.yaml';
/** The CA secret cert-manager's webhook keeps for its own serving certificate (`--dynamic-serving-ca-secret-name`). */
export const CERT_MANAGER_WEBHOOK_CA = `${CERT_MANAGER_WEBHOOK}-ca`;

export const COMPONENTS_FILE: Readonly<Record<ProviderType, string>> = {
  CoreProvider: 'core-components.yaml',
  BootstrapProvider: 'bootstrap-components.yaml',
  ControlPlaneProvider: 'control-plane-components.yaml',
  InfrastructureProvider: 'infrastructure-components.yaml',
  AddonProvider: 'addon-components.yaml',
};

export interface ReleaseFile {
  provider: string;
  version: string;
  file: string;
}

/** Every file the repository serves. */
export function releaseFiles(): ReleaseFile[] {
  const out: ReleaseFile[] = [{ provider: CERT_MANAGER_LABEL, version: CERT_MANAGER_VERSION, file: CERT_MANAGER_FILE }];
  for (const p of PROVIDERS) {
    out.push({ provider: p.name, version: p.version, file: COMPONENTS_FILE[p.type] });
    out.push({ provider: p.name, version: p.version, file: METADATA_FILE });
  }
  return out;
}

const L_PROVIDER = 'cluster.x-k8s.io/provider';
const INJECT_CA_FROM = 'cert-manager.io/inject-ca-from';
const CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';

type Obj = KubeObject & Record<string, unknown>;

/** Per provider what differs between the real releases: name prefix, controller args, tolerations, RBAC. */
interface ProviderShape {
  args: string[];
  tolerateControlPlane: boolean;
  /** Label selecting ClusterRoles aggregated into the manager's (core and KCP let other providers extend them). */
  aggregateLabel?: string;
  /** API groups the manager's ClusterRole grants beyond its own (everything a provider reads or writes). */
  extraGroups: string[];
}

/** A clusterctl variable with its default, `${NAME:=default}`, as it appears in a release. */
const variable = (name: string, byDefault: string | boolean) => `\${${name}:=${byDefault}}`;

const featureGates = (gates: [gate: string, variable: string, byDefault: boolean][]) => `--feature-gates=${gates.map(([g, v, d]) => `${g}=${variable(v, d)}`).join(',')}`;

const capiDiagnostics = [
  '--leader-elect',
  `--diagnostics-address=${variable('CAPI_DIAGNOSTICS_ADDRESS', ':8443')}`,
  `--insecure-diagnostics=${variable('CAPI_INSECURE_DIAGNOSTICS', false)}`,
];

const SHAPES: Readonly<Record<string, ProviderShape>> = {
  'cluster-api': {
    args: [
      ...capiDiagnostics,
      featureGates([
        ['MachinePool', 'EXP_MACHINE_POOL', true],
        ['ClusterTopology', 'CLUSTER_TOPOLOGY', false],
        ['RuntimeSDK', 'EXP_RUNTIME_SDK', false],
        ['MachineSetPreflightChecks', 'EXP_MACHINE_SET_PREFLIGHT_CHECKS', true],
        ['PriorityQueue', 'EXP_PRIORITY_QUEUE', true],
        ['ReconcilerRateLimiting', 'EXP_RECONCILER_RATE_LIMITING', true],
        ['InPlaceUpdates', 'EXP_IN_PLACE_UPDATES', false],
        ['MachineTaintPropagation', 'EXP_MACHINE_TAINT_PROPAGATION', false],
      ]),
    ],
    tolerateControlPlane: true,
    aggregateLabel: 'cluster.x-k8s.io/aggregate-to-manager',
    extraGroups: ['*.cluster.x-k8s.io', 'apiextensions.k8s.io'],
  },
  'bootstrap-kubeadm': {
    args: [
      ...capiDiagnostics,
      featureGates([
        ['MachinePool', 'EXP_MACHINE_POOL', true],
        ['KubeadmBootstrapFormatIgnition', 'EXP_KUBEADM_BOOTSTRAP_FORMAT_IGNITION', false],
        ['PriorityQueue', 'EXP_PRIORITY_QUEUE', true],
        ['ReconcilerRateLimiting', 'EXP_RECONCILER_RATE_LIMITING', true],
      ]),
      `--bootstrap-token-ttl=${variable('KUBEADM_BOOTSTRAP_TOKEN_TTL', '15m')}`,
    ],
    tolerateControlPlane: true,
    extraGroups: ['cluster.x-k8s.io'],
  },
  'control-plane-kubeadm': {
    args: [
      ...capiDiagnostics,
      featureGates([
        ['MachinePool', 'EXP_MACHINE_POOL', true],
        ['ClusterTopology', 'CLUSTER_TOPOLOGY', false],
        ['KubeadmBootstrapFormatIgnition', 'EXP_KUBEADM_BOOTSTRAP_FORMAT_IGNITION', false],
        ['PriorityQueue', 'EXP_PRIORITY_QUEUE', true],
        ['ReconcilerRateLimiting', 'EXP_RECONCILER_RATE_LIMITING', true],
        ['InPlaceUpdates', 'EXP_IN_PLACE_UPDATES', false],
      ]),
    ],
    tolerateControlPlane: true,
    aggregateLabel: 'kubeadm.controlplane.cluster.x-k8s.io/aggregate-to-manager',
    extraGroups: ['cluster.x-k8s.io', 'bootstrap.cluster.x-k8s.io', 'infrastructure.cluster.x-k8s.io'],
  },
  'infrastructure-sim': {
    args: [
      ...capiDiagnostics,
      featureGates([
        ['MachinePool', 'EXP_MACHINE_POOL', true],
        ['ClusterTopology', 'CLUSTER_TOPOLOGY', false],
        ['PriorityQueue', 'EXP_PRIORITY_QUEUE', true],
        ['ReconcilerRateLimiting', 'EXP_RECONCILER_RATE_LIMITING', true],
      ]),
    ],
    tolerateControlPlane: true,
    extraGroups: ['cluster.x-k8s.io'],
  },
  'addon-helm': {
    args: [
      '--leader-elect',
      `--diagnostics-address=${variable('CAAPH_DIAGNOSTICS_ADDRESS', ':8443')}`,
      `--insecure-diagnostics=${variable('CAAPH_INSECURE_DIAGNOSTICS', false)}`,
      `--sync-period=${variable('CAAPH_SYNC_PERIOD', '10m')}`,
      '--v=2',
    ],
    tolerateControlPlane: false,
    extraGroups: ['cluster.x-k8s.io', 'controlplane.cluster.x-k8s.io'],
  },
};

/** The contract each minor release series of a provider implements (clusterctl reads it from metadata.yaml). */
const FIRST_V1BETA2_MINOR: Readonly<Record<string, { major: number; minor: number }>> = {
  'cluster-api': { major: 1, minor: 11 },
  'bootstrap-kubeadm': { major: 1, minor: 11 },
  'control-plane-kubeadm': { major: 1, minor: 11 },
  'infrastructure-sim': { major: 0, minor: 1 },
  'addon-helm': { major: 0, minor: 5 },
};

/** The name prefix kustomize gives a provider's objects (`capi-`, `capi-kubeadm-bootstrap-`, `caaph-`, …). */
export function prefixOf(p: ProviderSpec): string {
  return p.deployment.replace(/controller-manager$/, '');
}

/** Name of the Secret holding a provider's webhook serving certificate (what its Deployment mounts). */
export function webhookCertSecretOf(p: ProviderSpec): string {
  return `${prefixOf(p)}webhook-service-cert`;
}

function metadataDocument(p: ProviderSpec): Record<string, unknown> {
  const [major = 0, minor = 0] = p.version.replace(/^v/, '').split('.').map(Number);
  const first = FIRST_V1BETA2_MINOR[p.name] ?? { major, minor };
  const series: { major: number; minor: number; contract: string }[] = [];
  // Newest first, back to the first release of this major version.
  for (let m = minor; m >= 0; m--) series.push({ major, minor: m, contract: major > first.major || m >= first.minor ? 'v1beta2' : 'v1beta1' });
  return { apiVersion: 'clusterctl.cluster.x-k8s.io/v1alpha3', kind: 'Metadata', releaseSeries: series };
}

function webhookPath(kind: 'mutate' | 'validate', info: KindInfo): string {
  return `/${kind}-${info.group.replace(/\./g, '-')}-${info.versions[0]}-${info.singular}`;
}

function webhooks(kind: 'mutate' | 'validate', kinds: readonly KindInfo[], service: { name: string; namespace: string }): Record<string, unknown>[] {
  return kinds.map((info) => ({
    name: `${kind === 'mutate' ? 'default' : 'validation'}.${info.singular}.${info.group}`,
    admissionReviewVersions: ['v1'],
    clientConfig: { service: { ...service, path: webhookPath(kind, info) } },
    failurePolicy: 'Fail',
    matchPolicy: 'Equivalent',
    rules: [{ apiGroups: [info.group], apiVersions: [info.versions[0] ?? 'v1'], operations: ['CREATE', 'UPDATE'], resources: [info.plural] }],
    sideEffects: 'None',
  }));
}

/** A provider's components file, as documents in the order kustomize writes them. */
export function providerComponentDocuments(p: ProviderSpec): Obj[] {
  const shape = SHAPES[p.name];
  if (shape === undefined) throw new RangeError(`no release shape for provider ${p.name}`);
  const prefix = prefixOf(p);
  const ns = p.namespace;
  const labels = { [L_PROVIDER]: p.name };
  const selector = { [L_PROVIDER]: p.name, 'control-plane': 'controller-manager' };
  const service = { name: `${prefix}webhook-service`, namespace: ns };
  const certificate = `${prefix}serving-cert`;
  const issuer = `${prefix}selfsigned-issuer`;
  const injectFrom = { [INJECT_CA_FROM]: `${ns}/${certificate}` };
  const kinds = KINDS.filter((k) => k.custom && k.provider === p.name);
  const sa = `${prefix}manager`;
  const managerRole = `${prefix}manager-role`;
  const boundRole = shape.aggregateLabel !== undefined ? `${prefix}aggregated-manager-role` : managerRole;
  const out: Obj[] = [];

  out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: selector } });
  for (const info of kinds) {
    const crd = crdFor(info) as Obj;
    const crdLabels = { ...crd.metadata.labels };
    // clusterctl adds this label when it installs the provider; a release does not carry it.
    delete crdLabels['clusterctl.cluster.x-k8s.io'];
    crd.metadata = { name: crd.metadata.name, labels: crdLabels, annotations: { ...injectFrom, 'controller-gen.kubebuilder.io/version': 'v0.18.0' } };
    crd.spec = {
      ...(crd.spec as object),
      conversion: { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1', 'v1beta1'], clientConfig: { service: { ...service, path: '/convert' } } } },
    };
    out.push(crd);
  }
  out.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: ns, labels } });
  out.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: `${prefix}leader-election-role`, namespace: ns, labels },
    rules: [
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
    ],
  });
  if (shape.aggregateLabel !== undefined) {
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: boundRole, labels },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [shape.aggregateLabel]: 'true' } }] },
      rules: [],
    });
  }
  const ownGroups = [...new Set(kinds.map((k) => k.group))];
  out.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: managerRole, labels: shape.aggregateLabel !== undefined ? { ...labels, [shape.aggregateLabel]: 'true' } : labels },
    rules: [
      { apiGroups: [''], resources: ['secrets', 'configmaps', 'events', 'namespaces', 'nodes'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: [...ownGroups, ...shape.extraGroups], resources: ['*'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ],
  });
  out.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${prefix}leader-election-rolebinding`, namespace: ns, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${prefix}leader-election-role` },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
  });
  out.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `${prefix}manager-rolebinding`, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: boundRole },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
  });
  out.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service.name, namespace: ns, labels },
    spec: { ports: [{ port: 443, targetPort: 'webhook-server' }], selector: labels },
  });
  out.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: p.deployment, namespace: ns, labels: selector },
    spec: {
      replicas: 1,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: selector },
        spec: {
          containers: [
            {
              name: 'manager',
              image: `${p.image}:${p.version}`,
              imagePullPolicy: 'IfNotPresent',
              command: ['/manager'],
              args: [...shape.args],
              env: ['namespace', 'name', 'uid'].map((f) => ({ name: `POD_${f.toUpperCase()}`, valueFrom: { fieldRef: { fieldPath: `metadata.${f}` } } })),
              ports: [
                { containerPort: 9443, name: 'webhook-server', protocol: 'TCP' },
                { containerPort: 9440, name: 'healthz', protocol: 'TCP' },
                { containerPort: 8443, name: 'metrics', protocol: 'TCP' },
              ],
              readinessProbe: { httpGet: { path: '/readyz', port: 'healthz' } },
              livenessProbe: { httpGet: { path: '/healthz', port: 'healthz' } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, runAsUser: 65532, runAsGroup: 65532 },
              terminationMessagePolicy: 'FallbackToLogsOnError',
              volumeMounts: [{ mountPath: CERT_DIR, name: 'cert', readOnly: true }],
            },
          ],
          serviceAccountName: sa,
          terminationGracePeriodSeconds: 10,
          ...(shape.tolerateControlPlane
            ? {
                tolerations: [
                  { effect: 'NoSchedule', key: 'node-role.kubernetes.io/master' },
                  { effect: 'NoSchedule', key: 'node-role.kubernetes.io/control-plane' },
                ],
              }
            : {}),
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          volumes: [{ name: 'cert', secret: { secretName: webhookCertSecretOf(p) } }],
        },
      },
    },
  });
  out.push({
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: certificate, namespace: ns, labels },
    spec: {
      dnsNames: [`${service.name}.${ns}.svc`, `${service.name}.${ns}.svc.cluster.local`],
      issuerRef: { kind: 'Issuer', name: issuer },
      secretName: webhookCertSecretOf(p),
      subject: { organizations: ['k8s-sig-cluster-lifecycle'] },
    },
  });
  out.push({ apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: issuer, namespace: ns, labels }, spec: { selfSigned: {} } });
  out.push({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: `${prefix}mutating-webhook-configuration`, labels, annotations: injectFrom },
    webhooks: webhooks('mutate', kinds, service),
  });
  out.push({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: `${prefix}validating-webhook-configuration`, labels, annotations: injectFrom },
    webhooks: webhooks('validate', kinds, service),
  });
  return out;
}

/** cert-manager's static manifest (`cert-manager.yaml` of a cert-manager release), as documents. */
export function certManagerDocuments(): Obj[] {
  const v = CERT_MANAGER_VERSION;
  const ns = CERT_MANAGER_NAMESPACE;
  const base = (name: string, component: string) => ({
    app: name,
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': 'cert-manager',
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/version': v,
  });
  const components = [
    { name: 'cert-manager', app: 'cert-manager', component: 'controller', image: 'controller' },
    { name: 'cert-manager-cainjector', app: 'cainjector', component: 'cainjector', image: 'cainjector' },
    { name: CERT_MANAGER_WEBHOOK, app: 'webhook', component: 'webhook', image: 'webhook' },
  ] as const;
  const out: Obj[] = [];
  out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const info of KINDS.filter((k) => k.custom && k.provider === CERT_MANAGER_LABEL)) {
    const crd = crdFor(info) as Obj;
    crd.metadata = { name: crd.metadata.name, labels: base('cert-manager', 'crds') };
    const spec = crd.spec as { names: Record<string, unknown> };
    spec.names = { ...spec.names, categories: ['cert-manager'] };
    out.push(crd);
  }
  for (const c of components) out.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: c.name, namespace: ns, labels: base(c.app, c.component) }, automountServiceAccountToken: true });
  const all = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
  const read = ['get', 'list', 'watch'];
  const clusterRoles: [name: string, app: string, component: string, rules: Record<string, unknown>[]][] = [
    [
      'cert-manager-cainjector',
      'cainjector',
      'cainjector',
      [
        { apiGroups: ['cert-manager.io'], resources: ['certificates'], verbs: read },
        { apiGroups: [''], resources: ['secrets'], verbs: read },
        { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'], verbs: [...read, 'update', 'patch'] },
        { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: [...read, 'update', 'patch'] },
      ],
    ],
    ['cert-manager-controller-issuers', 'cert-manager', 'controller', [{ apiGroups: ['cert-manager.io'], resources: ['issuers', 'issuers/status'], verbs: ['update', 'patch', ...read] }]],
    ['cert-manager-controller-clusterissuers', 'cert-manager', 'controller', [{ apiGroups: ['cert-manager.io'], resources: ['clusterissuers', 'clusterissuers/status'], verbs: ['update', 'patch', ...read] }]],
    [
      'cert-manager-controller-certificates',
      'cert-manager',
      'controller',
      [
        { apiGroups: ['cert-manager.io'], resources: ['certificates', 'certificates/status', 'certificaterequests', 'certificaterequests/status'], verbs: all },
        { apiGroups: [''], resources: ['secrets'], verbs: all },
      ],
    ],
    ['cert-manager-controller-orders', 'cert-manager', 'controller', [{ apiGroups: ['acme.cert-manager.io'], resources: ['orders', 'orders/status', 'challenges'], verbs: all }]],
    ['cert-manager-controller-challenges', 'cert-manager', 'controller', [{ apiGroups: ['acme.cert-manager.io'], resources: ['challenges', 'challenges/status'], verbs: all }]],
    ['cert-manager-controller-ingress-shim', 'cert-manager', 'controller', [{ apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: read }]],
    ['cert-manager-cluster-view', 'cert-manager', 'controller', [{ apiGroups: ['cert-manager.io'], resources: ['clusterissuers'], verbs: read }]],
    ['cert-manager-view', 'cert-manager', 'controller', [{ apiGroups: ['cert-manager.io', 'acme.cert-manager.io'], resources: ['*'], verbs: read }]],
    ['cert-manager-edit', 'cert-manager', 'controller', [{ apiGroups: ['cert-manager.io', 'acme.cert-manager.io'], resources: ['*'], verbs: all }]],
    ['cert-manager-controller-approve:cert-manager-io', 'cert-manager', 'cert-manager', [{ apiGroups: ['cert-manager.io'], resources: ['signers'], verbs: ['approve'] }]],
    ['cert-manager-webhook:subjectaccessreviews', 'webhook', 'webhook', [{ apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] }]],
  ];
  const serviceAccountOf = (app: string) => (app === 'cainjector' ? 'cert-manager-cainjector' : app === 'webhook' ? CERT_MANAGER_WEBHOOK : 'cert-manager');
  for (const [name, app, component, rules] of clusterRoles) {
    out.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels: base(app, component) }, rules });
  }
  for (const [name, app, component] of clusterRoles) {
    if (name === 'cert-manager-cluster-view' || name === 'cert-manager-view' || name === 'cert-manager-edit') continue;
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels: base(app, component) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccountOf(app), namespace: ns }],
    });
  }
  // Leader election happens in kube-system; the webhook keeps its serving CA in its own namespace.
  const roles: [name: string, namespace: string, app: string, component: string, rules: Record<string, unknown>[]][] = [
    ['cert-manager-cainjector:leaderelection', 'kube-system', 'cainjector', 'cainjector', [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update', 'patch'] }]],
    ['cert-manager:leaderelection', 'kube-system', 'cert-manager', 'controller', [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update', 'patch'] }]],
    ['cert-manager-webhook:dynamic-serving', ns, 'webhook', 'webhook', [{ apiGroups: [''], resources: ['secrets'], resourceNames: [CERT_MANAGER_WEBHOOK_CA], verbs: ['get', 'list', 'watch', 'update'] }, { apiGroups: [''], resources: ['secrets'], verbs: ['create'] }]],
  ];
  for (const [name, namespace, app, component, rules] of roles) out.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace, labels: base(app, component) }, rules });
  for (const [name, namespace, app, component] of roles) {
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace, labels: base(app, component) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccountOf(app), namespace: ns }],
    });
  }
  const selectorOf = (c: (typeof components)[number]) => ({ 'app.kubernetes.io/name': c.app, 'app.kubernetes.io/instance': 'cert-manager', 'app.kubernetes.io/component': c.component });
  for (const c of components) {
    const ports: Record<string, unknown>[] = [{ name: 'tcp-prometheus-servicemonitor', protocol: 'TCP', port: 9402, targetPort: 'http-metrics' }];
    if (c.app === 'webhook') ports.unshift({ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' });
    out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: c.name, namespace: ns, labels: base(c.app, c.component) }, spec: { type: 'ClusterIP', ports, selector: selectorOf(c) } });
  }
  for (const c of components) {
    const args =
      c.app === 'webhook'
        ? [
            '--v=2',
            '--secure-port=10250',
            '--dynamic-serving-ca-secret-namespace=$(POD_NAMESPACE)',
            `--dynamic-serving-ca-secret-name=${CERT_MANAGER_WEBHOOK_CA}`,
            `--dynamic-serving-dns-names=${CERT_MANAGER_WEBHOOK},${CERT_MANAGER_WEBHOOK}.$(POD_NAMESPACE),${CERT_MANAGER_WEBHOOK}.$(POD_NAMESPACE).svc`,
          ]
        : c.app === 'cainjector'
          ? ['--v=2', '--leader-election-namespace=kube-system']
          : ['--v=2', '--cluster-resource-namespace=$(POD_NAMESPACE)', '--leader-election-namespace=kube-system', `--acme-http01-solver-image=quay.io/jetstack/cert-manager-acmesolver:${v}`, '--max-concurrent-challenges=60'];
    const ports =
      c.app === 'webhook'
        ? [
            { name: 'https', containerPort: 10250, protocol: 'TCP' },
            { name: 'healthcheck', containerPort: 6080, protocol: 'TCP' },
            { name: 'http-metrics', containerPort: 9402, protocol: 'TCP' },
          ]
        : [{ name: 'http-metrics', containerPort: 9402, protocol: 'TCP' }];
    out.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: c.name, namespace: ns, labels: base(c.app, c.component) },
      spec: {
        replicas: 1,
        selector: { matchLabels: selectorOf(c) },
        template: {
          metadata: { labels: base(c.app, c.component), annotations: { 'prometheus.io/path': '/metrics', 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9402' } },
          spec: {
            serviceAccountName: c.name,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: `cert-manager-${c.image}`,
                image: `quay.io/jetstack/cert-manager-${c.image}:${v}`,
                imagePullPolicy: 'IfNotPresent',
                args,
                ports,
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
                env: [{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
              },
            ],
            nodeSelector: { 'kubernetes.io/os': 'linux' },
          },
        },
      },
    });
  }
  const webhookService = { name: CERT_MANAGER_WEBHOOK, namespace: ns };
  const injectFromSecret = { 'cert-manager.io/inject-ca-from-secret': `${ns}/${CERT_MANAGER_WEBHOOK_CA}` };
  out.push({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: CERT_MANAGER_WEBHOOK, labels: base('webhook', 'webhook'), annotations: injectFromSecret },
    webhooks: [
      {
        name: 'webhook.cert-manager.io',
        rules: [{ apiGroups: ['cert-manager.io'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['certificaterequests'] }],
        admissionReviewVersions: ['v1'],
        matchPolicy: 'Equivalent',
        timeoutSeconds: 30,
        failurePolicy: 'Fail',
        sideEffects: 'None',
        clientConfig: { service: { ...webhookService, path: '/mutate' } },
      },
    ],
  });
  out.push({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: CERT_MANAGER_WEBHOOK, labels: base('webhook', 'webhook'), annotations: injectFromSecret },
    webhooks: [
      {
        name: 'webhook.cert-manager.io',
        namespaceSelector: { matchExpressions: [{ key: 'cert-manager.io/disable-validation', operator: 'NotIn', values: ['true'] }] },
        rules: [{ apiGroups: ['cert-manager.io', 'acme.cert-manager.io'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['*/*'] }],
        admissionReviewVersions: ['v1'],
        matchPolicy: 'Equivalent',
        timeoutSeconds: 30,
        failurePolicy: 'Fail',
        sideEffects: 'None',
        clientConfig: { service: { ...webhookService, path: '/validate' } },
      },
    ],
  });
  return out;
}

function toYaml(docs: readonly object[]): string {
  // dumpYaml serialises through client-node's typed models, which hold wire names like
  // `x-kubernetes-preserve-unknown-fields` under other names: read the wire JSON into the model first (JSON is
  // YAML). No anchors (shared sub-objects would become aliases) and no folding: clusterctl substitutes variables
  // in the text before parsing it.
  return docs.map((d) => dumpYaml(loadYaml(JSON.stringify(d)), { noRefs: true, lineWidth: -1 })).join('---\n');
}

const cache = new Map<string, string | null>();

/** The text of one release file, or undefined when the repository has no such file. Generated once per file. */
export function releaseFile(provider: string, version: string, file: string): string | undefined {
  const key = `${provider}/${version}/${file}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const text = render(provider, version, file);
  cache.set(key, text ?? null);
  return text;
}

function render(provider: string, version: string, file: string): string | undefined {
  if (provider === CERT_MANAGER_LABEL) {
    return (version === CERT_MANAGER_VERSION || version === 'latest') && file === CERT_MANAGER_FILE ? toYaml(certManagerDocuments()) : undefined;
  }
  const p = PROVIDERS.find((x) => x.name === provider);
  if (p === undefined || (version !== p.version && version !== 'latest')) return undefined;
  if (file === METADATA_FILE) return toYaml([metadataDocument(p)]);
  if (file === COMPONENTS_FILE[p.type]) return toYaml(providerComponentDocuments(p));
  return undefined;
}
