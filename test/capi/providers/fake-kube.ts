/**
 * An in-memory KubeClient with the API-server behaviour the provider installer depends on: custom kinds are
 * served only once their CRD is Established (KubeKindNotServedError before, as client-node reports it), a
 * namespaced object needs its Namespace (404), cert-manager's webhook refuses cert-manager.io objects until its
 * Deployment is Available (500 → KubeTransientError, as after the client's retries). Every call is recorded.
 */
import type { KubeClient, ListOptions } from '../../../shared/capi/client.ts';
import { KubeKindNotServedError, KubeNotFoundError, KubeTransientError } from '../../../shared/capi/errors.ts';
import { groupOf, isRecord, type KubeObject, type ObjectRef } from '../../../shared/capi/types.ts';

const BUILT_IN_GROUPS = new Set(['', 'apps', 'rbac.authorization.k8s.io', 'admissionregistration.k8s.io', 'apiextensions.k8s.io', 'networking.k8s.io']);
const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ClusterIssuer']);

export interface Call {
  verb: 'get' | 'list' | 'apply' | 'create' | 'replace' | 'patch' | 'delete';
  /** `Kind ns/name`, or `Kind` for a list. */
  what: string;
}

export class FakeKube implements KubeClient {
  readonly cluster = 'fake';
  readonly calls: Call[] = [];
  private readonly objects = new Map<string, KubeObject>();
  /** GETs of a new CRD before it reports Established (0: its apply answer already says so). */
  crdEstablishAfterGets = 0;
  /** cert-manager issues Certificates (Ready=True) as soon as they are created. */
  issueCertificates = true;
  /** Called before each apply; an error thrown here fails that apply (a crash mid-install). */
  beforeApply: ((obj: KubeObject) => void) | undefined;
  private readonly crdGets = new Map<string, number>();

