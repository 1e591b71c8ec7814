/**
 * Field ownership for server-side apply, tracked per manager at leaf-field granularity. Maps merge by key;
 * lists are atomic leaves (the default for custom resources without `x-kubernetes-list-type`) unless the kind
 * declares them associative (`listType=map`, e.g. `status.conditions` keyed by `type`), in which case their
 * items merge and are owned by key. Ownership is stored in `metadata.managedFields` in the real `FieldsV1`
 * format (`{"f:spec":{"f:replicas":{}}}`, `{"k:{\"type\":\"Ready\"}":{…}}`), so clients that read it see what
 * they would see on a real cluster.
 */
import { deepEqual, isObject, type JsonObject, type JsonValue } from './json.ts';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
  subresource?: string;
}

/**
 * A path is a list of segments: map keys, or list-item keys (`ITEM` + `k:{"name":"x"}`) in associative lists.
 * Paths are compared through `pathKey`.
 */
export type FieldPath = readonly string[];
const SEP = '\u0000';
const ITEM = '\u0001';
export const pathKey = (p: FieldPath): string => p.join(SEP);
export const pathOf = (key: string): string[] => key.split(SEP);

/**
 * Associative lists of a kind: schema path (`spec.template.spec.containers[].env`, items written `[]`) → the
 * item fields that key it. Lists not named here are atomic.
 */
export type ListKeys = ReadonlyMap<string, readonly string[]>;
const NO_LIST_KEYS: ListKeys = new Map();

function itemKey(item: JsonObject, keys: readonly string[]): string | undefined {
  const key: Record<string, JsonValue> = {};
  for (const k of keys) {
    const v = item[k];
    if (v === undefined || (typeof v === 'object' && v !== null)) return undefined;
    key[k] = v;
  }
  return `${ITEM}k:${JSON.stringify(key)}`;
}

/** The keyed items of a list, or undefined when the list is atomic (not associative, or an item lacks a key). */
function keyedItems(value: JsonValue | undefined, keys: readonly string[] | undefined): Map<string, JsonObject> | undefined {
  if (keys === undefined || !Array.isArray(value)) return undefined;
  const out = new Map<string, JsonObject>();
  for (const item of value) {
    if (!isObject(item)) return undefined;
    const k = itemKey(item, keys);
    if (k === undefined) return undefined;
    out.set(k, item);
  }
  return out;
}

const child = (schemaPath: string, key: string): string => (schemaPath === '' ? key : `${schemaPath}.${key}`);

/** ".spec.replicas", `.status.conditions[type="Ready"].status` — how the real server names a field in conflicts. */
export function pathText(key: string): string {
  return pathOf(key)
    .map((seg) => {
      if (seg.startsWith(ITEM)) {
        const fields = JSON.parse(seg.slice(ITEM.length + 2)) as Record<string, unknown>;
        return `[${Object.entries(fields)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      }
      return /^[A-Za-z0-9_]+$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`;
    })
    .join('');
}

const TRACKED_METADATA = ['labels', 'annotations', 'finalizers', 'ownerReferences'] as const;

/** `prefix` is the path key (pathKey) of `value`, never empty. */
function collectLeaves(value: JsonValue | undefined, prefix: string, schemaPath: string, keys: ListKeys, out: Map<string, JsonValue>): void {
  if (value === undefined) return;
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [key, c] of Object.entries(value)) collectLeaves(c, prefix + SEP + key, child(schemaPath, key), keys, out);
    return;
  }
  // An associative list is owned item by item: its items are the leaves' parents, an empty one owns nothing.
  const items = keyedItems(value, keys.get(schemaPath));
  if (items !== undefined) {
    for (const [k, item] of items) collectLeaves(item, prefix + SEP + k, `${schemaPath}[]`, keys, out);
    return;
  }
  out.set(prefix, value);
}

/**
 * The leaf fields of an object that field management tracks, with their values: everything but the identity
 * fields (apiVersion, kind, name, uid, ...), restricted to `status` for the status subresource and excluding it
 * for the main resource when the kind has the subresource.
 */
