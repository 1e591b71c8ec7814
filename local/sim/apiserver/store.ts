/**
 * ClusterStore — the objects of one virtual cluster, with the semantics of a real kube-apiserver + garbage
 * collector + namespace controller, behind a synchronous in-process API. The HTTP layer (server.ts) and the
 * simulated controllers both use it, so they see exactly the same behaviour.
 *
 * Reading
 * - `get(ref)` → the object or undefined; `load(ref)` → the object or throws NotFoundError.
 * - `list({apiVersion, kind, namespace?, labelSelector?, fieldSelector?})` → objects (namespace omitted = all).
 *   Selectors take the query-string syntax (`a=b,c in (x,y),!d`) or a parsed `LabelSelector`.
 * - Objects handed out are deep-frozen and shared (no copy on read): `clone(obj)` before changing one.
 *
 * Writing (each returns the stored object; `opts.fieldManager` names the writer in managedFields)
 * - `create(obj, {withStatus?})`: sets uid, resourceVersion, generation 1, creationTimestamp; `generateName`
 *   supported; the namespace must exist (NotFoundError) and not be terminating (ForbiddenError); an existing
 *   name → AlreadyExistsError. `.status` is dropped for kinds with a status subresource, as on a real server,
 *   unless `withStatus` (a shortcut for in-process controllers that would otherwise create + updateStatus).
 * - `update(obj)`: replaces; `metadata.resourceVersion`, when set, must be current (else ConflictError);
 *   custom resources require it (InvalidError), as on a real server. `.status` changes are ignored for kinds
 *   with a status subresource; `updateStatus(obj)` changes only `.status`.
 * - `mergePatch(ref, patch, {subresource?})` (RFC 7386), `jsonPatch(ref, ops, {subresource?})` (RFC 6902),
 *   `strategicMergePatch(ref, patch)` (built-in kinds only; custom resources → UnsupportedMediaTypeError).
 * - `apply(obj, {fieldManager, force?, subresource?})`: server-side apply with per-manager field ownership;
 *   a field another manager owns with a different value → ConflictError unless `force`; creates if missing;
 *   associative lists declared in kinds.ts (conditions by type, …) merge by key.
 * - `delete(ref, {propagationPolicy?, preconditions?})` → `{object, deleted}`: an object with finalizers gets
 *   `deletionTimestamp` and stays (deleted=false) until an update removes its last finalizer; otherwise it is
 *   removed. Removal garbage-collects dependents by ownerReference uid (Background: dependents whose owners
 *   are all gone are deleted in turn; Orphan strips the reference; Foreground keeps the owner, with the
 *   `foregroundDeletion` finalizer, until its dependents are gone). Deleting a Namespace marks it Terminating,
 *   deletes its content and removes it once empty. All this runs synchronously unless `gcDelayMs` defers it.
 * - No-op writes (nothing changed) return the stored object without a new resourceVersion or event.
 * - `dryRun(() => …writes…)`: the writes are checked and answered, not stored (`?dryRun=All`).
 * - `metadata.generation` is bumped only when something outside metadata and status changes.
 * - `addValidator(group, kind, fn)`: an admission check (a provider webhook's rules) → InvalidError (422).
 * - Every method taking a ref also takes the object itself (`RefLike`); `ownerRefTo(owner, {controller})`
 *   builds an ownerReference.
 * - `crdGated: true` (option): custom kinds are served only while their CRD (crds.ts) exists in the store.
 *
 * Events
 * - `subscribe(listener, {group?, kind?})` → unsubscribe function. Listeners receive `{type, object}` after
 *   every change, in commit order, synchronously after the write (queued if a listener itself writes), so a
 *   listener should only enqueue work. Filter by group/kind to keep fan-out cheap.
 *
 * Errors are ApiError subclasses (errors.ts) carrying the Status body a real server returns.
 */