  constructor() {
    // What every cluster starts with.
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.objects.set(key({ apiVersion: 'v1', kind: 'Namespace', name }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `uid-${name}` } });
    }
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | null> {
    this.calls.push({ verb: 'get', what: describe(ref) });
    if (!this.serves(ref.apiVersion, ref.kind)) return null;
    const obj = this.objects.get(key(ref));
    if (obj === undefined) return null;
    if (ref.kind === 'CustomResourceDefinition') this.maybeEstablish(obj);
    return structuredClone(this.objects.get(key(ref))) as T;
  }

  async list<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, opts: ListOptions = {}): Promise<T[]> {
    this.calls.push({ verb: 'list', what: kind });
    if (!this.serves(apiVersion, kind)) throw new KubeKindNotServedError(`no kind ${kind}`, { verb: 'list', code: 404 });
    const selector = typeof opts.labelSelector === 'string' ? parseSelector(opts.labelSelector) : Object.entries(opts.labelSelector ?? {}).map(([k, v]) => ({ key: k, value: v }));
    return [...this.objects.values()]
      .filter((o) => o.apiVersion === apiVersion && o.kind === kind)
      .filter((o) => opts.namespace === undefined || o.metadata.namespace === opts.namespace)
      .filter((o) => selector.every((r) => (r.value === undefined ? o.metadata.labels?.[r.key] !== undefined : o.metadata.labels?.[r.key] === r.value)))
      .map((o) => structuredClone(o) as T);
  }

  async apply<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    this.calls.push({ verb: 'apply', what: describe(obj) });
    this.beforeApply?.(obj);
    this.admit(obj);
    const existing = this.objects.get(key(obj));
    const stored: KubeObject = structuredClone({
      ...obj,
      metadata: { ...obj.metadata, uid: existing?.metadata.uid ?? `uid-${this.objects.size + 1}`, generation: (existing?.metadata.generation ?? 0) + 1 },
    });
    // Status is the server's: kept across applies.
    if (existing?.status !== undefined) stored.status = existing.status;
    else delete stored.status;
    this.objects.set(key(obj), stored);
    if (obj.kind === 'CustomResourceDefinition' && existing === undefined) this.crdGets.set(obj.metadata.name, 0);
    if (obj.kind === 'CustomResourceDefinition') this.maybeEstablish(stored);
    if (obj.kind === 'Certificate' && this.issueCertificates) this.setCondition(stored, 'Ready', 'True', 'Ready');
    return structuredClone(stored) as T;
  }

  async create<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    return this.apply<T>(obj);
  }

  async replace<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    return this.apply<T>(obj);
  }

  async mergePatch<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    this.calls.push({ verb: 'patch', what: describe(ref) });
    throw new KubeNotFoundError('the fake does not patch', { verb: 'patch', ref, code: 404 });
  }

  async delete(ref: ObjectRef): Promise<'deleted' | 'absent'> {
    this.calls.push({ verb: 'delete', what: describe(ref) });
    if (!this.serves(ref.apiVersion, ref.kind) || !this.objects.delete(key(ref))) return 'absent';
    if (ref.kind === 'Namespace') for (const [k, o] of this.objects) if (o.metadata.namespace === ref.name) this.objects.delete(k);
    return 'deleted';
  }

  async ensureNamespace(name: string): Promise<void> {
    if (this.objects.has(key({ apiVersion: 'v1', kind: 'Namespace', name }))) return;
    await this.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }

  // ── test controls ───────────────────────────────────────────────────────────────────────────────────────

  /** What is stored (a copy), or undefined. */
  peek(ref: ObjectRef): KubeObject | undefined {
    const obj = this.objects.get(key(ref));
    return obj === undefined ? undefined : structuredClone(obj);
  }

  all(kind?: string): KubeObject[] {
    return [...this.objects.values()].filter((o) => kind === undefined || o.kind === kind).map((o) => structuredClone(o));
  }

  /** Marks Deployments Available (all, or those matching), as their controller would. */
  makeAvailable(match: (d: KubeObject) => boolean = () => true): void {
    for (const o of this.objects.values()) {
      if (o.kind !== 'Deployment' || !match(o)) continue;
      this.setCondition(o, 'Available', 'True', 'MinimumReplicasAvailable');
      (o.status as Record<string, unknown>).observedGeneration = o.metadata.generation;
    }
  }

  /** Sets a condition on a stored object. */
  setCondition(obj: KubeObject, type: string, status: string, reason: string): void {
    const s = isRecord(obj.status) ? obj.status : {};
    const conditions = (Array.isArray(s.conditions) ? s.conditions : []).filter((c) => isRecord(c) && c.type !== type);
    obj.status = { ...s, conditions: [...conditions, { type, status, reason }] };
  }

  /** Calls since the mark (`mark()` returns it). */
  mark(): number {
    return this.calls.length;
  }

  since(mark: number): Call[] {
    return this.calls.slice(mark);
  }

  // ── API-server behaviour ────────────────────────────────────────────────────────────────────────────────

  private serves(apiVersion: string, kind: string): boolean {
    const group = groupOf(apiVersion);
    if (BUILT_IN_GROUPS.has(group)) return true;
    return [...this.objects.values()].some((o) => {
      if (o.kind !== 'CustomResourceDefinition' || !isRecord(o.spec)) return false;
      const names = isRecord(o.spec.names) ? o.spec.names : {};
      const established = isRecord(o.status) && Array.isArray(o.status.conditions) && o.status.conditions.some((c) => isRecord(c) && c.type === 'Established' && c.status === 'True');
      return o.spec.group === group && names.kind === kind && established;
    });
  }

  private admit(obj: KubeObject): void {
    if (!this.serves(obj.apiVersion, obj.kind)) throw new KubeKindNotServedError(`no matches for kind "${obj.kind}" in version "${obj.apiVersion}"`, { verb: 'apply', ref: ref(obj), code: 404 });
    const ns = obj.metadata.namespace;
    if (!CLUSTER_SCOPED.has(obj.kind) && ns !== undefined && !this.objects.has(key({ apiVersion: 'v1', kind: 'Namespace', name: ns }))) {
      throw new KubeNotFoundError(`namespaces "${ns}" not found`, { verb: 'apply', ref: ref(obj), code: 404 });
    }
    if (groupOf(obj.apiVersion) === 'cert-manager.io') {
      const webhook = [...this.objects.values()].find((o) => o.kind === 'Deployment' && o.metadata.name === 'cert-manager-webhook');
      const available = isRecord(webhook?.status) && Array.isArray(webhook.status.conditions) && webhook.status.conditions.some((c) => isRecord(c) && c.type === 'Available' && c.status === 'True');
      if (!available) throw new KubeTransientError('Internal error occurred: failed calling webhook "webhook.cert-manager.io": connection refused', { verb: 'apply', ref: ref(obj), code: 500 });
    }
  }

  private maybeEstablish(crd: KubeObject): void {
    const gets = (this.crdGets.get(crd.metadata.name) ?? 0) + 1;
    this.crdGets.set(crd.metadata.name, gets);
    // The apply itself counts as the first look.
    if (gets > this.crdEstablishAfterGets) {
      const stored = this.objects.get(key(crd));
      if (stored !== undefined) this.setCondition(stored, 'Established', 'True', 'InitialNamesAccepted');
    }
  }
}

function ref(obj: KubeObject): ObjectRef {
  return { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, ...(obj.metadata.namespace === undefined ? {} : { namespace: obj.metadata.namespace }) };
}

function key(r: ObjectRef | KubeObject): string {
  const x = 'metadata' in r ? ref(r) : r;
  return `${groupOf(x.apiVersion)}/${x.kind}/${x.namespace ?? ''}/${x.name}`;
}

function describe(r: ObjectRef | KubeObject): string {
  const x = 'metadata' in r ? ref(r) : r;
  return `${x.kind} ${x.namespace === undefined ? '' : `${x.namespace}/`}${x.name}`;
}

function parseSelector(text: string): { key: string; value?: string }[] {
  return text
    .split(',')
    .filter((p) => p !== '')
    .map((p) => {
      const [k, v] = p.split('=');
      return v === undefined ? { key: k ?? '' } : { key: k ?? '', value: v };
    });
}
