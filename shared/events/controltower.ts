/**
 * Control Tower's `CreateManagedAccount` lifecycle event (a CloudTrail service event on the default bus) →
 * the few facts account vending needs. The envelope is AWS's, not ours, so it is parsed leniently (unknown
 * fields ignored) but every field we rely on is checked, and a wrong event is a named error the handler can
 * audit instead of a TypeError deep inside onboarding.
 */
import * as z from 'zod';
import { DETAIL_SCHEMA_VERSION, DetailType } from './constants.ts';
import { CONTROL_TOWER } from './patterns.ts';
import { type AccountVendedDetail, parseDetail } from './schemas.ts';

const Status = z.object({
  organizationalUnit: z.object({ organizationalUnitName: z.string().min(1), organizationalUnitId: z.string().min(1) }),
  account: z.object({ accountName: z.string().min(1), accountId: z.string().regex(/^\d{12}$/) }),
  state: z.string().min(1),
  message: z.string().optional(),
  requestedTimestamp: z.string().optional(),
  completedTimestamp: z.string().optional(),
});

const Envelope = z.object({
  id: z.string(),
  source: z.literal(CONTROL_TOWER.source),
  'detail-type': z.literal(CONTROL_TOWER.detailType),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  detail: z.object({
    eventName: z.literal(CONTROL_TOWER.eventName),
    eventID: z.string().optional(),
    serviceEventDetails: z.object({ createManagedAccountStatus: Status }),
  }),
});

/** What a `CreateManagedAccount` event says. `state` is Control Tower's: `SUCCEEDED`, `FAILED`, … */
export interface ControlTowerAccountEvent {
  accountId: string;
  accountName: string;
  ouId: string;
  ouName: string;
  state: string;
  succeeded: boolean;
  message?: string;
  requestedAt?: string;
  completedAt?: string;
  /** The EventBridge event id (for audit records and de-duplication). */
  eventId: string;
  /** CloudTrail's event id, when present. */
  cloudTrailEventId?: string;
  /** Control Tower's management account and home region, where the event came from. */
  managementAccountId: string;
  region: string;
  time: string;
}

/** The event is not a well-formed Control Tower `CreateManagedAccount` event. */
export class ControlTowerEventError extends Error {
  override readonly name = 'ControlTowerEventError';
  constructor(
    message: string,
    readonly issues: ReadonlyArray<{ path: string; message: string }> = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function parseControlTowerCreateManagedAccount(event: unknown): ControlTowerAccountEvent {
  const result = Envelope.safeParse(event);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    const summary = issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
    throw new ControlTowerEventError(`not a Control Tower CreateManagedAccount event: ${summary}`, issues, { cause: result.error });
  }
  const e = result.data;
  const s = e.detail.serviceEventDetails.createManagedAccountStatus;
  return {
    accountId: s.account.accountId,
    accountName: s.account.accountName,
    ouId: s.organizationalUnit.organizationalUnitId,
    ouName: s.organizationalUnit.organizationalUnitName,
    state: s.state,
    succeeded: s.state === CONTROL_TOWER.succeeded,
    ...(s.message === undefined ? {} : { message: s.message }),
    ...(s.requestedTimestamp === undefined ? {} : { requestedAt: s.requestedTimestamp }),
    ...(s.completedTimestamp === undefined ? {} : { completedAt: s.completedTimestamp }),
    eventId: e.id,
    ...(e.detail.eventID === undefined ? {} : { cloudTrailEventId: e.detail.eventID }),
    managementAccountId: e.account,
    region: e.region,
    time: e.time,
  };
}

/**
 * The same facts as the generic `Account Vended` detail, so onboarding has one input whatever the trigger.
 * Control Tower does not say the email, tags or governed regions: onboarding rules supply those.
 * Throws InvalidEventDetailError when the facts do not fit the contract (e.g. a malformed OU id).
 */
export function accountVendedFromControlTower(event: ControlTowerAccountEvent): AccountVendedDetail {
  return parseDetail(DetailType.AccountVended, {
    schemaVersion: DETAIL_SCHEMA_VERSION,
    accountId: event.accountId,
    accountName: event.accountName,
    organizationalUnit: { id: event.ouId, name: event.ouName },
  });
}