import { randomUUID } from 'node:crypto';
import {
  AlreadyExistsError,
  BadRequestError,
  ConflictError,
  type FieldError,
  ForbiddenError,
  InternalError,
  InvalidError,
  NotFoundError,
  type ResourceId,
  UnsupportedMediaTypeError,
} from './errors.ts';
import { type ManagedFieldsEntry, ownershipAfterUpdate, planApply } from './fields.ts';
import { clone, deepEqual, deepFreeze, isObject, type JsonObject } from './json.ts';
import { crdName } from './crds.ts';
import { applyDefaults } from './defaults.ts';
import { apiVersionOf, defaultKinds, type KindInfo, type KindRegistry, listKeysOf, parseApiVersion } from './kinds.ts';
import { jsonPatch, mergePatch, PatchDecodeError, PatchError, strategicMergePatch } from './patch.ts';
import {
  type FieldSelector,
  type LabelSelector,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from './selectors.ts';
import type { KubeObject, ObjectRef, OwnerReference, WatchEvent } from './types.ts';

export type { KubeObject, ObjectMeta, ObjectRef, OwnerReference, WatchEvent, WatchEventType } from './types.ts';
export { clone } from './json.ts';
export type { KindInfo } from './kinds.ts';

export interface ListOptions {
  apiVersion: string;
  kind: string;
  /** Omit for all namespaces (and for cluster-scoped kinds). */
  namespace?: string;
  labelSelector?: string | LabelSelector;
  /** `metadata.name=x`, `metadata.namespace!=y`. */
  fieldSelector?: string;
}

export interface WriteOptions {
  /** Recorded in managedFields; defaults to `slipway-sim`. */
  fieldManager?: string;
}

export interface CreateOptions extends WriteOptions {
  /** Keep `.status` on create (in-process controllers only; a real server drops it). */
  withStatus?: boolean;
}

export interface PatchOptions extends WriteOptions {
  subresource?: 'status';
}

export interface ApplyOptions {
  fieldManager: string;
  force?: boolean;
  subresource?: 'status';
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  /** The object's last state: removed (deleted=true) or now carrying deletionTimestamp (deleted=false). */
  object: KubeObject;
  deleted: boolean;
}

export type Listener = (event: WatchEvent) => void;

/**
 * An admission check (what a validating webhook does on a real cluster): returns the field errors that make a
 * create (`old` undefined) or update of `obj` invalid; any error fails the write with 422 Invalid.
 */
export type Validator = (obj: KubeObject, old: KubeObject | undefined) => FieldError[];

export interface ClusterStoreOptions {
  /** Name used in logs and counters. */
  name?: string;
  kinds?: KindRegistry;
  /** Clock for timestamps (tests). */
  now?: () => Date;
  /** Called when a listener throws; the store itself carries on. Defaults to console.error. */
  onListenerError?: (err: unknown, event: WatchEvent) => void;
  /** Delay before objects whose owners do not exist are garbage-collected (default 50 ms; real GC is async). */
  orphanGcDelayMs?: number;
  /**
   * Serve a custom kind only while its CustomResourceDefinition (`<plural>.<group>`, see crds.ts) exists in this
   * store, as a real cluster does — a fresh workload cluster knows no CAPI kinds until providers are installed.
   * Off by default: every registered kind is served.
   */
  crdGated?: boolean;
  /**
   * Delay of the work a real cluster's controllers do after a delete — garbage-collecting dependents,
   * emptying and removing a terminating namespace. 0 (default) does it synchronously within the delete; a
   * real cluster takes from milliseconds to seconds, so clients must poll either way.
   */
  gcDelayMs?: number;
}

interface Bucket {
  info: KindInfo;
  apiVersion: string;
  /** namespace ('' for cluster-scoped) → name → object */
  byNamespace: Map<string, Map<string, KubeObject>>;
}

const DEFAULT_MANAGER = 'slipway-sim';
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const NAMESPACE_FINALIZER = 'kubernetes';
const CRD_GROUP = 'apiextensions.k8s.io';
const FOREGROUND = 'foregroundDeletion';
/** The patch types a real server lists when it refuses strategic merge on a custom resource. */
export const STRATEGIC_REFUSED_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'] as const;

/** What identifies an object: an ObjectRef, or the object itself. */
export type RefLike = ObjectRef | KubeObject;

/** The ObjectRef of a ref or an object. */
export function toRef(r: RefLike): ObjectRef {
  if (!('metadata' in r) || !isObject(r.metadata)) return r as ObjectRef;
  const o = r as KubeObject;
  const ref: ObjectRef = { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name };
  if (o.metadata.namespace !== undefined) ref.namespace = o.metadata.namespace;
  return ref;
}

/** RFC 3339 with second precision, as Kubernetes serialises metav1.Time. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function resourceId(info: KindInfo): ResourceId {
  return { group: info.group, plural: info.plural, kind: info.kind };
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}

/** Everything but metadata and status: a change here is a change of "spec" and bumps metadata.generation. */
function specEqual(a: KubeObject, b: KubeObject, withStatus = false): boolean {
  const skip = (key: string) => key === 'metadata' || key === 'apiVersion' || key === 'kind' || (key === 'status' && !withStatus);
  for (const key in a) {
    if (skip(key)) continue;
    if (!deepEqual(a[key], b[key])) return false;
  }
  for (const key in b) {
    if (skip(key)) continue;
    if (!(key in a) && b[key] !== undefined) return false;
  }
  return true;
}

/** Equality ignoring the fields the server maintains on every write. */
function contentEqual(a: KubeObject, b: KubeObject): boolean {
  const { resourceVersion: _ra, managedFields: fa, ...ma } = a.metadata;
  const { resourceVersion: _rb, managedFields: fb, ...mb } = b.metadata;
  if (!deepEqual(ma, mb)) return false;
  const untimed = (f: ManagedFieldsEntry[] | undefined) => (f ?? []).map(({ time: _t, ...rest }) => rest);
  if (!deepEqual(untimed(fa), untimed(fb))) return false;
  return specEqual(a, b) && deepEqual(a.status, b.status);
}

export class ClusterStore {
  readonly name: string;
  readonly kinds: KindRegistry;
  private readonly now: () => Date;
  private readonly onListenerError: (err: unknown, event: WatchEvent) => void;
  private readonly orphanGcDelayMs: number;
  private readonly buckets = new Map<string, Bucket>();
  private readonly byUid = new Map<string, KubeObject>();
  /** owner uid → uids of objects naming it in ownerReferences */
  private readonly dependents = new Map<string, Set<string>>();
  /** namespace → number of namespaced objects in it (to finalise terminating namespaces cheaply) */
  private readonly namespaceCounts = new Map<string, number>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly pending: { key: string; event: WatchEvent }[] = [];
  private dispatching = false;
  /** The last removed object (lets namespace deletion report the removal that happened during its cascade). */
  private lastTombstone: KubeObject | undefined;
  private revision = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly validators = new Map<string, Validator[]>();
  readonly crdGated: boolean;
  private readonly gcDelayMs: number;
  /** Inside `dryRun`: writes are computed and validated but neither stored nor announced. */
  private dry = false;

  constructor(opts: ClusterStoreOptions = {}) {
    this.name = opts.name ?? 'cluster';
    this.kinds = opts.kinds ?? defaultKinds;
    this.now = opts.now ?? (() => new Date());
    this.onListenerError = opts.onListenerError ?? ((err) => console.error(`[sim ${this.name}] listener failed`, err));
    this.orphanGcDelayMs = opts.orphanGcDelayMs ?? 50;
    this.crdGated = opts.crdGated ?? false;
    this.gcDelayMs = opts.gcDelayMs ?? 0;
  }

  /** The store's current resourceVersion (that of the last write). */
  get resourceVersion(): string {
    return String(this.revision);
  }

  /** Number of objects held. */
  get size(): number {
    return this.byUid.size;
  }

  /** The served kind for an apiVersion + kind; throws NotFoundError (as a real server's 404) when unknown. */
  kindOf(apiVersion: string, kind: string): KindInfo {
    const info = this.kinds.forApiVersionKind(apiVersion, kind);
    if (info === undefined || !this.serves(info)) {
      const { group, version } = parseApiVersion(apiVersion);
      throw new NotFoundError({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `no matches for kind "${kind}" in version "${apiVersionOf(group, version)}"`,
        reason: 'NotFound',
        code: 404,
      });
    }
    return info;
  }

  /** Whether this store serves a kind now (always, unless CRD-gated and its CRD is absent). */
  serves(info: KindInfo): boolean {
    if (!this.crdGated || !info.custom) return true;
    return this.buckets.get(`${CRD_GROUP}/CustomResourceDefinition`)?.byNamespace.get('')?.has(crdName(info)) === true;
  }

  // ── reading ────────────────────────────────────────────────────────────────────────────────────────────────

  get(r: RefLike): KubeObject | undefined {
    const ref = toRef(r);
    const info = this.kindOf(ref.apiVersion, ref.kind);
    return this.bucket(info).byNamespace.get(this.namespaceKey(info, ref.namespace, ref.name))?.get(ref.name);
  }

  load(r: RefLike): KubeObject {
    const ref = toRef(r);
    const obj = this.get(ref);
    if (obj === undefined) throw NotFoundError.of(resourceId(this.kindOf(ref.apiVersion, ref.kind)), ref.name);
    return obj;
  }

  /** The object with this uid, whatever its kind. */
  getByUid(uid: string): KubeObject | undefined {
    return this.byUid.get(uid);
  }

  list(opts: ListOptions): KubeObject[] {
    const info = this.kindOf(opts.apiVersion, opts.kind);
    let labels: LabelSelector;
    let fields: FieldSelector;
    try {
      labels = typeof opts.labelSelector === 'string' || opts.labelSelector === undefined ? parseLabelSelector(opts.labelSelector) : opts.labelSelector;
      fields = parseFieldSelector(opts.fieldSelector, info.selectableFields);
    } catch (err) {
      if (err instanceof SelectorError) throw BadRequestError.of(err.message);
      throw err;
    }
    const bucket = this.bucket(info);
    const maps =
      info.namespaced && opts.namespace !== undefined && opts.namespace !== ''
        ? [bucket.byNamespace.get(opts.namespace)].filter((m) => m !== undefined)
        : [...bucket.byNamespace.values()];
    const out: KubeObject[] = [];
    for (const map of maps) {
      for (const obj of map.values()) {
        if (labels.length > 0 && !matchesLabels(labels, obj.metadata.labels)) continue;
        if (fields.length > 0 && !matchesFields(fields, obj)) continue;
        out.push(obj);
      }
    }
    return out;
  }

  // ── writing ────────────────────────────────────────────────────────────────────────────────────────────────

  create(input: KubeObject, opts: CreateOptions = {}): KubeObject {
    // etcd refuses it and the API server passes that on unmapped: an object copied from elsewhere must be cleaned.
    const rv = input.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '') throw InternalError.unmapped('resourceVersion should not be set on objects to be created');
    return this.createWith(input, opts, undefined);
  }

  /** `applied`: the create is a server-side apply by `opts.fieldManager` of this configuration. */
  private createWith(input: KubeObject, opts: CreateOptions, applied: JsonObject | undefined): KubeObject {
    const info = this.kindOf(input.apiVersion, input.kind);
    const obj = this.normalise(info, clone(input));
    const meta = obj.metadata;
    delete meta.resourceVersion;
    if (!meta.name && meta.generateName) meta.name = this.generateName(info, meta.generateName, meta.namespace);
    // Same order as the real server: namespace admission, then validation, then the storage's uniqueness check.
    if (info.namespaced) this.checkNamespaceWritable(info, meta.name, meta.namespace ?? '');
    this.validate(info, obj, undefined);
    const bucket = this.bucket(info);
    if (bucket.byNamespace.get(meta.namespace ?? '')?.has(meta.name)) throw AlreadyExistsError.of(resourceId(info), meta.name);
    if (info.statusSubresource && !opts.withStatus) delete obj.status;
    applyDefaults(info, obj);
    const now = rfc3339(this.now());
    meta.uid = randomUUID();
    meta.creationTimestamp = now;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (info.group !== '') meta.generation = 1;
    else delete meta.generation;
    if (info.group === '' && info.kind === 'Namespace') {
      obj.spec = { ...(isObject(obj.spec) ? obj.spec : {}), finalizers: [NAMESPACE_FINALIZER] };
      obj.status = { phase: 'Active' };
    }
    if (info.group === CRD_GROUP && info.kind === 'CustomResourceDefinition') obj.status = crdStatus(obj, now);
    const manager = opts.fieldManager ?? DEFAULT_MANAGER;
    meta.managedFields =
      applied === undefined
        ? ownershipAfterUpdate({ before: undefined, after: obj as unknown as JsonObject, manager, apiVersion: obj.apiVersion, subresource: 'main', scope: 'all', now, existing: [], keys: listKeysOf(info) })
        : planApply({ live: {}, applied, manager, force: true, apiVersion: obj.apiVersion, scope: info.statusSubresource ? 'main' : 'all', now, existing: [], keys: listKeysOf(info) })
            .managedFields;
    if (meta.managedFields.length === 0) delete meta.managedFields;
    return this.commitNew(info, obj);
  }

  /** Replaces the object (PUT). Ignores `.status` for kinds with a status subresource. */
  update(input: KubeObject, opts: WriteOptions = {}): KubeObject {
    return this.replace(input, 'main', opts.fieldManager ?? DEFAULT_MANAGER);
  }

  /** Replaces only `.status` (PUT …/status). */
  updateStatus(input: KubeObject, opts: WriteOptions = {}): KubeObject {
    return this.replace(input, 'status', opts.fieldManager ?? DEFAULT_MANAGER);
  }

  mergePatch(ref: RefLike, patch: unknown, opts: PatchOptions = {}): KubeObject {
    if (!isObject(patch)) throw BadRequestError.of('a merge patch must be a JSON object');
    return this.patchWith(ref, opts, (current) => mergePatch(current, patch));
  }

  /** Strategic merge patch: built-in kinds only (a real server answers 415 for custom resources). */
  strategicMergePatch(ref: RefLike, patch: unknown, opts: PatchOptions = {}): KubeObject {
    const r = toRef(ref);
    const info = this.kindOf(r.apiVersion, r.kind);
    if (info.custom) throw UnsupportedMediaTypeError.of('application/strategic-merge-patch+json', STRATEGIC_REFUSED_TYPES);
    if (!isObject(patch)) throw BadRequestError.of('a strategic merge patch must be a JSON object');
    return this.patchWith(ref, opts, (current) => strategicMergePatch(current, patch, listKeysOf(info)));
  }

  jsonPatch(ref: RefLike, ops: unknown, opts: PatchOptions = {}): KubeObject {
    return this.patchWith(ref, opts, (current) => jsonPatch(current, ops));
  }

  /** Server-side apply; creates the object when it does not exist. */
  apply(input: KubeObject, opts: ApplyOptions): KubeObject {
    const info = this.kindOf(input.apiVersion, input.kind);
    if (!opts.fieldManager) {
      throw new InvalidError({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        reason: 'Invalid',
        details: {
          group: 'meta.k8s.io',
          kind: 'PatchOptions',
          causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
        },
        code: 422,
      });
    }
    const applied = this.normalise(info, clone(input));
    const subresource = opts.subresource === 'status' ? 'status' : 'main';
    const existing = this.get({ apiVersion: input.apiVersion, kind: input.kind, name: applied.metadata.name, namespace: applied.metadata.namespace });
    if (existing === undefined) {
      if (subresource === 'status') throw NotFoundError.of(resourceId(info), applied.metadata.name);
      // An apply that creates: the applied configuration is the object, owned entirely by this manager.
      return this.createWith(applied, { fieldManager: opts.fieldManager }, applied as unknown as JsonObject);
    }
    const rv = applied.metadata.resourceVersion;
    if (rv !== undefined && rv !== existing.metadata.resourceVersion) {
      throw ConflictError.staleResourceVersion(resourceId(info), existing.metadata.name);
    }
    const live = clone(existing) as unknown as JsonObject;
    const plan = planApply({
      live,
      applied: applied as unknown as JsonObject,
      manager: opts.fieldManager,
      force: opts.force === true,
      apiVersion: applied.apiVersion,
      scope: subresource === 'status' ? 'status' : info.statusSubresource ? 'main' : 'all',
      now: rfc3339(this.now()),
      existing: existing.metadata.managedFields ?? [],
      keys: listKeysOf(info),
    });
    if (plan.conflicts.length > 0) throw ConflictError.fieldManagers(resourceId(info), existing.metadata.name, plan.conflicts);
    const next = live as unknown as KubeObject;
    next.metadata.managedFields = plan.managedFields;
    return this.commitUpdate(info, existing, next, subresource, undefined);
  }

  delete(r: RefLike, opts: DeleteOptions = {}): DeleteResult {
    const ref = toRef(r);
    const info = this.kindOf(ref.apiVersion, ref.kind);
    const obj = this.load(ref);
    const pre = opts.preconditions;
    if (pre?.uid !== undefined && pre.uid !== obj.metadata.uid) {
      throw ConflictError.uidPrecondition(resourceId(info), obj.metadata.name, pre.uid, obj.metadata.uid ?? '');
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== obj.metadata.resourceVersion) {
      throw ConflictError.resourceVersionPrecondition(resourceId(info), obj.metadata.name, pre.resourceVersion, obj.metadata.resourceVersion ?? '');
    }
    if (info.group === '' && info.kind === 'Namespace') return this.deleteNamespace(info, obj);
    if (info.group === CRD_GROUP && info.kind === 'CustomResourceDefinition' && !this.dry) this.deleteInstances(obj);
    const foreground = opts.propagationPolicy === 'Foreground' && this.liveDependents(obj).length > 0;
    if ((obj.metadata.finalizers?.length ?? 0) > 0 || foreground) {
      if (obj.metadata.deletionTimestamp !== undefined && !foreground) return { object: obj, deleted: false };
      const next = clone(obj);
      next.metadata.deletionTimestamp ??= rfc3339(this.now());
      next.metadata.deletionGracePeriodSeconds = 0;
      // Foreground: the owner waits, marked with this finalizer, until the GC has removed its dependents.
      if (foreground && !next.metadata.finalizers?.includes(FOREGROUND)) next.metadata.finalizers = [...(next.metadata.finalizers ?? []), FOREGROUND];
      const marked = this.commitChange(info, obj, next);
      if (this.dry) return { object: marked, deleted: false };
      if (foreground) {
        this.background(() => {
          for (const dep of this.liveDependents(obj)) if (dep.metadata.deletionTimestamp === undefined) this.delete(dep, { propagationPolicy: 'Foreground' });
          this.releaseForeground(obj.metadata.uid ?? '');
        });
      }
      const still = this.byUid.get(obj.metadata.uid ?? '');
      if (still !== undefined) return { object: still, deleted: false };
      const tomb = this.lastTombstone;
      return { object: tomb !== undefined && tomb.metadata.uid === obj.metadata.uid ? tomb : marked, deleted: true };
    }
    return { object: this.remove(info, obj, opts.propagationPolicy ?? 'Background'), deleted: true };
  }

  /**
   * Runs what a real cluster's controllers (garbage collector, namespace controller) do after a change: now,
   * or after `gcDelayMs`. Deferred work tolerates the world having moved on (an object already gone).
   */
  private background(work: () => void): void {
    if (this.dry) return;
    if (this.gcDelayMs <= 0) {
      work();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      try {
        work();
      } catch (err) {
        if (!(err instanceof NotFoundError)) console.error(`[sim ${this.name}] background cleanup failed`, err);
      }
    }, this.gcDelayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private liveDependents(owner: KubeObject): KubeObject[] {
    const out: KubeObject[] = [];
    for (const uid of this.dependents.get(owner.metadata.uid ?? '') ?? []) {
      const dep = this.byUid.get(uid);
      if (dep !== undefined) out.push(dep);
    }
    return out;
  }

  /** Drops the foregroundDeletion finalizer of an owner once none of its dependents is left. */
  private releaseForeground(ownerUid: string): void {
    const owner = this.byUid.get(ownerUid);
    if (owner === undefined || !owner.metadata.finalizers?.includes(FOREGROUND)) return;
    if (this.liveDependents(owner).length > 0) return;
    const next = clone(owner);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== FOREGROUND);
    if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
    this.commitChange(this.kindOf(owner.apiVersion, owner.kind), owner, next);
  }

  /**
   * Runs writes as `?dryRun=All` does on a real server: every check runs and the would-be result is returned,
   * but nothing is stored, no event is sent and no garbage collection happens.
   */
  dryRun<T>(writes: () => T): T {
    if (this.dry) return writes();
    this.dry = true;
    try {
      return writes();
    } finally {
      this.dry = false;
    }
  }

  /** Adds an admission check for one kind (e.g. a provider webhook's rules). Returns the function removing it. */
  addValidator(group: string, kind: string, validator: Validator): () => void {
    const key = `${group}/${kind}`;
    const list = this.validators.get(key) ?? [];
    list.push(validator);
    this.validators.set(key, list);
    return () => {
      const i = list.indexOf(validator);
      if (i >= 0) list.splice(i, 1);
    };
  }

  // ── events ─────────────────────────────────────────────────────────────────────────────────────────────────

  /** Calls `listener` after every change (of one group/kind when given); returns the unsubscribe function. */
  subscribe(listener: Listener, filter: { group?: string; kind?: string } = {}): () => void {
    const key = filter.kind === undefined ? '*' : `${filter.group ?? ''}/${filter.kind}`;
    const set = this.listeners.get(key) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(key, set);
    return () => {
      set.delete(listener);
    };
  }

  /** Cancels pending garbage-collection timers (call when the cluster is discarded). */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────────────────

  private bucket(info: KindInfo): Bucket {
    const key = `${info.group}/${info.kind}`;
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { info, apiVersion: apiVersionOf(info.group, info.versions[0] ?? 'v1'), byNamespace: new Map() };
      this.buckets.set(key, b);
    }
    return b;
  }

  private namespaceKey(info: KindInfo, namespace: string | undefined, name: string): string {
    if (!info.namespaced) return '';
    if (namespace === undefined || namespace === '') {
      throw BadRequestError.of(`a namespace is required for ${info.plural} "${name}"`);
    }
    return namespace;
  }

  /** Puts an input object into canonical shape: apiVersion of the store, namespace only when namespaced, Secret data. */
  private normalise(info: KindInfo, obj: KubeObject): KubeObject {
    if (!isObject(obj.metadata)) obj.metadata = { name: '' };
    const meta = obj.metadata;
    if (meta.name === undefined) meta.name = '';
    if (!info.namespaced) delete meta.namespace;
    else this.namespaceKey(info, meta.namespace, meta.name || meta.generateName || '');
    obj.apiVersion = apiVersionOf(info.group, info.versions[0] ?? 'v1');
    if (info.group === '' && info.kind === 'Secret' && isObject(obj.stringData)) {
      // The API server folds stringData into data (base64) and never stores stringData.
      const data: Record<string, string> = isObject(obj.data) ? (obj.data as Record<string, string>) : {};
      for (const [key, value] of Object.entries(obj.stringData)) data[key] = Buffer.from(String(value)).toString('base64');
      obj.data = data;
      delete obj.stringData;
    }
    return obj;
  }

  private generateName(info: KindInfo, prefix: string, namespace: string | undefined): string {
    const map = this.bucket(info).byNamespace.get(namespace ?? '');
    for (;;) {
      const name = `${prefix}${randomSuffix()}`;
      if (!map?.has(name)) return name;
    }
  }

  private validate(info: KindInfo, obj: KubeObject, old: KubeObject | undefined, admission = true): void {
    const meta = obj.metadata;
    const errors: FieldError[] = [];
    const isNamespace = info.group === '' && info.kind === 'Namespace';
    if (!meta.name) {
      errors.push({ field: 'metadata.name', type: 'FieldValueRequired', detail: 'name or generateName is required' });
    } else if (info.pathSegmentNames === true) {
      if (meta.name === '.' || meta.name === '..' || /[/%]/.test(meta.name)) {
        errors.push({ field: 'metadata.name', type: 'FieldValueInvalid', value: meta.name, detail: `may not be '.' or '..' and may not contain '/' or '%'` });
      }
    } else if (isNamespace ? !DNS_LABEL.test(meta.name) || meta.name.length > 63 : !DNS_SUBDOMAIN.test(meta.name) || meta.name.length > 253) {
      errors.push({
        field: 'metadata.name',
        type: 'FieldValueInvalid',
        value: meta.name,
        detail: isNamespace
          ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
          : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
      });
    }
    for (const [key, value] of Object.entries(meta.labels ?? {})) {
      const slash = key.lastIndexOf('/');
      const prefix = slash < 0 ? '' : key.slice(0, slash);
      const name = slash < 0 ? key : key.slice(slash + 1);
      if (!LABEL_NAME.test(name) || name.length > 63 || (prefix !== '' && !DNS_SUBDOMAIN.test(prefix))) {
        errors.push({ field: 'metadata.labels', type: 'FieldValueInvalid', value: key, detail: 'name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\'' });
      }
      if (typeof value !== 'string' || !LABEL_VALUE.test(value) || value.length > 63) {
        errors.push({ field: 'metadata.labels', type: 'FieldValueInvalid', value, detail: 'a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character' });
      }
    }
    for (const [i, ref] of (meta.ownerReferences ?? []).entries()) {
      for (const field of ['apiVersion', 'kind', 'name', 'uid'] as const) {
        if (!ref[field]) errors.push({ field: `metadata.ownerReferences[${i}].${field}`, type: 'FieldValueRequired', detail: '' });
      }
    }
    if ((meta.ownerReferences ?? []).filter((r) => r.controller === true).length > 1) {
      errors.push({ field: 'metadata.ownerReferences', type: 'FieldValueInvalid', value: meta.ownerReferences, detail: 'Only one reference can have Controller set to true' });
    }
    if (info.group === '' && info.kind === 'Secret' && isObject(obj.data)) {
      for (const [key, value] of Object.entries(obj.data)) {
        if (typeof value !== 'string' || !BASE64.test(value)) {
          errors.push({ field: `data[${key}]`, type: 'FieldValueInvalid', value: '<secret contents redacted>', detail: 'must be base64 encoded' });
        }
      }
    }
    if (old?.immutable === true && info.group === '' && (info.kind === 'Secret' || info.kind === 'ConfigMap')) {
      for (const field of ['data', 'binaryData', 'immutable'] as const) {
        if (!deepEqual(old[field], obj[field])) {
          errors.push({ field, type: 'FieldValueForbidden', detail: 'field is immutable when `immutable` is set' });
        }
      }
    }
    if (old?.metadata.deletionTimestamp !== undefined) {
      const before = new Set(old.metadata.finalizers ?? []);
      if ((meta.finalizers ?? []).some((f) => !before.has(f))) {
        errors.push({ field: 'metadata.finalizers', type: 'FieldValueForbidden', detail: 'no new finalizers can be added if the object is being deleted' });
      }
    }
    if (admission) for (const validator of this.validators.get(`${info.group}/${info.kind}`) ?? []) errors.push(...validator(obj, old));
    if (errors.length > 0) throw InvalidError.of(resourceId(info), meta.name || meta.generateName || '', errors);
  }

  private checkNamespaceWritable(info: KindInfo, name: string, namespace: string): void {
    const ns = this.byNamespaceName(namespace);
    if (ns === undefined) throw NotFoundError.of({ group: '', plural: 'namespaces', kind: 'Namespace' }, namespace);
    if (ns.metadata.deletionTimestamp !== undefined) throw ForbiddenError.namespaceTerminating(resourceId(info), name, namespace);
  }

  private byNamespaceName(namespace: string): KubeObject | undefined {
    return this.buckets.get('/Namespace')?.byNamespace.get('')?.get(namespace);
  }

  private replace(input: KubeObject, subresource: 'main' | 'status', manager: string): KubeObject {
    const info = this.kindOf(input.apiVersion, input.kind);
    if (subresource === 'status' && !info.statusSubresource) throw NotFoundError.path();
    const next = this.normalise(info, clone(input));
    const current = this.load({ apiVersion: input.apiVersion, kind: input.kind, name: next.metadata.name, namespace: next.metadata.namespace });
    const rv = next.metadata.resourceVersion;
    if (rv === undefined || rv === '') {
      // Custom resources refuse unconditional updates (the CRD strategy); built-in kinds allow them.
      if (info.custom) {
        throw InvalidError.of(resourceId(info), next.metadata.name, [
          { field: 'metadata.resourceVersion', type: 'FieldValueInvalid', value: 0, detail: 'must be specified for an update' },
        ]);
      }
    } else if (rv !== current.metadata.resourceVersion) {
      throw ConflictError.staleResourceVersion(resourceId(info), current.metadata.name);
    }
    if (next.metadata.uid !== undefined && next.metadata.uid !== current.metadata.uid) {
      throw ConflictError.uidPrecondition(resourceId(info), current.metadata.name, next.metadata.uid, current.metadata.uid ?? '');
    }
    return this.commitUpdate(info, current, next, subresource, manager);
  }

  private patchWith(r: RefLike, opts: PatchOptions, patch: (current: KubeObject) => unknown): KubeObject {
    const ref = toRef(r);
    const info = this.kindOf(ref.apiVersion, ref.kind);
    const subresource = opts.subresource === 'status' ? 'status' : 'main';
    if (subresource === 'status' && !info.statusSubresource) throw NotFoundError.path();
    const current = this.load(ref);
    let patched: unknown;
    try {
      patched = patch(current);
    } catch (err) {
      // A patch that cannot be decoded is a bad request; one that decodes but does not apply is unprocessable.
      if (err instanceof PatchDecodeError) throw BadRequestError.of(err.message);
      if (err instanceof PatchError) {
        throw new InvalidError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: 'Invalid', code: 422 });
      }
      throw err;
    }
    if (!isObject(patched) || !isObject(patched.metadata)) throw BadRequestError.of('the patch produced an object without metadata');
    const next = this.normalise(info, patched as unknown as KubeObject);
    // A patch may carry a resourceVersion (optimistic lock); otherwise it applies to the current version.
    const rv = next.metadata.resourceVersion;
    if (rv !== undefined && rv !== current.metadata.resourceVersion) throw ConflictError.staleResourceVersion(resourceId(info), current.metadata.name);
    if (next.metadata.name !== current.metadata.name) {
      throw InvalidError.of(resourceId(info), current.metadata.name, [
        { field: 'metadata.name', type: 'FieldValueInvalid', value: next.metadata.name, detail: 'field is immutable' },
      ]);
    }
    return this.commitUpdate(info, current, next, subresource, opts.fieldManager ?? DEFAULT_MANAGER);
  }

  /**
   * The common end of every update: keep server-owned fields, honour the status subresource, validate, bump
   * generation, record field ownership (`manager` undefined: the caller has set managedFields), then commit.
   */
  private commitUpdate(info: KindInfo, current: KubeObject, next: KubeObject, subresource: 'main' | 'status', manager: string | undefined): KubeObject {
    let target: KubeObject;
    if (subresource === 'status') {
      // Writes to /status change only status (and the ownership of status fields). The rest of the stored
      // object is frozen and unchanged, so a shallow copy with its own metadata is enough.
      target = { ...current, metadata: { ...current.metadata }, status: next.status };
      if (next.status === undefined) delete target.status;
      if (manager === undefined) target.metadata.managedFields = next.metadata.managedFields;
    } else {
      target = next;
      const meta = target.metadata;
      const cm = current.metadata;
      meta.namespace = cm.namespace;
      meta.uid = cm.uid;
      meta.creationTimestamp = cm.creationTimestamp;
      meta.generation = cm.generation;
      if (meta.generation === undefined) delete meta.generation;
      meta.deletionTimestamp = cm.deletionTimestamp;
      meta.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
      if (cm.deletionTimestamp === undefined) {
        delete meta.deletionTimestamp;
        delete meta.deletionGracePeriodSeconds;
      }
      if (manager !== undefined) meta.managedFields = cm.managedFields;
      if (info.statusSubresource) {
        if (current.status === undefined) delete target.status;
        else target.status = current.status;
      }
      if (info.group === '' && info.kind === 'Namespace') target.spec = current.spec;
      applyDefaults(info, target);
    }
    // Like webhooks, admission checks apply to the main resource, not to status writes.
    this.validate(info, target, current, subresource === 'main');
    if (manager !== undefined) {
      const scope = subresource === 'status' ? 'status' : info.statusSubresource ? 'main' : 'all';
      const managed = ownershipAfterUpdate({
        before: current as unknown as JsonObject,
        after: target as unknown as JsonObject,
        manager,
        apiVersion: target.apiVersion,
        subresource,
        scope,
        now: rfc3339(this.now()),
        existing: current.metadata.managedFields ?? [],
        keys: listKeysOf(info),
      });
      if (managed.length > 0) target.metadata.managedFields = managed;
      else delete target.metadata.managedFields;
    }
    // Without a status subresource a custom resource's status is just another field: it bumps generation too.
    const statusCounts = info.custom && !info.statusSubresource;
    if (!specEqual(current, target, statusCounts) && current.metadata.generation !== undefined) {
      target.metadata.generation = current.metadata.generation + 1;
    }
    return this.commitChange(info, current, target);
  }

  private commitNew(info: KindInfo, obj: KubeObject): KubeObject {
    // A dry-run create is answered without a resourceVersion: storage never saw it.
    if (this.dry) return deepFreeze(obj);
    const meta = obj.metadata;
    const ns = meta.namespace ?? '';
    meta.resourceVersion = String(++this.revision);
    deepFreeze(obj);
    const bucket = this.bucket(info);
    let map = bucket.byNamespace.get(ns);
    if (map === undefined) {
      map = new Map();
      bucket.byNamespace.set(ns, map);
    }
    map.set(meta.name, obj);
    this.byUid.set(meta.uid ?? '', obj);
    if (info.namespaced) this.namespaceCounts.set(ns, (this.namespaceCounts.get(ns) ?? 0) + 1);
    this.indexOwners(obj, undefined);
    this.emit(info, { type: 'ADDED', object: obj });
    return obj;
  }

  /** Stores `next` in place of `current` (unless nothing changed), then removes it if its last finalizer went. */
  private commitChange(info: KindInfo, current: KubeObject, next: KubeObject): KubeObject {
    if (contentEqual(current, next)) return current;
    if (this.dry) {
      next.metadata.resourceVersion = current.metadata.resourceVersion;
      return deepFreeze(next);
    }
    next.metadata.resourceVersion = String(++this.revision);
    deepFreeze(next);
    const meta = next.metadata;
    this.bucket(info).byNamespace.get(meta.namespace ?? '')?.set(meta.name, next);
    this.byUid.set(meta.uid ?? '', next);
    this.indexOwners(next, current);
    this.emit(info, { type: 'MODIFIED', object: next });
    if (meta.deletionTimestamp !== undefined && (meta.finalizers?.length ?? 0) === 0) {
      const isNamespace = info.group === '' && info.kind === 'Namespace';
      if (!isNamespace) return this.remove(info, next, 'Background');
      this.background(() => this.finaliseNamespace(next.metadata.name));
    }
    return next;
  }

  private remove(info: KindInfo, obj: KubeObject, policy: 'Background' | 'Foreground' | 'Orphan'): KubeObject {
    if (this.dry) return deepFreeze(obj);
    const meta = obj.metadata;
    const ns = meta.namespace ?? '';
    const bucket = this.bucket(info);
    const map = bucket.byNamespace.get(ns);
    map?.delete(meta.name);
    if (map?.size === 0) bucket.byNamespace.delete(ns);
    this.byUid.delete(meta.uid ?? '');
    this.unindexOwners(obj);
    if (info.namespaced) this.namespaceCounts.set(ns, (this.namespaceCounts.get(ns) ?? 1) - 1);
    const last: KubeObject = deepFreeze({ ...obj, metadata: { ...meta, resourceVersion: String(++this.revision) } });
    this.lastTombstone = last;
    this.emit(info, { type: 'DELETED', object: last });
    this.background(() => {
      this.collectDependents(meta.uid ?? '', policy);
      for (const r of meta.ownerReferences ?? []) this.releaseForeground(r.uid);
      if (info.namespaced) this.finaliseNamespace(ns);
    });
    return last;
  }

  /** Garbage collection of the objects that named a removed owner. */
  private collectDependents(ownerUid: string, policy: 'Background' | 'Foreground' | 'Orphan'): void {
    const deps = this.dependents.get(ownerUid);
    if (deps === undefined) return;
    this.dependents.delete(ownerUid);
    for (const uid of deps) {
      const dep = this.byUid.get(uid);
      if (dep === undefined) continue;
      const refs = dep.metadata.ownerReferences ?? [];
      const alive = refs.filter((r) => r.uid !== ownerUid && this.byUid.has(r.uid));
      const info = this.kindOf(dep.apiVersion, dep.kind);
      if (policy === 'Orphan' || alive.length > 0) {
        // The GC drops the dangling reference; a dependent with a living owner stays.
        const next = clone(dep);
        next.metadata.ownerReferences = refs.filter((r) => r.uid !== ownerUid);
        if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
        this.commitChange(info, dep, next);
        continue;
      }
      this.delete({ apiVersion: dep.apiVersion, kind: dep.kind, name: dep.metadata.name, namespace: dep.metadata.namespace });
    }
  }

  private indexOwners(obj: KubeObject, previous: KubeObject | undefined): void {
    const refs = obj.metadata.ownerReferences ?? [];
    const before = previous?.metadata.ownerReferences ?? [];
    if (before === refs) return;
    const uid = obj.metadata.uid ?? '';
    for (const r of before) if (!refs.some((x) => x.uid === r.uid)) this.dependents.get(r.uid)?.delete(uid);
    let dangling = false;
    for (const r of refs) {
      const set = this.dependents.get(r.uid) ?? new Set<string>();
      set.add(uid);
      this.dependents.set(r.uid, set);
      if (!this.byUid.has(r.uid)) dangling = true;
    }
    if (dangling) this.scheduleOrphanCheck(uid);
  }

  private unindexOwners(obj: KubeObject): void {
    const uid = obj.metadata.uid ?? '';
    for (const r of obj.metadata.ownerReferences ?? []) {
      const set = this.dependents.get(r.uid);
      set?.delete(uid);
      if (set?.size === 0) this.dependents.delete(r.uid);
    }
  }

  /**
   * A real garbage collector deletes an object whose owners (by uid) do not exist — e.g. ownerReferences copied
   * with stale UIDs during a move. It does so asynchronously; so does this check.
   */
  private scheduleOrphanCheck(uid: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const obj = this.byUid.get(uid);
      if (obj === undefined) return;
      const refs = obj.metadata.ownerReferences ?? [];
      const missing = refs.filter((r) => !this.byUid.has(r.uid));
      if (missing.length === 0) return;
      if (missing.length === refs.length) {
        if (obj.metadata.deletionTimestamp === undefined) {
          this.delete({ apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace });
        }
        return;
      }
      const next = clone(obj);
      next.metadata.ownerReferences = refs.filter((r) => this.byUid.has(r.uid));
      this.commitChange(this.kindOf(obj.apiVersion, obj.kind), obj, next);
    }, this.orphanGcDelayMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** Deleting a CRD deletes every instance of its kind (the apiextensions cleanup finalizer's job). */
  private deleteInstances(crd: KubeObject): void {
    const spec = isObject(crd.spec) ? crd.spec : {};
    const names = isObject(spec.names) ? spec.names : {};
    const info = this.kinds.kinds.find((k) => k.group === spec.group && k.kind === names.kind);
    if (info === undefined) return;
    for (const map of [...this.bucket(info).byNamespace.values()]) {
      for (const obj of [...map.values()]) if (this.byUid.has(obj.metadata.uid ?? '')) this.delete(obj);
    }
  }

  private deleteNamespace(info: KindInfo, ns: KubeObject): DeleteResult {
    let current = ns;
    if (ns.metadata.deletionTimestamp === undefined) {
      const next = clone(ns);
      next.metadata.deletionTimestamp = rfc3339(this.now());
      next.metadata.deletionGracePeriodSeconds = 0;
      next.status = { ...(isObject(next.status) ? next.status : {}), phase: 'Terminating' };
      current = this.commitChange(info, ns, next);
      if (this.dry) return { object: current, deleted: false };
      // The namespace controller deletes everything in the namespace, then the namespace.
      const name = ns.metadata.name;
      this.background(() => {
        for (const bucket of this.buckets.values()) {
          if (!bucket.info.namespaced) continue;
          const map = bucket.byNamespace.get(name);
          if (map === undefined) continue;
          for (const obj of [...map.values()]) {
            if (this.byUid.has(obj.metadata.uid ?? '') && obj.metadata.deletionTimestamp === undefined) this.delete(obj);
          }
        }
        this.finaliseNamespace(name);
      });
    }
    const still = this.byNamespaceName(ns.metadata.name);
    if (still !== undefined) return { object: still, deleted: false };
    const tomb = this.lastTombstone?.metadata.uid === ns.metadata.uid ? this.lastTombstone : current;
    return { object: tomb ?? current, deleted: true };
  }

  /** Removes a terminating namespace once it is empty: drops the `kubernetes` finalizer, then the object. */
  private finaliseNamespace(name: string): KubeObject | undefined {
    let ns = this.byNamespaceName(name);
    if (ns === undefined || ns.metadata.deletionTimestamp === undefined) return undefined;
    if ((this.namespaceCounts.get(name) ?? 0) > 0) return undefined;
    const info = this.kindOf('v1', 'Namespace');
    const spec = isObject(ns.spec) ? ns.spec : {};
    if (Array.isArray(spec.finalizers) && spec.finalizers.length > 0) {
      const next = clone(ns);
      next.spec = { ...spec, finalizers: [] };
      ns = this.commitChange(info, ns, next);
    }
    if ((ns.metadata.finalizers?.length ?? 0) > 0) return undefined;
    if (!this.byUid.has(ns.metadata.uid ?? '')) return undefined;
    return this.remove(info, ns, 'Background');
  }

  private emit(info: KindInfo, event: WatchEvent): void {
    const key = `${info.group}/${info.kind}`;
    const forKind = this.listeners.get(key);
    const all = this.listeners.get('*');
    if ((forKind === undefined || forKind.size === 0) && (all === undefined || all.size === 0)) return;
    this.pending.push({ key, event });
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let i = 0; i < this.pending.length; i++) {
        const { key: evKey, event: ev } = this.pending[i]!;
        for (const set of [this.listeners.get(evKey), this.listeners.get('*')]) {
          if (set === undefined) continue;
          for (const l of set) {
            try {
              l(ev);
            } catch (err) {
              this.onListenerError(err, ev);
            }
          }
        }
      }
    } finally {
      this.pending.length = 0;
      this.dispatching = false;
    }
  }
}

/** What the apiextensions controller reports once a CRD's names are accepted. */
function crdStatus(crd: KubeObject, now: string): Record<string, unknown> {
  const spec = isObject(crd.spec) ? crd.spec : {};
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  const stored = versions.filter((v) => isObject(v) && v.storage === true).map((v) => (v as { name?: string }).name ?? '');
  const condition = (type: string, reason: string, message: string) => ({ type, status: 'True', lastTransitionTime: now, reason, message });
  return {
    acceptedNames: isObject(spec.names) ? spec.names : {},
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    storedVersions: stored,
  };
}

/** An ownerReference pointing at `owner`. */
export function ownerRefTo(owner: KubeObject, opts: { controller?: boolean; blockOwnerDeletion?: boolean } = {}): OwnerReference {
  const ref: OwnerReference = { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid ?? '' };
  if (opts.controller !== undefined) ref.controller = opts.controller;
  if (opts.blockOwnerDeletion !== undefined) ref.blockOwnerDeletion = opts.blockOwnerDeletion;
  return ref;
}
