/**
 * The local EventBridge: named buses, rules with the very patterns the CDK stack deploys
 * (shared/events/patterns.ts), asynchronous at-least-once delivery with retries and a dead-letter list, and a
 * bounded history the local API and tests read.
 *
 * Fidelity is the point: a pattern that matches here must match in AWS and the reverse, so the matcher
 * implements EventBridge's content filtering (as documented, and as aws/event-ruler behaves where the docs are
 * silent): leaf lists are ORs, fields are ANDs, event arrays match when any element matches, objects inside
 * arrays match element by element, `exists: false` means "no such leaf anywhere at that path". PutEvents
 * keeps AWS's limits and per-entry errors too, so code that works here does not break on the real service.
 */
import { randomUUID } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { PutEventsRequestEntry, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import type { EventPattern } from '../shared/events/patterns.ts';
import {
  batchEntries,
  type EntryFailure,
  type EventPublisher,
  EventPublishError,
  entrySize,
  MAX_ENTRIES_PER_REQUEST,
  MAX_ENTRY_BYTES,
  toPutEventsEntry,
} from '../shared/events/publisher.ts';
import type { SlipwayEvent } from '../shared/events/schemas.ts';
import type { Logger } from '../shared/log.ts';

// ---------- envelopes ----------

/** What EventBridge delivers to a target. */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** RFC 3339, second precision, as EventBridge writes it. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export const DEFAULT_BUS = 'default';
/** The Slipway bus's name locally (in AWS it is configured: SLIPWAY_EVENT_BUS_NAME). */
export const LOCAL_SLIPWAY_BUS = 'slipway';

// ---------- pattern validation ----------

/** The pattern would be refused by EventBridge's PutRule. */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';
}

type Scalar = string | number | boolean | null;
type Node = Record<string, unknown>;

const FILTER_KEYS: ReadonlySet<string> = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'exists', 'cidr']);

const isPlainObject = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar => v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/** `$or` is an OR only as EventBridge reads it: a list of at least two patterns; otherwise it is a field name. */
function isOrList(value: unknown): value is Node[] {
  return (
    Array.isArray(value) && value.length >= 2 && value.every((p) => isPlainObject(p) && !Object.keys(p).some((k) => FILTER_KEYS.has(k)))
  );
}

/** Throws InvalidEventPatternError, with the path of the offending part, unless EventBridge would accept it. */
export function validatePattern(pattern: unknown): asserts pattern is EventPattern {
  validateObject(pattern, '');
}

function validateObject(node: unknown, path: string): void {
  const at = path || '(root)';
  if (!isPlainObject(node)) throw new InvalidEventPatternError(`${at}: a pattern must be a JSON object`);
  const keys = Object.keys(node);
  if (keys.length === 0) throw new InvalidEventPatternError(`${at}: empty objects are not allowed`);
  for (const key of keys) {
    const value = node[key];
    const here = path ? `${path}.${key}` : key;
    if (key === '$or' && isOrList(value)) {
      for (const [i, alternative] of value.entries()) validateObject(alternative, `${here}[${i}]`);
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new InvalidEventPatternError(`${here}: empty arrays are not allowed`);
      for (const item of value) validateLeaf(item, here);
    } else if (isPlainObject(value)) {
      validateObject(value, here);
    } else {
      throw new InvalidEventPatternError(`${here}: must be an array of values or a nested pattern object`);
    }
  }
}