export function managedLeaves(obj: JsonObject, scope: 'main' | 'status' | 'all', keys: ListKeys = NO_LIST_KEYS): Map<string, JsonValue> {
  const out = new Map<string, JsonValue>();
  if (scope === 'status') {
    collectLeaves(obj.status, 'status', 'status', keys, out);
    return out;
  }
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'metadata') continue;
    if (key === 'status' && scope === 'main') continue;
    collectLeaves(value, key, key, keys, out);
  }
  const meta = obj.metadata;
  if (isObject(meta)) {
    for (const key of TRACKED_METADATA) collectLeaves(meta[key], `metadata${SEP}${key}`, `metadata.${key}`, keys, out);
  }
  return out;
}

export function toFieldsV1(paths: Iterable<string>): JsonObject {
  const root: JsonObject = {};
  for (const key of paths) {
    let node = root;
    for (const seg of pathOf(key)) {
      const f = seg.startsWith(ITEM) ? seg.slice(ITEM.length) : `f:${seg}`;
      let next = node[f];
      if (!isObject(next)) {
        next = {};
        node[f] = next;
      }
      node = next;
    }
  }
  return root;
}

/** fromFieldsV1 of stored (frozen, so unchanging) fieldsV1 objects: every write re-reads every entry. */
const parsedFields = new WeakMap<JsonObject, ReadonlySet<string>>();

/** The owned paths of a FieldsV1 object; the set is shared for a frozen one: do not change it. */
export function fromFieldsV1(fields: JsonObject | undefined): ReadonlySet<string> {
  if (fields === undefined || !Object.isFrozen(fields)) return parseFieldsV1(fields);
  let paths = parsedFields.get(fields);
  if (paths === undefined) {
    paths = parseFieldsV1(fields);
    parsedFields.set(fields, paths);
  }
  return paths;
}

function parseFieldsV1(fields: JsonObject | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (node: JsonObject, prefix: string[]): void => {
    const children = Object.entries(node).filter(([k]) => k.startsWith('f:') || k.startsWith('k:'));
    if (children.length === 0 && prefix.length > 0) out.add(pathKey(prefix));
    for (const [k, c] of children) if (isObject(c)) walk(c, [...prefix, k.startsWith('k:') ? `${ITEM}${k}` : k.slice(2)]);
  };
  if (fields) walk(fields, []);
  return out;
}

/** true when one path is the other or contains it (a map owned as a leaf vs. one of its members). */
function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(b + SEP) || b.startsWith(a + SEP);
}

/**
 * `(p) => [...paths].some((c) => overlaps(c, p))` in time proportional to p's depth instead of paths' size:
 * p overlaps a path when it is one, when it is one's ancestor, or when one is its ancestor.
 */
function overlapsAny(paths: ReadonlySet<string>): (p: string) => boolean {
  const ancestors = new Set<string>();
  for (const c of paths) for (let i = c.indexOf(SEP); i >= 0; i = c.indexOf(SEP, i + 1)) ancestors.add(c.slice(0, i));
  return (p) => {
    if (paths.has(p) || ancestors.has(p)) return true;
    for (let i = p.indexOf(SEP); i >= 0; i = p.indexOf(SEP, i + 1)) if (paths.has(p.slice(0, i))) return true;
    return false;
  };
}

/** For the path of a list item's key field, the path of the item; otherwise undefined. */
function itemPrefix(key: string): string | undefined {
  const segs = pathOf(key);
  const itemSeg = segs[segs.length - 2];
  if (!itemSeg?.startsWith(ITEM)) return undefined;
  const keyFields = Object.keys(JSON.parse(itemSeg.slice(ITEM.length + 2)) as object);
  return keyFields.includes(segs[segs.length - 1] ?? '') ? pathKey(segs.slice(0, -1)) : undefined;
}

/** The item of a list with this `k:{…}` key. */
function findItem(list: JsonValue[], seg: string): JsonObject | undefined {
  const want = JSON.parse(seg.slice(ITEM.length + 2)) as Record<string, JsonValue>;
  return list.find((item): item is JsonObject => isObject(item) && Object.entries(want).every(([k, v]) => item[k] === v));
}

function step(node: JsonValue | undefined, seg: string): JsonValue | undefined {
  if (seg.startsWith(ITEM)) return Array.isArray(node) ? findItem(node, seg) : undefined;
  return isObject(node) ? node[seg] : undefined;
}

