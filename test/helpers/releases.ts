/**
 * What `clusterctl init` does with provider releases, reduced to what the simulator's tests need — a stand-in
 * for Slipway's installer: download each release file from a repository in clusterctl's layout
 * (`<base>/<provider-label>/<version>/<file>`), check the provider's contract in metadata.yaml, substitute
 * clusterctl variables, add clusterctl's labels (and the control-plane toleration where a Deployment lacks it),
 * apply everything with server-side apply, install the Provider inventory (CRD + one object per provider), and
 * prove cert-manager works by issuing a self-signed test Certificate in `cert-manager-test`.
 */
import { type KubernetesObject, type KubernetesObjectApi, loadAllYaml, loadYaml, PatchStrategy } from '@kubernetes/client-node';
import { CERT_MANAGER_VERSION, PROVIDERS } from '../../local/sim/index.ts';

export const CLUSTERCTL_LABEL = 'clusterctl.cluster.x-k8s.io';
const CORE_LABEL = 'clusterctl.cluster.x-k8s.io/core';
const PROVIDER_LABEL = 'cluster.x-k8s.io/provider';
const CERT_MANAGER_VERSION_ANNOTATION = 'cert-manager.clusterctl.cluster.x-k8s.io/version';
const CONTROL_PLANE_TAINT = 'node-role.kubernetes.io/control-plane';
const FIELD_MANAGER = 'clusterctl';

export type ProviderType = 'CoreProvider' | 'BootstrapProvider' | 'ControlPlaneProvider' | 'InfrastructureProvider' | 'AddonProvider';

/** clusterctl's file name and label prefix per provider type (`bootstrap-kubeadm` → type Bootstrap, name kubeadm). */
const TYPES: readonly { type: ProviderType; prefix: string; file: string }[] = [
  { type: 'BootstrapProvider', prefix: 'bootstrap-', file: 'bootstrap-components.yaml' },
  { type: 'ControlPlaneProvider', prefix: 'control-plane-', file: 'control-plane-components.yaml' },
  { type: 'InfrastructureProvider', prefix: 'infrastructure-', file: 'infrastructure-components.yaml' },
  { type: 'AddonProvider', prefix: 'addon-', file: 'addon-components.yaml' },
];

export interface ProviderRef {
  /** clusterctl's label: `cluster-api`, `bootstrap-kubeadm`, `infrastructure-sim`, … */
  label: string;
  version: string;
}

export class ReleaseFetchError extends Error {
  override name = 'ReleaseFetchError';
}

export class MissingVariablesError extends Error {
  override name = 'MissingVariablesError';
  constructor(readonly variables: string[]) {
    super(`value for variables [${variables.join(', ')}] is not set`);
  }
}

export class UnsupportedContractError extends Error {
  override name = 'UnsupportedContractError';
}

export class CertManagerNotReadyError extends Error {
  override name = 'CertManagerNotReadyError';
}

/** The provider type and inventory name clusterctl derives from a label. */
export function providerIdentity(label: string): { type: ProviderType; providerName: string; file: string } {
  if (label === 'cluster-api') return { type: 'CoreProvider', providerName: 'cluster-api', file: 'core-components.yaml' };
  const t = TYPES.find((x) => label.startsWith(x.prefix));
  if (t === undefined) throw new RangeError(`not a provider label: ${label}`);
  return { type: t.type, providerName: label.slice(t.prefix.length), file: t.file };
}

export async function fetchReleaseFile(base: string, provider: string, version: string, file: string): Promise<string> {
  const url = `${base}/${provider}/${version}/${file}`;
  const res = await fetch(url);
  if (!res.ok) throw new ReleaseFetchError(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.text();
}

/** The clusterctl variables a text uses (`${NAME}` and the defaulting forms), in order of appearance. */
export function variablesOf(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? ''))];
}

/**
 * Substitutes variables as clusterctl does (envsubst, on the text, before parsing): `${V}`, `${V:=d}`/`${V:-d}`
 * (default when unset or empty), `${V=d}`/`${V-d}` (default when unset). A variable without value or default fails.
 */