function validateLeaf(item: unknown, path: string): void {
  if (isScalar(item)) return;
  if (!isPlainObject(item)) throw new InvalidEventPatternError(`${path}: values must be strings, numbers, booleans, null or filters`);
  const keys = Object.keys(item);
  const [op] = keys;
  if (keys.length !== 1 || op === undefined || !FILTER_KEYS.has(op)) {
    throw new InvalidEventPatternError(`${path}: a filter has exactly one of ${[...FILTER_KEYS].join(', ')}`);
  }
  const arg = item[op];
  const invalid = (why: string) => new InvalidEventPatternError(`${path}: "${op}" ${why}`);
  switch (op) {
    case 'prefix':
    case 'suffix':
      if (typeof arg === 'string') return;
      if (isPlainObject(arg) && Object.keys(arg).length === 1 && typeof arg['equals-ignore-case'] === 'string') return;
      throw invalid('takes a string or {"equals-ignore-case": string}');
    case 'equals-ignore-case':
      if (typeof arg !== 'string') throw invalid('takes a string');
      return;
    case 'wildcard':
      if (typeof arg !== 'string') throw invalid('takes a string');
      validateWildcard(arg, path);
      return;
    case 'exists':
      if (typeof arg !== 'boolean') throw invalid('takes true or false');
      return;
    case 'cidr':
      if (typeof arg !== 'string' || parseCidr(arg) === undefined) throw invalid('takes an IPv4 or IPv6 CIDR such as 10.0.0.0/24');
      return;
    case 'numeric':
      parseNumeric(arg, path);
      return;
    case 'anything-but':
      validateAnythingBut(arg, path);
      return;
  }
}

function validateAnythingBut(arg: unknown, path: string): void {
  const invalid = (why: string) => new InvalidEventPatternError(`${path}: "anything-but" ${why}`);
  if (typeof arg === 'string' || (typeof arg === 'number' && Number.isFinite(arg))) return;
  if (Array.isArray(arg)) {
    if (arg.length === 0) throw invalid('needs at least one value');
    if (!arg.every((v) => typeof v === 'string') && !arg.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw invalid('lists must hold only strings or only numbers');
    }
    return;
  }
  if (!isPlainObject(arg) || Object.keys(arg).length !== 1) throw invalid('takes a value, a list, or one of prefix, suffix, equals-ignore-case, wildcard');
  const [[key, value]] = Object.entries(arg) as [[string, unknown]];
  const stringOrList = typeof value === 'string' || (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string'));
  if ((key === 'prefix' || key === 'suffix') && typeof value === 'string') return;
  if (key === 'equals-ignore-case' && stringOrList) return;
  if (key === 'wildcard' && stringOrList) {
    for (const w of typeof value === 'string' ? [value] : (value as string[])) validateWildcard(w, path);
    return;
  }
  throw invalid(`cannot take {"${key}": ${JSON.stringify(value)}}`);
}

function validateWildcard(pattern: string, path: string): void {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') throw new InvalidEventPatternError(`${path}: "wildcard" may only escape "*" or "\\"`);
      i++;
    } else if (c === '*' && pattern[i + 1] === '*') {
      throw new InvalidEventPatternError(`${path}: "wildcard" does not allow consecutive "*"`);
    }
  }
}

type Bound = { op: '>' | '>=' | '<' | '<=' | '='; value: number };

function parseNumeric(arg: unknown, path: string): Bound[] {
  const invalid = () => new InvalidEventPatternError(`${path}: "numeric" takes ["=", n], [op, n] or [">"|">=", low, "<"|"<=", high]`);
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) throw invalid();
  const bounds: Bound[] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op: unknown = arg[i];
    const value: unknown = arg[i + 1];
    if ((op !== '>' && op !== '>=' && op !== '<' && op !== '<=' && op !== '=') || typeof value !== 'number' || !Number.isFinite(value)) {
      throw invalid();
    }
    bounds.push({ op, value });
  }
  if (bounds.length === 2) {
    const [low, high] = bounds as [Bound, Bound];
    if (!(low.op === '>' || low.op === '>=') || !(high.op === '<' || high.op === '<=') || low.value >= high.value) throw invalid();
  }
  return bounds;
}

function parseCidr(cidr: string): BlockList | undefined {
  const m = /^(.+)\/(\d{1,3})$/.exec(cidr);
  if (!m) return undefined;
  const [, address = '', prefixText = ''] = m;
  const family = isIP(address);
  const prefix = Number(prefixText);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  const list = new BlockList();
  list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return list;
}

// ---------- matching ----------

/**
 * Whether EventBridge would deliver `event` to a rule with `pattern`. The pattern is assumed valid (rules are
 * validated when added); call validatePattern first for patterns from elsewhere.
 */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  const root = isPlainObject(event) ? event : undefined;
  return matchObject(pattern as Node, root, root === undefined ? [] : [root]);
}

/**
 * `node` is where the pattern applies; `peers` are all the objects at the same path across array elements,
 * which `exists: false` consults because EventBridge flattens arrays before checking for absence.
 */
