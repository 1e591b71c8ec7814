/**
 * Names, hashes and randomness of the simulated controllers. Random suffixes follow apimachinery's
 * SimpleNameGenerator (5 characters from an alphabet without vowels, so generated names never spell words);
 * the generator is seedable so a run can be replayed.
 */

const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** mulberry32: tiny, fast, good enough for names and ids (not for secrets). */
export class Rng {
  #state: number;
  constructor(seed: number = Date.now()) {
    this.#state = seed >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  suffix(length = 5): string {
    let out = '';
    for (let i = 0; i < length; i++) out += SUFFIX_ALPHABET[Math.floor(this.next() * SUFFIX_ALPHABET.length)];
    return out;
  }
  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += Math.floor(this.next() * 16).toString(16);
    return out;
  }
}

/** Kubernetes names are at most 63 characters for labels, 253 for objects; CAPI keeps generated names ≤ 63. */
export function generateName(rng: Rng, prefix: string): string {
  const base = prefix.length > 57 ? prefix.slice(0, 57) : prefix;
  return `${base}${rng.suffix()}`;
}

/** FNV-1a over a canonical JSON: a stable short hash, as MachineSet names carry their template's hash. */
export function shortHash(value: unknown, length = 10): string {
  const text = canonicalJson(value);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  let out = '';
  for (const h of [h1, h2]) {
    let v = h;
    for (let i = 0; i < 6; i++) {
      out += SUFFIX_ALPHABET[v % SUFFIX_ALPHABET.length];
      v = Math.floor(v / SUFFIX_ALPHABET.length);
    }
  }
  return out.slice(0, length);
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The virtual cluster that serves a workload cluster's API: unique per (namespace, name) of its Cluster. */
export function workloadClusterName(namespace: string, cluster: string): string {
  return `${namespace}--${cluster}`;
}

/** Identity of a Cluster that survives a move (uids change, namespace/name do not). */
export function clusterKey(namespace: string, cluster: string): string {
  return `${namespace}/${cluster}`;
}

/** Identity of a Machine that survives a move. */
export function machineKey(namespace: string, cluster: string, machine: string): string {
  return `${namespace}/${cluster}/${machine}`;
}

/** `v1.31.4` → [1, 31, 4]; undefined when not a Kubernetes semver. */
export function parseVersion(version: string | undefined): [number, number, number] | undefined {
  const m = /^v(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version ?? '');
  if (m === null) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (pa === undefined || pb === undefined) return a < b ? -1 : a > b ? 1 : 0;
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