function valueAt(obj: JsonValue | undefined, key: string): JsonValue | undefined {
  let node: JsonValue | undefined = obj;
  for (const seg of pathOf(key)) node = step(node, seg);
  return node;
}

/** Removes a field; removing a key field of a list item removes the whole item. */
function deleteAt(obj: JsonObject, key: string): void {
  const segs = pathOf(key);
  let parent: JsonValue | undefined;
  let node: JsonValue | undefined = obj;
  for (const seg of segs.slice(0, -1)) {
    parent = node;
    node = step(node, seg);
  }
  const last = segs[segs.length - 1] ?? '';
  const itemSeg = segs[segs.length - 2];
  if (itemSeg?.startsWith(ITEM) && Array.isArray(parent) && isObject(node)) {
    const keyFields = Object.keys(JSON.parse(itemSeg.slice(ITEM.length + 2)) as object);
    if (keyFields.includes(last)) {
      parent.splice(parent.indexOf(node), 1);
      return;
    }
  }
  if (isObject(node)) delete node[last];
}

/**
 * Deep merge for apply: maps merge member by member, associative lists item by item (new items appended),
 * everything else (scalars, atomic lists) replaces.
 */
export function applyMerge(live: JsonObject, applied: JsonObject, keys: ListKeys = NO_LIST_KEYS, schemaPath = ''): void {
  for (const [key, value] of Object.entries(applied)) {
    if (value === undefined) continue;
    const current = live[key];
    const path = child(schemaPath, key);
    if (isObject(value) && isObject(current)) {
      applyMerge(current, value, keys, path);
      continue;
    }
    const listKeys = keys.get(path);
    const appliedItems = keyedItems(value, listKeys);
    const liveItems = keyedItems(current, listKeys);
    if (appliedItems !== undefined && liveItems !== undefined && Array.isArray(current)) {
      for (const [k, item] of appliedItems) {
        const existing = liveItems.get(k);
        if (existing !== undefined) applyMerge(existing, item, keys, `${path}[]`);
        else current.push(item);
      }
      continue;
    }
    live[key] = value;
  }
}

export interface ApplyConflict {
  manager: string;
  apiVersion: string;
  field: string;
}

export interface ApplyPlan {
  /** Fields owned by others with a different value (empty when forced or when there is none). */
  conflicts: ApplyConflict[];
  /** The new managedFields, to be stored with the merged object. */
  managedFields: ManagedFieldsEntry[];
}

/**
 * Merges an applied configuration into `live` (mutated in place) and works out the new field ownership.
 * `live` must be a private copy. Fields this manager applied before but no longer does are removed unless
 * another manager still owns them.
 */
