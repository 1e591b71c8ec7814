/**
 * The detail of every event on the Slipway bus, as zod schemas: publishers build details through them, consumers
 * parse with them, and docs/events/*.schema.json is generated from them (`npm run event-schemas`), so the
 * published contract cannot drift from the code.
 *
 * Versioning: every detail carries `schemaVersion`. Within a version fields are only ever added, and only as
 * optional ones, so consumers must ignore fields they do not know; anything else is a new version.
 */
import * as z from 'zod';
import { AwsAccountId, AwsRegion, ClusterName, ClusterPhase, Dns1123Label, Operation, Violation } from '../domain/schemas.ts';
import { DETAIL_SCHEMA_VERSION, DetailType, EVENT_SOURCE } from './constants.ts';

const SchemaVersion = z.literal(DETAIL_SCHEMA_VERSION).describe('version of this detail schema; consumers branch on it');
const EventTime = z.iso.datetime({ offset: true }).describe('when it happened (RFC 3339)');

// ---------- cluster events ----------

export const ClusterRef = z
  .object({
    workspaceId: Dns1123Label,
    name: ClusterName,
    uid: z.string().min(1).describe('unique per cluster incarnation: a name can be reused after deletion'),
  })
  .describe('which cluster');
export type ClusterRef = z.infer<typeof ClusterRef>;

export const CapiLocation = z.enum(['management', 'self']).describe('where the CAPI objects live: the management cluster, or the cluster itself after the pivot');

const clusterDetailShape = {
  schemaVersion: SchemaVersion,
  cluster: ClusterRef,
  generation: z.number().int().nonnegative().describe('the spec generation the workflow is working on'),
  phase: ClusterPhase,
  previousPhase: ClusterPhase.optional().describe('phase before this change, when known'),
  step: z.string().nullable().describe('the workflow step, e.g. "pivot"'),
  message: z.string().nullable(),
  operation: Operation.optional().describe('the operation in flight'),
  capiLocation: CapiLocation.optional(),
  time: EventTime,
};

export const ClusterPhaseChangedDetail = z
  .object(clusterDetailShape)
  .meta({ title: DetailType.ClusterPhaseChanged, description: 'Emitted on every phase change of a cluster, terminal ones included.' });
export type ClusterPhaseChangedDetail = z.infer<typeof ClusterPhaseChangedDetail>;

export const ClusterReadyDetail = z
  .object({ ...clusterDetailShape, phase: z.literal('Ready') })
  .meta({ title: DetailType.ClusterReady, description: 'A provision or update finished: the cluster is Ready at `generation`.' });
export type ClusterReadyDetail = z.infer<typeof ClusterReadyDetail>;

export const ClusterError = z
  .object({
    name: z.string().min(1).describe('the named error, as matched by the workflow Catch, e.g. "WaitTimeoutError"'),
    cause: z.string().describe('human-readable cause'),
  })
  .describe('why the workflow failed');
export type ClusterError = z.infer<typeof ClusterError>;

export const ClusterFailedDetail = z
  .object({ ...clusterDetailShape, phase: z.literal('Failed'), error: ClusterError })
  .meta({ title: DetailType.ClusterFailed, description: 'A workflow failed; `step` says where and `error` why.' });
export type ClusterFailedDetail = z.infer<typeof ClusterFailedDetail>;

export const ClusterDeletedDetail = z
  .object({ ...clusterDetailShape, phase: z.literal('Deleted') })
  .meta({ title: DetailType.ClusterDeleted, description: 'Every machine of the cluster is gone and its quota released.' });
export type ClusterDeletedDetail = z.infer<typeof ClusterDeletedDetail>;

// ---------- account events ----------

const Tags = z.record(z.string().min(1).max(128), z.string().max(256)).describe('the account tags, key → value');

