/** JSON merge patch (RFC 7386) and JSON patch (RFC 6902), applied to plain JSON values. */
import { clone, deepEqual, isObject, type JsonValue } from './json.ts';

/** Thrown for a patch that cannot be applied; the caller turns it into the Status the server answers with. */
export class PatchError extends Error {
  override name = 'PatchError';
}

/** RFC 7386: objects merge recursively, `null` removes a member, anything else replaces. Returns a new value. */
export function mergePatch(target: unknown, patch: unknown): JsonValue {
  if (!isObject(patch)) return clone(patch as JsonValue);
  const out: Record<string, JsonValue> = isObject(target) ? (clone(target) as Record<string, JsonValue>) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (value !== undefined) out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** A patch document that is not a valid patch at all (not an array, an operation without op/path, …). */
export class PatchDecodeError extends PatchError {
  override name = 'PatchDecodeError';
}

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

type Container = Record<string, JsonValue> | JsonValue[];

/** Resolves the parent container of the last token; throws if any step is missing. */
function parentOf(doc: JsonValue, tokens: string[], pointer: string): { parent: Container; key: string } {
  let node: JsonValue = doc;
  for (const token of tokens.slice(0, -1)) {
    const next: JsonValue | undefined = Array.isArray(node) ? node[arrayIndex(token, node.length - 1, pointer)] : isObject(node) ? node[token] : undefined;
    if (next === undefined || next === null || typeof next !== 'object') throw new PatchError(`path "${pointer}" does not exist`);
    node = next;
  }
  if (node === null || typeof node !== 'object') throw new PatchError(`path "${pointer}" does not exist`);
  return { parent: node as Container, key: tokens[tokens.length - 1] ?? '' };
}

function arrayIndex(token: string, max: number, pointer: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`invalid array index "${token}" in "${pointer}"`);
  const i = Number(token);
  if (i > max) throw new PatchError(`array index ${i} out of bounds in "${pointer}"`);
  return i;
}

function getAt(doc: JsonValue, pointer: string): JsonValue {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, key } = parentOf(doc, tokens, pointer);
  const value = Array.isArray(parent) ? parent[arrayIndex(key, parent.length - 1, pointer)] : parent[key];
  if (value === undefined) throw new PatchError(`path "${pointer}" does not exist`);
  return value;
}

function removeAt(doc: JsonValue, pointer: string): JsonValue {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const [removed] = parent.splice(arrayIndex(key, parent.length - 1, pointer), 1);
    return removed as JsonValue;
  }
  const value = parent[key];
  if (value === undefined) throw new PatchError(`path "${pointer}" does not exist`);
  delete parent[key];
  return value;
}

function addAt(doc: JsonValue, pointer: string, value: JsonValue, replace: boolean): JsonValue {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    if (replace) parent[arrayIndex(key, parent.length - 1, pointer)] = value;
    else if (key === '-') parent.push(value);
    else parent.splice(arrayIndex(key, parent.length, pointer), 0, value);
  } else {
    if (replace && parent[key] === undefined) throw new PatchError(`path "${pointer}" does not exist`);
    parent[key] = value;
  }
  return doc;
}

/** RFC 6902, all-or-nothing: works on a copy and returns it. */
export function jsonPatch(target: unknown, ops: unknown): JsonValue {
  if (!Array.isArray(ops)) throw new PatchDecodeError('a JSON patch must be an array of operations');
  let doc = clone(target as JsonValue);
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new PatchDecodeError('each JSON patch operation needs "op" and "path"');
    }
    const op = raw as unknown as JsonPatchOperation;
    const from = (): string => {
      if (typeof op.from !== 'string') throw new PatchError(`operation "${op.op}" needs "from"`);
      return op.from;
    };
    const value = (): JsonValue => {
      if (!('value' in raw)) throw new PatchError(`operation "${op.op}" needs "value"`);
      return clone(raw.value as JsonValue);
    };
    switch (op.op) {
      case 'add':
        doc = addAt(doc, op.path, value(), false);
        break;
      case 'replace':
        doc = addAt(doc, op.path, value(), true);
        break;
      case 'remove':
        removeAt(doc, op.path);
        break;
      case 'move': {
        const moved = removeAt(doc, from());
        doc = addAt(doc, op.path, moved, false);
        break;
      }
      case 'copy':
        doc = addAt(doc, op.path, clone(getAt(doc, from())), false);
        break;
      case 'test':
        if (!deepEqual(getAt(doc, op.path), value())) throw new PatchError(`test failed at "${op.path}"`);
        break;
      default:
        throw new PatchDecodeError(`unknown JSON patch operation "${String(op.op)}"`);
    }
  }
  return doc;
}

/** Associative lists: schema path (items written `[]`) → merge-key fields (the kinds' `listKeys`). */
export type MergeKeys = ReadonlyMap<string, readonly string[]>;

const childPath = (schemaPath: string, key: string): string => (schemaPath === '' ? key : `${schemaPath}.${key}`);

function sameItem(a: JsonValue | undefined, b: Record<string, unknown>, keys: readonly string[]): boolean {
  return isObject(a) && keys.every((k) => a[k] === b[k]);
}

function withoutDirectives(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(withoutDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, JsonValue> = {};
  for (const [k, val] of Object.entries(v)) if (!k.startsWith('$') && val !== undefined) out[k] = withoutDirectives(val);
  return out;
}

/**
 * Strategic merge patch, the subset clients send: maps merge, `null` deletes, lists with a merge key merge item
 * by item (`$patch: delete` on an item removes it), other lists replace, `$patch: replace` on a map replaces it.
 * Other directives (`$retainKeys`, `$setElementOrder`, `$deleteFromPrimitiveList`) are ignored.
 */
export function strategicMergePatch(target: unknown, patch: unknown, keys: MergeKeys, schemaPath = ''): JsonValue {
  if (!isObject(patch)) return withoutDirectives(clone(patch as JsonValue));
  if (patch.$patch === 'replace') return withoutDirectives(clone(patch));
  if (patch.$patch === 'delete') return {};
  const out: Record<string, JsonValue> = isObject(target) ? (clone(target) as Record<string, JsonValue>) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$') || value === undefined) continue;
    if (value === null) {
      delete out[key];
      continue;
    }
    const path = childPath(schemaPath, key);
    const mergeKeys = keys.get(path);
    const current = out[key];
    if (mergeKeys !== undefined && Array.isArray(value) && Array.isArray(current)) {
      const merged = [...current];
      for (const item of value) {
        if (!isObject(item) || !mergeKeys.every((k) => item[k] !== undefined)) {
          merged.push(withoutDirectives(clone(item)));
          continue;
        }
        const at = merged.findIndex((m) => sameItem(m, item, mergeKeys));
        if (item.$patch === 'delete') {
          if (at >= 0) merged.splice(at, 1);
        } else if (at >= 0) merged[at] = strategicMergePatch(merged[at], item, keys, `${path}[]`);
        else merged.push(withoutDirectives(clone(item)));
      }
      out[key] = merged;
    } else out[key] = strategicMergePatch(current, value, keys, path);
  }
  return out;
}
