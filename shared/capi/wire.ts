/**
 * Plain JSON (the wire form) ⇄ client-node's models, at the KubeClient boundary.
 *
 * `KubernetesObjectApi` (de)serialises built-in kinds through generated models whose attribute names differ
 * from the JSON field names in a few places — CRD schemas (`x-kubernetes-*`, `$ref`, `default`, `enum`),
 * NetworkPolicy `from`, LimitRange `default`. Plain JSON handed to it silently loses those fields (a CRD
 * applied that way loses `x-kubernetes-preserve-unknown-fields`), and objects read back carry the model names.
 * Slipway works in wire JSON only; these two functions convert where client-node is called.
 *
 * The serializer is not part of client-node's index: the deep imports are intended (the package has no
 * `exports` map) and fail at compile time if a release moves them.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { getSerializationType } from '@kubernetes/client-node/dist/util.js';
import type { KubeObject } from './types.ts';

/** Wire JSON → what client-node's serializer expects (model attribute names for built-in kinds). */
export function toModel(obj: KubeObject): KubernetesObject {
  return ObjectSerializer.deserialize(obj, getSerializationType(obj.apiVersion, obj.kind)) as KubernetesObject;
}

/**
 * A client-node model (or anything it returned) → wire JSON: field names as the API server writes them,
 * timestamps as RFC 3339 strings, no class instances.
 */
export function fromModel<T>(value: { apiVersion?: string; kind?: string }): T {
  const serialized: unknown = ObjectSerializer.serialize(value, getSerializationType(value.apiVersion, value.kind));
  return jsonCopy(serialized, '') as T;
}

/**
 * `JSON.parse(JSON.stringify(value))` without the text in between (every answer of every request goes
 * through here): `toJSON` honoured (dates), undefined / functions / symbols dropped from objects and null in
 * arrays, non-finite numbers null, class instances reduced to their own enumerable properties.
 */
function jsonCopy(value: unknown, key: string): unknown {
  let v = value;
  if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON(k: string): unknown }).toJSON(key);
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object': {
      if (v === null) return null;
      if (Array.isArray(v)) {
        const out: unknown[] = new Array(v.length);
        for (let i = 0; i < v.length; i++) out[i] = jsonCopy(v[i], String(i)) ?? null;
        return out;
      }
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        const c = jsonCopy((v as Record<string, unknown>)[k], k);
        if (c !== undefined) out[k] = c;
      }
      return out;
    }
    default:
      return undefined;
  }
}