export const AccountVendedDetail = z
  .object({
    schemaVersion: SchemaVersion,
    accountId: AwsAccountId,
    accountName: z.string().min(1).max(50),
    email: z.email().optional().describe('the account root email; onboarding rules may derive owners from it'),
    organizationalUnit: z
      .object({ id: z.string().regex(/^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/, 'must be an OU id such as ou-ab12-34cd56ef').optional(), name: z.string().min(1).optional() })
      .describe('the OU the account was placed in; rules match on id or name'),
    tags: Tags.optional(),
    regions: z.array(AwsRegion).optional().describe('regions the account is governed in'),
  })
  .meta({
    title: DetailType.AccountVended,
    description: 'Put on the Slipway bus by any account-vending machine (with its own `source`) to have the new account onboarded.',
  });
export type AccountVendedDetail = z.infer<typeof AccountVendedDetail>;

const BaselineClusterRef = ClusterRef.extend({ uid: ClusterRef.shape.uid.optional() }).describe('the baseline cluster requested for the account, if any');

const onboardingShape = {
  schemaVersion: SchemaVersion,
  accountId: AwsAccountId,
  attempt: z.number().int().positive().optional().describe('which attempt at onboarding the account this was: 1, then one more per retry after a failure'),
  workspaceId: Dns1123Label.optional().describe('the workspace created or attached'),
  cloudAccessId: Dns1123Label.optional().describe('the cloud access registered for the account'),
  baselineCluster: BaselineClusterRef.optional(),
  reason: z.string().optional(),
  violations: z.array(Violation).optional().describe('policy violations that stopped the baseline cluster'),
  time: EventTime,
};

export const AccountOnboardedDetail = z.object(onboardingShape).meta({
  title: DetailType.AccountOnboarded,
  description: 'The account is onboarded: access verified, workspace ready. `reason`/`violations` say why no baseline cluster was requested, if so.',
});
export type AccountOnboardedDetail = z.infer<typeof AccountOnboardedDetail>;

export const AccountOnboardingFailedDetail = z
  .object({ ...onboardingShape, reason: z.string().min(1) })
  .meta({ title: DetailType.AccountOnboardingFailed, description: 'Onboarding failed and left nothing half-made; `reason` says why.' });
export type AccountOnboardingFailedDetail = z.infer<typeof AccountOnboardingFailedDetail>;

// ---------- the catalogue ----------

/** Detail schema of each detail-type. */
export const DETAIL_SCHEMAS = {
  [DetailType.ClusterPhaseChanged]: ClusterPhaseChangedDetail,
  [DetailType.ClusterReady]: ClusterReadyDetail,
  [DetailType.ClusterFailed]: ClusterFailedDetail,
  [DetailType.ClusterDeleted]: ClusterDeletedDetail,
  [DetailType.AccountVended]: AccountVendedDetail,
  [DetailType.AccountOnboarded]: AccountOnboardedDetail,
  [DetailType.AccountOnboardingFailed]: AccountOnboardingFailedDetail,
} as const satisfies Record<DetailType, z.ZodType>;

export type DetailOf<K extends DetailType> = z.infer<(typeof DETAIL_SCHEMAS)[K]>;

/** An event as Slipway publishes it; `source` is `slipway` except for `Account Vended` put by other vendors. */
export type SlipwayEvent = { [K in DetailType]: { source: string; detailType: K; detail: DetailOf<K> } }[DetailType];
export type SlipwayEventOf<K extends DetailType> = Extract<SlipwayEvent, { detailType: K }>;

const DETAIL_TYPES: ReadonlySet<string> = new Set(Object.values(DetailType));
export const isDetailType = (value: unknown): value is DetailType => typeof value === 'string' && DETAIL_TYPES.has(value);

