/**
 * Variable substitution in components files, with the semantics clusterctl gives them (its simple YAML
 * processor runs the drone/envsubst dialect over the whole file text before parsing it):
 *
 * - `${NAME}` — the value; `${ NAME }` (blanks inside) is accepted as the same thing.
 * - `${NAME:=word}`, `${NAME:-word}`, `${NAME=word}` (and `:?`, `:+`, which the dialect treats alike) — the
 *   value, or `word` when the value is empty or unset; `word` may contain `${OTHER}`.
 * - `${NAME/pattern/repl}`, `//` (all), `/#` (prefix), `/%` (suffix) — literal replacement (CAPA's
 *   ServiceAccount annotation uses `/#`); `${NAME^}`, `^^`, `,`, `,,` — case; `${#NAME}` — length.
 * - `$$` is a literal `$`. Substring and pattern-trimming forms are refused as invalid (no provider uses them).
 * - A variable is missing when it has no value and its *first* use carries no argument text (no default):
 *   clusterctl decides on the first use, so a later bare `${NAME}` of a defaulted name becomes empty. Every
 *   missing name is reported at once.
 */
import { ProviderComponentsInvalidError, ProviderVariablesMissingError } from './errors.ts';

type Node = { kind: 'text'; text: string } | { kind: 'var'; name: string; op: string; args: Node[][] };

export interface TemplateVariable {
  name: string;
  /** Whether its first use has a default (argument text), as clusterctl counts it. */
  hasDefault: boolean;
}

/** The variables a file uses, in order of first use. */
export function templateVariables(text: string, source = 'components'): TemplateVariable[] {
  const seen = new Map<string, boolean>();
  for (const node of parse(normalizeBlanks(text), source)) {
    if (node.kind === 'var' && !seen.has(node.name)) seen.set(node.name, node.args.some((arg) => arg.length > 0));
  }
  return [...seen].map(([name, hasDefault]) => ({ name, hasDefault }));
}

/**
 * Substitutes every `${…}` of `text`. Throws ProviderVariablesMissingError listing every variable without a
 * value or default, ProviderComponentsInvalidError for a malformed or unsupported expression.
 */
export function substituteVariables(text: string, values: Readonly<Record<string, string>>, source = 'components'): string {
  const nodes = parse(normalizeBlanks(text), source);
  const missing = new Set<string>();
  const decided = new Set<string>();
  for (const node of nodes) {
    if (node.kind !== 'var' || decided.has(node.name)) continue;
    decided.add(node.name);
    if (values[node.name] === undefined && !node.args.some((arg) => arg.length > 0)) missing.add(node.name);
  }
  if (missing.size > 0) throw new ProviderVariablesMissingError(source, [...missing].sort());
  return render(nodes, values);
}

// ── evaluation ───────────────────────────────────────────────────────────────────────────────────────────

function render(nodes: readonly Node[], values: Readonly<Record<string, string>>): string {
  let out = '';
  for (const node of nodes) out += node.kind === 'text' ? node.text : evaluate(node, values);
  return out;
}

function evaluate(node: Extract<Node, { kind: 'var' }>, values: Readonly<Record<string, string>>): string {
  const value = values[node.name] ?? '';
  const args = node.args.map((arg) => render(arg, values));
  const [first = '', second = ''] = args;
  switch (node.op) {
    case '':
      return value;
    case '#len':
      return String([...value].length);
    case '^':
      return value.charAt(0).toUpperCase() + value.slice(1);
    case '^^':
      return value.toUpperCase();
    case ',':
      return value.charAt(0).toLowerCase() + value.slice(1);
    case ',,':
      return value.toLowerCase();
    case '/':
      return value.replace(first, () => second);
    case '//':
      return value.replaceAll(first, () => second);
    case '/#':
      return value.startsWith(first) ? second + value.slice(first.length) : value;
    case '/%':
      return value.endsWith(first) ? value.slice(0, value.length - first.length) + second : value;
    default:
      // := :- = :? :+ all mean "default when empty" in this dialect.
      return value !== '' ? value : args.join('');
  }
}

// ── parsing ──────────────────────────────────────────────────────────────────────────────────────────────

/** clusterctl's compatibility rewrite: `${ NAME }`, `${ NAME}`, `${NAME }` → `${NAME}`. */
function normalizeBlanks(text: string): string {
  return text.replace(/\$\{(\s*)([A-Za-z0-9_$]+)(\s*)\}/g, (whole, before: string, name: string, after: string) =>
    before === '' && after === '' ? whole : `\${${name}}`,
  );
}