export function substituteVariables(text: string, values: Readonly<Record<string, string>>): string {
  const missing = new Set<string>();
  const out = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[=-])([^}]*))?\}/g, (_m, name: string, op: string | undefined, fallback: string | undefined) => {
    const value = values[name];
    if (op === undefined) {
      if (value === undefined) missing.add(name);
      return value ?? '';
    }
    const useDefault = op.startsWith(':') ? value === undefined || value === '' : value === undefined;
    return useDefault ? (fallback ?? '') : (value ?? '');
  });
  if (missing.size > 0) throw new MissingVariablesError([...missing]);
  return out;
}

function withLabels(obj: KubernetesObject, labels: Record<string, string>): KubernetesObject {
  return { ...obj, metadata: { ...obj.metadata, labels: { ...(obj.metadata?.labels ?? {}), ...labels } } };
}

interface PodTemplateHolder {
  spec?: { template?: { spec?: { tolerations?: { key?: string; operator?: string; effect?: string }[] } } };
}

/** Adds the control-plane toleration to a Deployment whose pods do not tolerate that taint yet. */
export function tolerateControlPlane(obj: KubernetesObject): KubernetesObject {
  if (obj.kind !== 'Deployment') return obj;
  const d = structuredClone(obj) as KubernetesObject & PodTemplateHolder;
  const podSpec = d.spec?.template?.spec;
  if (podSpec === undefined) return obj;
  const tolerations = podSpec.tolerations ?? [];
  const tolerated = tolerations.some((t) => (t.key === CONTROL_PLANE_TAINT || (t.key === undefined && t.operator === 'Exists')) && (t.effect === undefined || t.effect === 'NoSchedule'));
  if (!tolerated) podSpec.tolerations = [...tolerations, { key: CONTROL_PLANE_TAINT, operator: 'Exists', effect: 'NoSchedule' }];
  return d;
}

/**
 * Server-side apply of each object in order, as field manager `clusterctl`, taking over conflicts. Objects are
 * client-node models (as `loadAllYaml` returns them), which client-node writes back with their wire names.
 */
export async function applyAll(api: KubernetesObjectApi, objects: readonly KubernetesObject[]): Promise<void> {
  for (const o of objects) await api.patch(o, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface InstallOptions {
  /** The repository: `<simulator url>/releases`. */
  releasesUrl: string;
  /** Values for clusterctl variables (e.g. `{ CLUSTER_TOPOLOGY: 'true' }`); unset ones take their defaults. */
  variables?: Readonly<Record<string, string>>;
  /** Add the control-plane toleration to Deployments lacking it (needed while only control-plane nodes exist). Default true. */
  tolerateControlPlane?: boolean;
  /** How long to wait for cert-manager to issue the test Certificate. Default 15 s. */
  timeoutMs?: number;
}

/** cert-manager's documents as clusterctl applies them: its labels and version annotation on every object. */
export async function certManagerObjects(opts: InstallOptions, version = CERT_MANAGER_VERSION): Promise<KubernetesObject[]> {
  const docs = loadAllYaml(await fetchReleaseFile(opts.releasesUrl, 'cert-manager', version, 'cert-manager.yaml')) as KubernetesObject[];
  return docs.map((d) => {
    let o = withLabels(d, { [CLUSTERCTL_LABEL]: '', [CORE_LABEL]: 'cert-manager' });
    o = { ...o, metadata: { ...o.metadata, annotations: { ...(o.metadata?.annotations ?? {}), [CERT_MANAGER_VERSION_ANNOTATION]: version } } };
    return opts.tolerateControlPlane === false ? o : tolerateControlPlane(o);
  });
}

/** clusterctl's test resources: a self-signed Issuer and a Certificate in `cert-manager-test`. */
export const CERT_MANAGER_TEST_RESOURCES: readonly KubernetesObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cert-manager-test' } },
  { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'test-selfsigned', namespace: 'cert-manager-test' }, spec: { selfSigned: {} } } as KubernetesObject,
  {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: 'selfsigned-cert', namespace: 'cert-manager-test' },
    spec: { dnsNames: ['example.com'], secretName: 'selfsigned-cert-tls', issuerRef: { name: 'test-selfsigned' } },
  } as KubernetesObject,
];