function matchObject(pattern: Node, node: Node | undefined, peers: readonly Node[]): boolean {
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === '$or' && isOrList(sub)) {
      if (!sub.some((alternative) => matchObject(alternative, node, peers))) return false;
    } else if (Array.isArray(sub)) {
      if (!matchLeaf(sub, node, key, peers)) return false;
    } else if (isPlainObject(sub)) {
      const childPeers = peers.flatMap((p) => objectsOf(field(p, key)));
      const candidates = node === undefined ? [] : objectsOf(field(node, key));
      // Objects in arrays match one element at a time, so two fields can never be satisfied by different elements.
      const ok = candidates.length === 0 ? matchObject(sub, undefined, childPeers) : candidates.some((c) => matchObject(sub, c, childPeers));
      if (!ok) return false;
    } else {
      return false;
    }
  }
  return true;
}

function matchLeaf(conditions: readonly unknown[], node: Node | undefined, key: string, peers: readonly Node[]): boolean {
  const values = node === undefined ? [] : leavesOf(field(node, key));
  for (const condition of conditions) {
    if (isPlainObject(condition) && typeof condition.exists === 'boolean') {
      const present = condition.exists ? values.length > 0 : peers.some((p) => leavesOf(field(p, key)).length > 0);
      if (condition.exists === present) return true;
    } else if (values.some((v) => matchValue(condition, v))) {
      return true;
    }
  }
  return false;
}

function field(node: Node, key: string): unknown {
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

/** Leaf values at a field: arrays (of arrays) are flattened, objects are not leaves. */
function leavesOf(value: unknown): Scalar[] {
  if (Array.isArray(value)) return value.flatMap(leavesOf);
  return isScalar(value) ? [value] : [];
}

function objectsOf(value: unknown): Node[] {
  if (Array.isArray(value)) return value.flatMap(objectsOf);
  return isPlainObject(value) ? [value] : [];
}

const lower = (s: string): string => s.toLowerCase();

function matchValue(condition: unknown, value: Scalar): boolean {
  if (!isPlainObject(condition)) return condition === value;
  const [op] = Object.keys(condition);
  const arg = op === undefined ? undefined : condition[op];
  const text = typeof value === 'string' ? value : undefined;
  switch (op) {
    case 'prefix':
      return text !== undefined && affix(text, arg, (s, a) => s.startsWith(a));
    case 'suffix':
      return text !== undefined && affix(text, arg, (s, a) => s.endsWith(a));
    case 'equals-ignore-case':
      return text !== undefined && typeof arg === 'string' && lower(text) === lower(arg);
    case 'wildcard':
      return text !== undefined && typeof arg === 'string' && wildcardRegExp(arg).test(text);
    case 'numeric':
      return typeof value === 'number' && parseNumeric(arg, '').every((b) => compare(value, b));
    case 'cidr':
      return text !== undefined && cidrContains(arg as string, text);
    case 'anything-but':
      return anythingBut(arg, value);
    default:
      return false;
  }
}

function affix(text: string, arg: unknown, test: (s: string, a: string) => boolean): boolean {
  if (typeof arg === 'string') return test(text, arg);
  const ignoreCase = isPlainObject(arg) ? arg['equals-ignore-case'] : undefined;
  return typeof ignoreCase === 'string' && test(lower(text), lower(ignoreCase));
}

function anythingBut(arg: unknown, value: Scalar): boolean {
  if (!isPlainObject(arg)) return !(Array.isArray(arg) ? arg : [arg]).includes(value);
  // The filtered forms only apply to strings: a number is never "not prefixed by" anything.
  if (typeof value !== 'string') return false;
  const [[key, operand]] = Object.entries(arg) as [[string, unknown]];
  const operands = (Array.isArray(operand) ? operand : [operand]) as string[];
  switch (key) {
    case 'prefix':
      return !operands.some((o) => value.startsWith(o));
    case 'suffix':
      return !operands.some((o) => value.endsWith(o));
    case 'equals-ignore-case':
      return !operands.some((o) => lower(o) === lower(value));
    case 'wildcard':
      return !operands.some((o) => wildcardRegExp(o).test(value));
    default:
      return false;
  }
}

function compare(value: number, bound: Bound): boolean {
  switch (bound.op) {
    case '=':
      return value === bound.value;
    case '>':
      return value > bound.value;
    case '>=':
      return value >= bound.value;
    case '<':
      return value < bound.value;
    case '<=':
      return value <= bound.value;
  }
}

const wildcards = new Map<string, RegExp>();
function wildcardRegExp(pattern: string): RegExp {
  let re = wildcards.get(pattern);
  if (re === undefined) {
    let source = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i] as string;
      if (c === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i] as string);
      else if (c === '*') source += '.*';
      else source += escapeRegExp(c);
    }
    re = new RegExp(`^${source}$`, 's');
    wildcards.set(pattern, re);
  }
  return re;
}