export function planApply(args: {
  live: JsonObject;
  applied: JsonObject;
  manager: string;
  force: boolean;
  apiVersion: string;
  /** 'status' for the status subresource, 'main' for a kind with one, 'all' for a kind without. */
  scope: 'main' | 'status' | 'all';
  now: string;
  existing: readonly ManagedFieldsEntry[];
  keys?: ListKeys;
}): ApplyPlan {
  const { live, applied, manager, force, scope } = args;
  const keys = args.keys ?? NO_LIST_KEYS;
  const sub = scope === 'status' ? 'status' : undefined;
  const appliedLeaves = managedLeaves(applied, scope, keys);
  const liveLeaves = managedLeaves(live, scope, keys);
  const conflicts: ApplyConflict[] = [];
  const taken = new Map<ManagedFieldsEntry, Set<string>>();
  let previous: ReadonlySet<string> = new Set<string>();
  const others: { entry: ManagedFieldsEntry; paths: ReadonlySet<string> }[] = [];
  for (const entry of args.existing) {
    if ((entry.subresource ?? undefined) !== sub) continue;
    const paths = fromFieldsV1(entry.fieldsV1);
    if (entry.manager === manager && entry.operation === 'Apply') previous = paths;
    else others.push({ entry, paths });
  }
  for (const [path, value] of appliedLeaves) {
    for (const { entry, paths } of others) {
      for (const owned of paths) {
        if (!overlaps(owned, path)) continue;
        const same = owned === path && deepEqual(liveLeaves.get(path), value);
        if (same) continue;
        if (force) {
          const set = taken.get(entry) ?? new Set<string>();
          set.add(owned);
          taken.set(entry, set);
        } else if (!conflicts.some((c) => c.manager === entry.manager && c.field === pathText(owned))) {
          conflicts.push({ manager: entry.manager, apiVersion: entry.apiVersion, field: pathText(owned) });
        }
      }
    }
  }
  if (conflicts.length > 0) return { conflicts, managedFields: [...args.existing] };

  // Drop what this manager stopped applying, unless someone else still owns it.
  for (const path of previous) {
    if (appliedLeaves.has(path)) continue;
    // A list item goes (through its key field) only when nobody else owns any field of it.
    const scope = itemPrefix(path) ?? path;
    const ownedElsewhere = others.some(({ entry, paths }) =>
      [...paths].some((p) => !taken.get(entry)?.has(p) && (p === scope || p.startsWith(scope + SEP))),
    );
    if (!ownedElsewhere && valueAt(live, path) !== undefined) deleteAt(live, path);
  }
  applyMerge(live, applied, keys);

  const managedFields: ManagedFieldsEntry[] = [];
  for (const entry of args.existing) {
    if (entry.manager === manager && entry.operation === 'Apply' && (entry.subresource ?? undefined) === sub) continue;
    const lost = taken.get(entry);
    if (lost === undefined) {
      managedFields.push(entry);
      continue;
    }
    const remaining = [...fromFieldsV1(entry.fieldsV1)].filter((p) => !lost.has(p));
    if (remaining.length > 0) managedFields.push({ ...entry, fieldsV1: toFieldsV1(remaining) });
  }
  const mine: ManagedFieldsEntry = {
    manager,
    operation: 'Apply',
    apiVersion: args.apiVersion,
    time: args.now,
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(appliedLeaves.keys()),
  };
  if (sub !== undefined) mine.subresource = sub;
  if (appliedLeaves.size > 0) managedFields.push(mine);
  return { conflicts, managedFields };
}

/**
 * Ownership after a non-apply write (create, update, patch): the writer takes the fields it changed, which
 * are taken away from every other manager, and removed fields leave every manager. No conflicts: a plain
 * write always wins, as on a real server.
 */
export function ownershipAfterUpdate(args: {
  before: JsonObject | undefined;
  after: JsonObject;
  manager: string;
  apiVersion: string;
  subresource: 'main' | 'status';
  scope: 'main' | 'status' | 'all';
  now: string;
  existing: readonly ManagedFieldsEntry[];
  keys?: ListKeys;
}): ManagedFieldsEntry[] {
  const keys = args.keys ?? NO_LIST_KEYS;
  const beforeLeaves = args.before ? managedLeaves(args.before, args.scope, keys) : new Map<string, JsonValue>();
  const afterLeaves = managedLeaves(args.after, args.scope, keys);
  const changed = new Set<string>();
  for (const [path, value] of afterLeaves) if (!deepEqual(beforeLeaves.get(path), value)) changed.add(path);
  const removed = new Set<string>();
  for (const path of beforeLeaves.keys()) if (!afterLeaves.has(path)) removed.add(path);
  if (changed.size === 0 && removed.size === 0) return [...args.existing];
  const sub = args.subresource === 'status' ? 'status' : undefined;
  const touchesChanged = overlapsAny(changed);
  const out: ManagedFieldsEntry[] = [];
  let mine: Set<string> | undefined;
  for (const entry of args.existing) {
    const paths = fromFieldsV1(entry.fieldsV1);
    const isMine = entry.manager === args.manager && entry.operation === 'Update' && (entry.subresource ?? undefined) === sub;
    let kept = [...paths].filter((p) => !removed.has(p) && !touchesChanged(p));
    if (isMine) {
      mine = new Set(kept);
      continue;
    }
    if (kept.length === paths.size) {
      out.push(entry);
      continue;
    }
    kept = kept.filter((p) => afterLeaves.has(p) || valueAt(args.after, p) !== undefined);
    if (kept.length > 0) out.push({ ...entry, fieldsV1: toFieldsV1(kept) });
  }
  const owned = new Set([...(mine ?? []), ...changed]);
  if (owned.size > 0) {
    const entry: ManagedFieldsEntry = {
      manager: args.manager,
      operation: 'Update',
      apiVersion: args.apiVersion,
      time: args.now,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(owned),
    };
    if (sub !== undefined) entry.subresource = sub;
    out.push(entry);
  }
  return out;
}
