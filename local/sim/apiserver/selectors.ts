/** Label selectors (the string syntax of `?labelSelector=`) and the two field selectors every kind supports. */

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: readonly string[] }
  | { key: string; op: 'exists' | '!' };

/** A parsed selector: every requirement must hold (an empty selector matches everything). */
export type LabelSelector = readonly Requirement[];

export class SelectorError extends Error {
  override name = 'SelectorError';
}

/**
 * Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h` (also `==`). Commas inside parentheses belong to the value set,
 * so requirements are split at top-level commas only.
 */
export function parseLabelSelector(text: string | undefined): LabelSelector {
  if (text === undefined || text.trim() === '') return [];
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((raw) => parseRequirement(raw.trim(), text));
}

const setRe = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$/;
const eqRe = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/;
const keyRe = /^(!?)\s*([^\s!=(),]+)$/;

function parseRequirement(part: string, whole: string): Requirement {
  const set = setRe.exec(part);
  if (set) {
    const values = set[3]!.split(',').map((v) => v.trim());
    return { key: set[1]!, op: set[2] as 'in' | 'notin', values };
  }
  const eq = eqRe.exec(part);
  if (eq) return { key: eq[1]!, op: eq[2] === '!=' ? 'notin' : 'in', values: [eq[3]!] };
  const key = keyRe.exec(part);
  if (key) return { key: key[2]!, op: key[1] === '!' ? '!' : 'exists' };
  throw new SelectorError(`unable to parse requirement: ${JSON.stringify(part)} in selector ${JSON.stringify(whole)}`);
}

export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  for (const r of selector) {
    const value = labels?.[r.key];
    switch (r.op) {
      case 'exists':
        if (value === undefined) return false;
        break;
      case '!':
        if (value !== undefined) return false;
        break;
      case 'in':
        if (value === undefined || !r.values.includes(value)) return false;
        break;
      case 'notin':
        // `!=` and `notin` also match objects without the label, as in Kubernetes.
        if (value !== undefined && r.values.includes(value)) return false;
        break;
    }
  }
  return true;
}

/** The object form of a selector (`matchLabels` + `matchExpressions`), as CAPI objects carry it in their specs. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export function selectorFromObject(sel: LabelSelectorObject): LabelSelector {
  const out: Requirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({ key, op: 'in', values: [v] }));
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'In' || e.operator === 'NotIn') out.push({ key: e.key, op: e.operator === 'In' ? 'in' : 'notin', values: e.values ?? [] });
    else out.push({ key: e.key, op: e.operator === 'Exists' ? 'exists' : '!' });
  }
  return out;
}

/** One field-selector term: `path=value`, `path==value` or `path!=value`. */
export interface FieldRequirement {
  readonly path: string;
  readonly value: string;
  readonly negate: boolean;
}

/** A parsed field selector: every term must hold. */
export type FieldSelector = readonly FieldRequirement[];

/**
 * Parses a field selector. Every kind supports `metadata.name` and `metadata.namespace`; `extra` lists the fields
 * the kind adds (e.g. an Event's `involvedObject.uid`). Anything else is refused, as the real server does.
 */
export function parseFieldSelector(text: string | undefined, extra: readonly string[] = []): FieldSelector {
  if (text === undefined || text.trim() === '') return [];
  const out: FieldRequirement[] = [];
  for (const raw of text.split(',')) {
    const m = /^\s*([^\s!=]+)\s*(==|=|!=)\s*(\S*)\s*$/.exec(raw);
    if (!m) throw new SelectorError(`invalid field selector: ${JSON.stringify(raw)}`);
    const path = m[1]!;
    if (path !== 'metadata.name' && path !== 'metadata.namespace' && !extra.includes(path)) {
      throw new SelectorError(`field label not supported: ${path}`);
    }
    out.push({ path, value: m[3]!, negate: m[2] === '!=' });
  }
  return out;
}

function fieldValue(obj: unknown, path: string): string {
  let node: unknown = obj;
  for (const seg of path.split('.')) {
    if (typeof node !== 'object' || node === null) return '';
    node = (node as Record<string, unknown>)[seg];
  }
  return node === undefined || node === null ? '' : String(node);
}

export function matchesFields(selector: FieldSelector, obj: unknown): boolean {
  for (const r of selector) if ((fieldValue(obj, r.path) === r.value) === r.negate) return false;
  return true;
}