/** A detail does not satisfy its schema (publishing it, or consuming it). */
export class InvalidEventDetailError extends Error {
  override readonly name = 'InvalidEventDetailError';
  constructor(
    readonly detailType: string,
    readonly issues: ReadonlyArray<{ path: string; message: string }>,
    options?: { cause?: unknown },
  ) {
    super(`invalid "${detailType}" detail: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, options);
  }
}

/** The detail-type is not one of Slipway's. */
export class UnknownDetailTypeError extends Error {
  override readonly name = 'UnknownDetailTypeError';
}

/** Validates a detail against the schema of its detail-type; unknown fields are dropped. */
export function parseDetail<K extends DetailType>(detailType: K, detail: unknown): DetailOf<K> {
  if (!isDetailType(detailType)) throw new UnknownDetailTypeError(`unknown detail-type "${String(detailType)}"`);
  const result = DETAIL_SCHEMAS[detailType].safeParse(detail);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    throw new InvalidEventDetailError(detailType, issues, { cause: result.error });
  }
  return result.data as DetailOf<K>;
}

/** An EventBridge envelope (what a rule target receives) → a typed Slipway event. */
export function parseSlipwayEvent(envelope: { source: string; 'detail-type': string; detail: unknown }): SlipwayEvent {
  const detailType = envelope['detail-type'];
  if (!isDetailType(detailType)) throw new UnknownDetailTypeError(`unknown detail-type "${detailType}"`);
  return { source: envelope.source, detailType, detail: parseDetail(detailType, envelope.detail) } as SlipwayEvent;
}

// ---------- builders ----------

/** What the cluster builders need of a cluster record (the stored `Cluster` satisfies it). */
export interface ClusterEventSubject {
  workspaceId: string;
  name: string;
  uid: string;
  generation: number;
  phase: ClusterPhase;
  step: string | null;
  message: string | null;
  operation?: z.infer<typeof Operation> | null;
  capiLocation?: z.infer<typeof CapiLocation> | null;
}

export interface EventBuildOptions {
  previousPhase?: ClusterPhase;
  /** Defaults to now. */
  time?: Date | string;
}

function isoTime(time: Date | string | undefined): string {
  if (time === undefined) return new Date().toISOString();
  return typeof time === 'string' ? time : time.toISOString();
}

function clusterDetailInput(cluster: ClusterEventSubject, options: EventBuildOptions): Record<string, unknown> {
  return {
    schemaVersion: DETAIL_SCHEMA_VERSION,
    cluster: { workspaceId: cluster.workspaceId, name: cluster.name, uid: cluster.uid },
    generation: cluster.generation,
    phase: cluster.phase,
    ...(options.previousPhase === undefined ? {} : { previousPhase: options.previousPhase }),
    step: cluster.step,
    message: cluster.message,
    ...(cluster.operation == null ? {} : { operation: cluster.operation }),
    ...(cluster.capiLocation == null ? {} : { capiLocation: cluster.capiLocation }),
    time: isoTime(options.time),
  };
}

function event<K extends DetailType>(detailType: K, detail: unknown, source: string = EVENT_SOURCE): SlipwayEventOf<K> {
  return { source, detailType, detail: parseDetail(detailType, detail) } as unknown as SlipwayEventOf<K>;
}

export function clusterPhaseEvent(cluster: ClusterEventSubject, options: EventBuildOptions = {}): SlipwayEventOf<'Cluster Phase Changed'> {
  return event(DetailType.ClusterPhaseChanged, clusterDetailInput(cluster, options));
}

/** Throws InvalidEventDetailError unless the cluster is Ready. */
export function clusterReadyEvent(cluster: ClusterEventSubject, options: EventBuildOptions = {}): SlipwayEventOf<'Cluster Ready'> {
  return event(DetailType.ClusterReady, clusterDetailInput(cluster, options));
}

/** Throws InvalidEventDetailError unless the cluster is Failed. */
export function clusterFailedEvent(
  cluster: ClusterEventSubject,
  error: ClusterError,
  options: EventBuildOptions = {},
): SlipwayEventOf<'Cluster Failed'> {
  return event(DetailType.ClusterFailed, { ...clusterDetailInput(cluster, options), error: { name: error.name, cause: error.cause } });
}

/** Throws InvalidEventDetailError unless the cluster is Deleted. */
export function clusterDeletedEvent(cluster: ClusterEventSubject, options: EventBuildOptions = {}): SlipwayEventOf<'Cluster Deleted'> {
  return event(DetailType.ClusterDeleted, clusterDetailInput(cluster, options));
}

/**
 * Everything to publish for one phase change: always `Cluster Phase Changed`, plus `Cluster Ready`,
 * `Cluster Failed` or `Cluster Deleted` on those phases, so a consumer subscribes either to every change
 * or only to the outcome it cares about. A Failed cluster should come with `error`; without one, its
 * message stands in (name `Failed`) so the event is never lost for want of a cause.
 */
export function clusterPhaseEvents(
  cluster: ClusterEventSubject,
  previousPhase?: ClusterPhase,
  time: Date | string = new Date(),
  error?: ClusterError,
): SlipwayEvent[] {
  const options: EventBuildOptions = { time: isoTime(time), ...(previousPhase === undefined ? {} : { previousPhase }) };
  const events: SlipwayEvent[] = [clusterPhaseEvent(cluster, options)];
  if (cluster.phase === 'Ready') events.push(clusterReadyEvent(cluster, options));
  if (cluster.phase === 'Deleted') events.push(clusterDeletedEvent(cluster, options));
  if (cluster.phase === 'Failed') {
    events.push(clusterFailedEvent(cluster, error ?? { name: 'Failed', cause: cluster.message ?? 'unknown cause' }, options));
  }
  return events;
}

type WithOptional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/** The generic vending event; `source` is the vending machine's own (anything but `aws.*`). */
export function accountVendedEvent(
  detail: WithOptional<AccountVendedDetail, 'schemaVersion'>,
  source: string = EVENT_SOURCE,
): SlipwayEventOf<'Account Vended'> {
  return event(DetailType.AccountVended, { ...detail, schemaVersion: DETAIL_SCHEMA_VERSION }, source);
}

/** Builder input: the detail without its version, `time` defaulting to now. */
export type OnboardingEventInput<T> = Omit<T, 'schemaVersion' | 'time'> & { time?: Date | string };

export function accountOnboardedEvent(detail: OnboardingEventInput<AccountOnboardedDetail>): SlipwayEventOf<'Account Onboarded'> {
  return event(DetailType.AccountOnboarded, { ...detail, schemaVersion: DETAIL_SCHEMA_VERSION, time: isoTime(detail.time) });
}

export function accountOnboardingFailedEvent(detail: OnboardingEventInput<AccountOnboardingFailedDetail>): SlipwayEventOf<'Account Onboarding Failed'> {
  return event(DetailType.AccountOnboardingFailed, { ...detail, schemaVersion: DETAIL_SCHEMA_VERSION, time: isoTime(detail.time) });
}

// ---------- JSON Schema (docs/events/*.schema.json) ----------

export const EVENT_SCHEMA_ID_BASE = 'https://slipway.dev/events/';

/** `Cluster Phase Changed` → `cluster-phase-changed`. */
export const detailTypeSlug = (detailType: DetailType): string => detailType.toLowerCase().replace(/[^a-z0-9]+/g, '-');

/**
 * One JSON Schema per detail-type, keyed by file name. Input mode: it documents what a producer must send and
 * leaves `additionalProperties` open, because consumers must tolerate fields added within a version.
 */
export function detailJsonSchemas(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const detailType of Object.values(DetailType)) {
    const file = `${detailTypeSlug(detailType)}.schema.json`;
    const schema = z.toJSONSchema(DETAIL_SCHEMAS[detailType], { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
    const { $schema, ...rest } = schema;
    out[file] = { $schema, $id: `${EVENT_SCHEMA_ID_BASE}${file}`, ...rest, 'x-slipway-detail-type': detailType };
  }
  return out;
}
