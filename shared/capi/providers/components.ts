/**
 * From a components file to the objects to apply, as clusterctl prepares them, plus what Slipway needs:
 *
 * - providers: variables substituted, every object labelled `clusterctl.cluster.x-k8s.io: ""` and
 *   `cluster.x-k8s.io/provider: <label>`, exactly one Namespace (the target namespace, where the Provider
 *   inventory object goes);
 * - cert-manager: no substitution (clusterctl applies its release as published), labelled
 *   `clusterctl.cluster.x-k8s.io/core: cert-manager` and annotated with its version;
 * - every Deployment tolerates the control-plane taint (and the legacy master one): providers are installed
 *   while the control plane is the only node;
 * - split for apply order: CRDs, Namespaces, then the rest (accounts, config, RBAC, Services, cert-manager
 *   objects, webhook configurations) with the workloads last — so that a set whose Deployments all exist
 *   was applied completely.
 */
import { loadAllYaml } from '@kubernetes/client-node';
import { isRecord, type KubeObject, type ObjectRef, refOf } from '../types.ts';
import { fromModel } from '../wire.ts';
import type { CertManagerSpec, ProviderSpec } from './catalog.ts';
import { ProviderComponentsInvalidError } from './errors.ts';
import { inventoryCrd, inventoryObject } from './inventory.ts';
import { substituteVariables } from './variables.ts';

export const LABEL_CLUSTERCTL = 'clusterctl.cluster.x-k8s.io';
export const LABEL_CLUSTERCTL_CORE = 'clusterctl.cluster.x-k8s.io/core';
export const LABEL_PROVIDER = 'cluster.x-k8s.io/provider';
export const ANNOTATION_CERT_MANAGER_VERSION = 'cert-manager.clusterctl.cluster.x-k8s.io/version';

