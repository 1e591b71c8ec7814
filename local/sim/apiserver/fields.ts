/**
 * Field ownership for server-side apply, tracked per manager at leaf-field granularity. Lists are treated as
 * atomic leaves (the default for custom resources without `x-kubernetes-list-type`); maps are merged by key.
 * Ownership is stored in `metadata.managedFields` in the real `FieldsV1` format (`{"f:spec":{"f:replicas":{}}}`),
 * so clients that read it see what they would see on a real cluster.
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

/** A path is a list of map keys; paths are compared through `pathKey`. */
export type FieldPath = readonly string[];
const SEP = '\u0000';
export const pathKey = (p: FieldPath): string => p.join(SEP);
export const pathOf = (key: string): string[] => key.split(SEP);

/** ".spec.replicas" — the way the real server names a field in conflict messages. */
export function pathText(key: string): string {
  return pathOf(key)
    .map((seg) => (/^[A-Za-z0-9_]+$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`))
    .join('');
}

const TRACKED_METADATA = ['labels', 'annotations', 'finalizers', 'ownerReferences'] as const;

function collectLeaves(value: JsonValue | undefined, prefix: string[], out: Map<string, JsonValue>): void {
  if (value === undefined) return;
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) collectLeaves(child, [...prefix, key], out);
    return;
  }
  out.set(pathKey(prefix), value);
}

/**
 * The leaf fields of an object that field management tracks, with their values: everything but the identity
 * fields (apiVersion, kind, name, uid, ...), restricted to `status` for the status subresource and excluding it
 * for the main resource when the kind has the subresource.
 */
export function managedLeaves(obj: JsonObject, scope: 'main' | 'status' | 'all'): Map<string, JsonValue> {
  const out = new Map<string, JsonValue>();
  if (scope === 'status') {
    collectLeaves(obj.status, ['status'], out);
    return out;
  }
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'metadata') continue;
    if (key === 'status' && scope === 'main') continue;
    collectLeaves(value, [key], out);
  }
  const meta = obj.metadata;
  if (isObject(meta)) {
    for (const key of TRACKED_METADATA) collectLeaves(meta[key], ['metadata', key], out);
  }
  return out;
}

export function toFieldsV1(paths: Iterable<string>): JsonObject {
  const root: JsonObject = {};
  for (const key of paths) {
    let node = root;
    for (const seg of pathOf(key)) {
      const f = `f:${seg}`;
      let child = node[f];
      if (!isObject(child)) {
        child = {};
        node[f] = child;
      }
      node = child;
    }
  }
  return root;
}

export function fromFieldsV1(fields: JsonObject | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (node: JsonObject, prefix: string[]): void => {
    const children = Object.entries(node).filter(([k]) => k.startsWith('f:'));
    if (children.length === 0 && prefix.length > 0) out.add(pathKey(prefix));
    for (const [k, child] of children) if (isObject(child)) walk(child, [...prefix, k.slice(2)]);
  };
  if (fields) walk(fields, []);
  return out;
}

/** true when one path is the other or contains it (a map owned as a leaf vs. one of its members). */
function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(b + SEP) || b.startsWith(a + SEP);
}

function valueAt(obj: JsonValue | undefined, key: string): JsonValue | undefined {
  let node: JsonValue | undefined = obj;
  for (const seg of pathOf(key)) {
    if (!isObject(node)) return undefined;
    node = node[seg];
  }
  return node;
}

function deleteAt(obj: JsonObject, key: string): void {
  const segs = pathOf(key);
  let node: JsonValue | undefined = obj;
  for (const seg of segs.slice(0, -1)) {
    if (!isObject(node)) return;
    node = node[seg];
  }
  if (isObject(node)) delete node[segs[segs.length - 1] ?? ''];
}

/** Deep merge for apply: maps merge member by member, everything else (scalars, lists) replaces. */
export function applyMerge(live: JsonObject, applied: JsonObject): void {
  for (const [key, value] of Object.entries(applied)) {
    if (value === undefined) continue;
    const current = live[key];
    if (isObject(value) && isObject(current)) applyMerge(current, value);
    else live[key] = value;
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
}): ApplyPlan {
  const { live, applied, manager, force, scope } = args;
  const sub = scope === 'status' ? 'status' : undefined;
  const appliedLeaves = managedLeaves(applied, scope);
  const liveLeaves = managedLeaves(live, scope);
  const conflicts: ApplyConflict[] = [];
  const taken = new Map<ManagedFieldsEntry, Set<string>>();
  let previous = new Set<string>();
  const others: { entry: ManagedFieldsEntry; paths: Set<string> }[] = [];
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
    const ownedElsewhere = others.some(({ entry, paths }) => !taken.get(entry)?.has(path) && paths.has(path));
    if (!ownedElsewhere && valueAt(live, path) !== undefined) deleteAt(live, path);
  }
  applyMerge(live, applied);

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
}): ManagedFieldsEntry[] {
  const beforeLeaves = args.before ? managedLeaves(args.before, args.scope) : new Map<string, JsonValue>();
  const afterLeaves = managedLeaves(args.after, args.scope);
  const changed = new Set<string>();
  for (const [path, value] of afterLeaves) if (!deepEqual(beforeLeaves.get(path), value)) changed.add(path);
  const removed = new Set<string>();
  for (const path of beforeLeaves.keys()) if (!afterLeaves.has(path)) removed.add(path);
  if (changed.size === 0 && removed.size === 0) return [...args.existing];
  const sub = args.subresource === 'status' ? 'status' : undefined;
  const out: ManagedFieldsEntry[] = [];
  let mine: Set<string> | undefined;
  for (const entry of args.existing) {
    const paths = fromFieldsV1(entry.fieldsV1);
    const isMine = entry.manager === args.manager && entry.operation === 'Update' && (entry.subresource ?? undefined) === sub;
    let kept = [...paths].filter((p) => !removed.has(p) && ![...changed].some((c) => overlaps(c, p)));
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