/** Applies cert-manager, then waits until it issues clusterctl's test Certificate, and removes the test resources. */
export async function installCertManager(api: KubernetesObjectApi, opts: InstallOptions): Promise<void> {
  await applyAll(api, await certManagerObjects(opts));
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let last = 'not applied';
  for (;;) {
    try {
      await applyAll(api, CERT_MANAGER_TEST_RESOURCES);
      const cert = (await api.read({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'selfsigned-cert', namespace: 'cert-manager-test' } })) as KubernetesObject & {
        status?: { conditions?: { type: string; status: string; message?: string }[] };
      };
      const ready = cert.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status === 'True') break;
      last = ready?.message ?? 'no Ready condition';
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new CertManagerNotReadyError(`cert-manager did not issue the test Certificate: ${last}`);
    await sleep(50);
  }
  for (const o of [...CERT_MANAGER_TEST_RESOURCES].reverse()) await api.delete(o);
}

/**
 * clusterctl's inventory CRD (clusterctl embeds it; no provider release carries it), read into client-node's
 * model so that `x-kubernetes-preserve-unknown-fields` reaches the server under its wire name.
 */
export const INVENTORY_CRD: KubernetesObject = loadYaml<KubernetesObject>(JSON.stringify({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'providers.clusterctl.cluster.x-k8s.io', labels: { [CLUSTERCTL_LABEL]: '', [CORE_LABEL]: 'inventory' } },
  spec: {
    group: 'clusterctl.cluster.x-k8s.io',
    names: { kind: 'Provider', listKind: 'ProviderList', plural: 'providers', singular: 'provider' },
    scope: 'Namespaced',
    versions: [{ name: 'v1alpha3', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
}));

/** Fails unless the release's metadata.yaml maps the version's major.minor to the v1beta2 contract. */
export async function checkContract(opts: InstallOptions, p: ProviderRef): Promise<void> {
  const metadata = loadYaml<{ kind?: string; releaseSeries?: { major: number; minor: number; contract: string }[] }>(
    await fetchReleaseFile(opts.releasesUrl, p.label, p.version, 'metadata.yaml'),
  );
  const [major, minor] = p.version.replace(/^v/, '').split('.').map(Number);
  const series = metadata.releaseSeries?.find((s) => s.major === major && s.minor === minor);
  if (metadata.kind !== 'Metadata' || series?.contract !== 'v1beta2') {
    throw new UnsupportedContractError(`${p.label} ${p.version} does not implement contract v1beta2 (metadata: ${JSON.stringify(series)})`);
  }
}

/** One provider's components as clusterctl applies them, followed by its Provider inventory object. */
export async function providerObjects(opts: InstallOptions, p: ProviderRef): Promise<KubernetesObject[]> {
  const id = providerIdentity(p.label);
  const text = substituteVariables(await fetchReleaseFile(opts.releasesUrl, p.label, p.version, id.file), opts.variables ?? {});
  const labels = { [CLUSTERCTL_LABEL]: '', [PROVIDER_LABEL]: p.label };
  const docs = (loadAllYaml(text) as KubernetesObject[]).map((d) => {
    const o = withLabels(d, labels);
    return opts.tolerateControlPlane === false ? o : tolerateControlPlane(o);
  });
  const namespace = docs.find((d) => d.kind === 'Namespace')?.metadata?.name;
  if (namespace === undefined) throw new ReleaseFetchError(`${p.label} ${p.version}: the components have no Namespace`);
  const inventory = {
    apiVersion: 'clusterctl.cluster.x-k8s.io/v1alpha3',
    kind: 'Provider',
    metadata: { name: p.label, namespace, labels },
    providerName: id.providerName,
    type: id.type,
    version: p.version,
  } as KubernetesObject;
  return [...docs, inventory];
}

/** Every provider the simulator emulates, at the version its repository serves. */
export const SIM_PROVIDERS: readonly ProviderRef[] = PROVIDERS.map((p) => ({ label: p.name, version: p.version }));

/** The providers after cert-manager: inventory CRD, then per provider its checked, substituted components + inventory. */
export async function installProviders(api: KubernetesObjectApi, opts: InstallOptions, providers: readonly ProviderRef[] = SIM_PROVIDERS): Promise<void> {
  await applyAll(api, [INVENTORY_CRD]);
  for (const p of providers) {
    await checkContract(opts, p);
    await applyAll(api, await providerObjects(opts, p));
  }
}

/** The whole `clusterctl init`: cert-manager first (proved working), then the providers. */
export async function installReleaseSet(api: KubernetesObjectApi, opts: InstallOptions, providers: readonly ProviderRef[] = SIM_PROVIDERS): Promise<void> {
  await installCertManager(api, opts);
  await installProviders(api, opts, providers);
}