export const CONTROL_PLANE_TOLERATIONS: readonly Record<string, string>[] = [
  { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
];

/** One component set ready to apply, in groups applied in this order. */
export interface ComponentSet {
  label: string;
  version: string;
  /** Where the file came from (credentials removed), for messages. */
  source: string;
  crds: KubeObject[];
  namespaces: KubeObject[];
  /** Everything else, workloads last. */
  rest: KubeObject[];
  /** Providers: the inventory object, applied after everything else. */
  inventory?: KubeObject;
  deployments: ObjectRef[];
}

/** A provider's components: substituted, labelled, tolerating the control plane, with its inventory object. */
export function providerComponents(spec: ProviderSpec, text: string, variables: Readonly<Record<string, string>>, source: string): ComponentSet {
  const objects = parseComponents(substituteVariables(text, variables, source), source);
  const namespaces = objects.filter((o) => o.kind === 'Namespace' && o.apiVersion === 'v1');
  const target = namespaces[0]?.metadata.name;
  if (target === undefined || namespaces.length > 1) {
    throw new ProviderComponentsInvalidError(`${source}: a provider's components must create exactly one Namespace (found ${namespaces.length})`);
  }
  const labels = { [LABEL_CLUSTERCTL]: '', [LABEL_PROVIDER]: spec.label };
  const labelled = objects.map((o) => tolerateControlPlane(withMetadata(o, labels)));
  const set = group(spec.label, spec.version, source, labelled);
  // clusterctl installs its inventory CRD itself before the first provider: every provider set carries it.
  set.crds.unshift(inventoryCrd());
  set.inventory = inventoryObject(spec, target);
  return set;
}

/** cert-manager's release: labelled and annotated as clusterctl does, tolerating the control plane. */
export function certManagerComponents(spec: CertManagerSpec, text: string, source: string): ComponentSet {
  const labels = { [LABEL_CLUSTERCTL]: '', [LABEL_CLUSTERCTL_CORE]: 'cert-manager' };
  const annotations = { [ANNOTATION_CERT_MANAGER_VERSION]: spec.version };
  const objects = parseComponents(text, source).map((o) => tolerateControlPlane(withMetadata(o, labels, annotations)));
  return group(spec.label, spec.version, source, objects);
}

/**
 * Multi-document YAML → wire-JSON objects. Empty documents (a leading or trailing `---`, comments only) are
 * skipped; anything that is not a Kubernetes object with apiVersion, kind and name is refused.
 */
export function parseComponents(text: string, source: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of documents(text)) {
    let parsed: unknown[];
    try {
      parsed = loadAllYaml(doc.text);
    } catch (err) {
      throw new ProviderComponentsInvalidError(`${source}: YAML error in the document at line ${doc.line}: ${firstLine(err)}`, { cause: err });
    }
    for (const value of parsed) {
      if (!isRecord(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string' || !isRecord(value.metadata) || typeof value.metadata.name !== 'string') {
        throw new ProviderComponentsInvalidError(`${source}: the document at line ${doc.line} is not a Kubernetes object with apiVersion, kind and metadata.name`);
      }
      out.push(fromModel<KubeObject>(value));
    }
  }
  return out;
}

/** Adds the control-plane tolerations a Deployment's pods lack. */
export function tolerateControlPlane(obj: KubeObject): KubeObject {
  if (obj.kind !== 'Deployment' || !obj.apiVersion.startsWith('apps/')) return obj;
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const template = isRecord(spec.template) ? spec.template : {};
  const pod = isRecord(template.spec) ? template.spec : {};
  const current = Array.isArray(pod.tolerations) ? (pod.tolerations as unknown[]) : [];
  const has = (t: Record<string, string>) => current.some((c) => isRecord(c) && c.key === t.key && (c.effect === undefined || c.effect === '' || c.effect === t.effect));
  const added = CONTROL_PLANE_TOLERATIONS.filter((t) => !has(t));
  if (added.length === 0) return obj;
  return { ...obj, spec: { ...spec, template: { ...template, spec: { ...pod, tolerations: [...current, ...added] } } } };
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────────────

/** Apply order of the objects after CRDs and Namespaces; unknown kinds go between RBAC and workloads. */
const KIND_ORDER: readonly string[] = [
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'ClusterRole',
  'Role',
  'ClusterRoleBinding',
  'RoleBinding',
  'Service',
  'Issuer',
  'ClusterIssuer',
  'Certificate',
  '*',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'DaemonSet',
  'StatefulSet',
  'Deployment',
];

function rank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i >= 0 ? i : KIND_ORDER.indexOf('*');
}

function group(label: string, version: string, source: string, objects: readonly KubeObject[]): ComponentSet {
  const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
  const namespaces = objects.filter((o) => o.kind === 'Namespace' && o.apiVersion === 'v1');
  // A stable sort keeps the file's order within a kind.
  const rest = objects.filter((o) => !crds.includes(o) && !namespaces.includes(o)).sort((a, b) => rank(a.kind) - rank(b.kind));
  const deployments = rest.filter((o) => o.kind === 'Deployment').map(refOf);
  return { label, version, source, crds, namespaces, rest, deployments };
}

function withMetadata(obj: KubeObject, labels: Record<string, string>, annotations?: Record<string, string>): KubeObject {
  const metadata = { ...obj.metadata, labels: { ...obj.metadata.labels, ...labels } };
  if (annotations !== undefined) metadata.annotations = { ...obj.metadata.annotations, ...annotations };
  return { ...obj, metadata };
}

/** Splits on document separators (`---` lines; `...` ends a document), keeping each document's first line number. */
function documents(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let lines: string[] = [];
  let start = 1;
  const flush = () => {
    if (lines.some((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))) out.push({ text: lines.join('\n'), line: start });
    lines = [];
  };
  text.split(/\r?\n/).forEach((line, i) => {
    if (/^---(\s|$)/.test(line)) {
      flush();
      start = i + 1;
      // Content may follow the marker on the same line (`--- # comment`, `--- !tag`).
      lines.push(line.slice(3));
    } else if (/^\.\.\.(\s|$)/.test(line)) {
      flush();
      start = i + 2;
    } else {
      lines.push(line);
    }
  });
  flush();
  return out;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