const NAME_CHAR = /[\p{L}\p{N}_]/u;
const DEFAULT_OPS = [':=', ':-', ':?', ':+', '='];
const REPLACE_OPS = ['//', '/#', '/%', '/'];
const CASE_OPS = ['^^', ',,', '^', ','];

class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly source: string,
  ) {}

  /** Top level: text with `$$` escapes and `${…}` expressions. */
  document(): Node[] {
    const out: Node[] = [];
    let text = '';
    while (this.pos < this.text.length) {
      if (this.startsWith('$$')) {
        text += '$';
        this.pos += 2;
      } else if (this.startsWith('${')) {
        if (text !== '') out.push({ kind: 'text', text });
        text = '';
        out.push(this.expression());
      } else {
        text += this.text[this.pos];
        this.pos++;
      }
    }
    if (text !== '') out.push({ kind: 'text', text });
    return out;
  }

  /** `${` … `}` starting at pos. */
  private expression(): Extract<Node, { kind: 'var' }> {
    const start = this.pos;
    this.pos += 2;
    if (this.text[this.pos] === '#') {
      this.pos++;
      const name = this.name(start);
      this.expect('}', start);
      return { kind: 'var', name, op: '#len', args: [] };
    }
    const name = this.name(start);
    if (this.text[this.pos] === '}') {
      this.pos++;
      return { kind: 'var', name, op: '', args: [] };
    }
    const op = DEFAULT_OPS.find((o) => this.startsWith(o));
    if (op !== undefined) {
      this.pos += op.length;
      return { kind: 'var', name, op, args: [this.argument(start, '}', false)].filter((a) => a.length > 0) };
    }
    const replace = REPLACE_OPS.find((o) => this.startsWith(o));
    if (replace !== undefined) {
      this.pos += replace.length;
      const pattern = this.argument(start, '/', true);
      this.expect('/', start);
      const replacement = this.argument(start, '}', true);
      return { kind: 'var', name, op: replace, args: [pattern, replacement] };
    }
    const casing = CASE_OPS.find((o) => this.startsWith(o));
    if (casing !== undefined) {
      this.pos += casing.length;
      this.expect('}', start);
      return { kind: 'var', name, op: casing, args: [] };
    }
    const c = this.text[this.pos];
    if (c === undefined) throw this.invalid(start, 'missing closing brace');
    if (c === ':' || c === '#' || c === '%') throw this.invalid(start, 'substring and pattern-trimming substitutions are not supported');
    throw this.invalid(start, `unexpected "${c}"`);
  }

  /** Argument text up to (not including) `stop`, with nested `${…}`; escapes only where the dialect has them. */
  private argument(start: number, stop: '}' | '/', escapes: boolean): Node[] {
    const out: Node[] = [];
    let text = '';
    for (;;) {
      if (this.pos >= this.text.length) throw this.invalid(start, 'missing closing brace');
      const c = this.text[this.pos];
      if (escapes && (this.startsWith('\\/') || this.startsWith('\\\\') || this.startsWith('$$'))) {
        text += this.text[this.pos + 1];
        this.pos += 2;
      } else if (this.startsWith('${')) {
        if (text !== '') out.push({ kind: 'text', text });
        text = '';
        out.push(this.expression());
      } else if (c === stop || c === '}') {
        if (c !== stop) throw this.invalid(start, 'incomplete replacement');
        // The stop character is consumed: by the caller for '/', here for '}'.
        if (stop === '}') this.pos++;
        if (text !== '') out.push({ kind: 'text', text });
        return out;
      } else {
        text += c;
        this.pos++;
      }
    }
  }

  private name(start: number): string {
    const from = this.pos;
    while (this.pos < this.text.length && NAME_CHAR.test(this.text[this.pos] ?? '')) this.pos++;
    if (this.pos === from) throw this.invalid(start, 'no variable name');
    return this.text.slice(from, this.pos);
  }

  private expect(c: string, start: number): void {
    if (this.text[this.pos] !== c) throw this.invalid(start, c === '}' ? 'missing closing brace' : `expected "${c}"`);
    this.pos++;
  }

  private startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  private invalid(start: number, why: string): ProviderComponentsInvalidError {
    const line = this.text.slice(0, start).split('\n').length;
    const excerpt = this.text.slice(start, Math.min(this.text.length, start + 60)).split('\n')[0];
    return new ProviderComponentsInvalidError(`${this.source} line ${line}: ${why}: ${excerpt}`);
  }
}

function parse(text: string, source: string): Node[] {
  return new Parser(text, source).document();
}