const escapeRegExp = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

const cidrs = new Map<string, BlockList | undefined>();
function cidrContains(cidr: string, address: string): boolean {
  if (!cidrs.has(cidr)) cidrs.set(cidr, parseCidr(cidr));
  const list = cidrs.get(cidr);
  const family = isIP(address);
  return list !== undefined && family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

// ---------- the bus ----------

export type RuleTarget = (event: EventEnvelope) => unknown;

export interface RuleDefinition {
  name: string;
  /** Defaults to the Slipway bus. */
  bus?: string;
  pattern: EventPattern;
  /** Awaited; a throw (or rejection) is retried, then the event goes to the dead-letter list. */
  target: RuleTarget;
}

export interface RuleInfo {
  name: string;
  bus: string;
  pattern: EventPattern;
}

/** An event a bus accepted, and the rules it matched. */
export interface BusRecord {
  bus: string;
  event: EventEnvelope;
  rules: string[];
}

/** A delivery that failed every attempt, as EventBridge would send it to a rule's dead-letter queue. */
export interface DeadLetter {
  rule: string;
  bus: string;
  event: EventEnvelope;
  attempts: number;
  error: { name: string; message: string };
}

export interface HistoryFilter {
  bus?: string;
  source?: string;
  detailType?: string;
  /** Only events this pattern matches. */
  pattern?: EventPattern;
}

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

/** What AWS answers with ValidationException: a request over 10 entries or 256 KiB. */
export class PutEventsValidationError extends Error {
  override readonly name = 'PutEventsValidationError';
}

export class UnknownEventBusError extends Error {
  override readonly name = 'UnknownEventBusError';
}

export class RuleAlreadyExistsError extends Error {
  override readonly name = 'RuleAlreadyExistsError';
}

export interface LocalEventBusOptions {
  /** Buses that exist from the start (default `default` and `slipway`); more with createBus. */
  buses?: readonly string[];
  /** The bus `publish` puts on (default `slipway`). */
  slipwayBus?: string;
  account?: string;
  region?: string;
  /** Accepted events kept for inspection, oldest dropped first (default 1000). */
  historyLimit?: number;
  /** Deliveries of one event to one rule in all (default 3). */
  maxAttempts?: number;
  /** Wait before the first redelivery, doubled each time (default 10 ms). */
  retryDelayMs?: number;
  clock?: () => Date;
  logger?: Logger;
}

interface Rule extends RuleInfo {
  target: RuleTarget;
}

const BUS_ARN = /^arn:aws[\w-]*:events:[^:]*:\d{12}:event-bus\/(.+)$/;

export class LocalEventBus implements EventPublisher {
  private readonly buses = new Map<string, Map<string, Rule>>();
  private readonly records: BusRecord[] = [];
  private readonly dead: DeadLetter[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly slipwayBus: string;
  private readonly account: string;
  private readonly region: string;
  private readonly historyLimit: number;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly clock: () => Date;
  private readonly logger: Logger | undefined;
  private injected: { remaining: number; errorCode: string } | undefined;

  constructor(options: LocalEventBusOptions = {}) {
    this.slipwayBus = options.slipwayBus ?? LOCAL_SLIPWAY_BUS;
    for (const bus of options.buses ?? [DEFAULT_BUS, this.slipwayBus]) this.createBus(bus);
    this.createBus(this.slipwayBus);
    this.account = options.account ?? '000000000000';
    this.region = options.region ?? 'us-east-1';
    this.historyLimit = options.historyLimit ?? 1000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.retryDelayMs = options.retryDelayMs ?? 10;
    this.clock = options.clock ?? (() => new Date());
    this.logger = options.logger;
  }

  createBus(name: string): void {
    if (!this.buses.has(name)) this.buses.set(name, new Map());
  }

  hasBus(name: string): boolean {
    return this.buses.has(name);
  }

  /** Validates the pattern like PutRule. Names are unique per bus. */
  addRule(definition: RuleDefinition): void {
    const bus = definition.bus ?? this.slipwayBus;
    const rules = this.rulesOf(bus);
    if (rules.has(definition.name)) throw new RuleAlreadyExistsError(`rule ${definition.name} already exists on bus ${bus}`);
    validatePattern(definition.pattern);
    rules.set(definition.name, { name: definition.name, bus, pattern: definition.pattern, target: definition.target });
  }

  removeRule(name: string, bus: string = this.slipwayBus): boolean {
    return this.rulesOf(bus).delete(name);
  }

  rules(bus?: string): RuleInfo[] {
    const buses = bus === undefined ? [...this.buses.keys()] : [bus];
    return buses.flatMap((b) => [...this.rulesOf(b).values()].map(({ name, bus: on, pattern }) => ({ name, bus: on, pattern })));
  }

  /** EventPublisher: PutEvents on the Slipway bus, in AWS-sized batches; failed entries → EventPublishError. */
  async publish(events: readonly SlipwayEvent[]): Promise<void> {
    const failures: EntryFailure[] = [];
    for (const batch of batchEntries(events.map((e) => toPutEventsEntry(e, this.slipwayBus)))) {
      const result = this.putEvents(batch);
      result.Entries.forEach((r, i) => {
        const entry = batch[i];
        if (r.ErrorCode !== undefined && entry !== undefined) {
          failures.push({ source: entry.Source ?? '', detailType: entry.DetailType ?? '', errorCode: r.ErrorCode, errorMessage: r.ErrorMessage ?? '' });
        }
      });
    }
    if (failures.length > 0) throw new EventPublishError(`${failures.length} of ${events.length} events not published to ${this.slipwayBus}`, failures);
  }

  /**
   * PutEvents as AWS does it: at most 10 entries and 256 KiB per request (else PutEventsValidationError for the
   * whole call), then per entry: Detail must be a JSON object, `aws.*` sources are AWS's own, the bus must
   * exist. Accepted entries are delivered asynchronously; see drain().
   */
  putEvents(entries: readonly PutEventsRequestEntry[]): PutEventsResult {
    if (entries.length === 0 || entries.length > MAX_ENTRIES_PER_REQUEST) {
      throw new PutEventsValidationError(`a PutEvents request holds 1 to ${MAX_ENTRIES_PER_REQUEST} entries, not ${entries.length}`);
    }
    const total = entries.reduce((sum, e) => sum + entrySize(e), 0);
    if (total > MAX_ENTRY_BYTES) throw new PutEventsValidationError(`total size of the entries is ${total} bytes, over ${MAX_ENTRY_BYTES}`);
    const results = entries.map((entry) => this.putEntry(entry));
    return { FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length, Entries: results };
  }

  /**
   * Puts an event AWS itself emits (e.g. Control Tower's, on the default bus): a full envelope, taken as is
   * apart from the fields it lacks.
   */
  putEnvelope(
    envelope: Partial<EventEnvelope> & Pick<EventEnvelope, 'source' | 'detail-type' | 'detail'>,
    bus: string = DEFAULT_BUS,
  ): EventEnvelope {
    this.rulesOf(bus);
    if (!isPlainObject(envelope.detail)) throw new PutEventsValidationError('detail must be a JSON object');
    const full: EventEnvelope = {
      version: '0',
      id: envelope.id ?? randomUUID(),
      'detail-type': envelope['detail-type'],
      source: envelope.source,
      account: envelope.account ?? this.account,
      time: envelope.time ?? eventTime(this.clock()),
      region: envelope.region ?? this.region,
      resources: envelope.resources ?? [],
      detail: envelope.detail,
    };
    this.accept(bus, full);
    return structuredClone(full);
  }

  /** Makes the next `count` entries put fail with `errorCode`, as PutEvents partial failures do. */
  failNextEntries(count: number, errorCode = 'InternalFailure'): void {
    this.injected = count > 0 ? { remaining: count, errorCode } : undefined;
  }

  /** Accepted events, oldest first (bounded by historyLimit). */
  history(filter: HistoryFilter = {}): BusRecord[] {
    return this.records
      .filter(
        (r) =>
          (filter.bus === undefined || r.bus === filter.bus) &&
          (filter.source === undefined || r.event.source === filter.source) &&
          (filter.detailType === undefined || r.event['detail-type'] === filter.detailType) &&
          (filter.pattern === undefined || matchesPattern(filter.pattern, r.event)),
      )
      .map((r) => structuredClone(r));
  }

  /** Deliveries that failed every attempt. */
  deadLetters(): DeadLetter[] {
    return this.dead.map((d) => structuredClone(d));
  }

  /** Forgets history and dead letters (rules stay). */
  clear(): void {
    this.records.length = 0;
    this.dead.length = 0;
  }

  /** Resolves once every delivery — including those of events targets put meanwhile — has finished. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /** Alias of drain(). */
  flush(): Promise<void> {
    return this.drain();
  }

  private rulesOf(bus: string): Map<string, Rule> {
    const rules = this.buses.get(bus);
    if (rules === undefined) throw new UnknownEventBusError(`event bus ${bus} does not exist`);
    return rules;
  }

  private putEntry(entry: PutEventsRequestEntry): PutEventsResultEntry {
    const failed = (ErrorCode: string, ErrorMessage: string): PutEventsResultEntry => ({ ErrorCode, ErrorMessage });
    if (this.injected !== undefined) {
      const { errorCode } = this.injected;
      if (--this.injected.remaining <= 0) this.injected = undefined;
      return failed(errorCode, 'injected failure');
    }
    const busName = entry.EventBusName === undefined ? DEFAULT_BUS : (BUS_ARN.exec(entry.EventBusName)?.[1] ?? entry.EventBusName);
    if (!this.buses.has(busName)) return failed('ResourceNotFoundException', `Event bus ${busName} does not exist.`);
    if (!entry.Source || !entry.DetailType) return failed('InvalidArgument', 'Parameters Source and DetailType are required.');
    if (entry.Source.startsWith('aws.')) return failed('NotAuthorizedForSourceException', `Not authorized for the source ${entry.Source}.`);
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail ?? '');
    } catch {
      detail = undefined;
    }
    if (!isPlainObject(detail)) return failed('MalformedDetail', 'Detail is malformed.');
    const envelope: EventEnvelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: this.account,
      time: eventTime(entry.Time ?? this.clock()),
      region: this.region,
      resources: [...(entry.Resources ?? [])],
      detail,
    };
    this.accept(busName, envelope);
    return { EventId: envelope.id };
  }

  private accept(bus: string, event: EventEnvelope): void {
    const matched = [...this.rulesOf(bus).values()].filter((rule) => matchesPattern(rule.pattern, event));
    this.records.push({ bus, event: structuredClone(event), rules: matched.map((r) => r.name) });
    if (this.records.length > this.historyLimit) this.records.splice(0, this.records.length - this.historyLimit);
    for (const rule of matched) {
      const delivery = this.deliver(rule, event).finally(() => this.inflight.delete(delivery));
      this.inflight.add(delivery);
    }
  }

  private async deliver(rule: Rule, event: EventEnvelope): Promise<void> {
    // Never in the caller's turn: PutEvents returns before any target runs, as in AWS.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (let attempt = 1; ; attempt++) {
      try {
        await rule.target(structuredClone(event));
        return;
      } catch (err) {
        if (attempt >= this.maxAttempts) {
          const error = err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
          this.dead.push({ rule: rule.name, bus: rule.bus, event: structuredClone(event), attempts: attempt, error });
          this.logger?.error('event delivery failed', { rule: rule.name, bus: rule.bus, eventId: event.id, attempts: attempt, error });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }
}

/** EventBridge writes times to the second: `2026-11-20T10:15:00Z`. */
function eventTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
