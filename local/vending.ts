/**
 * Account vending on one machine: the two vending rules on the local bus (same patterns as the CDK rules),
 * the onboard-account workflow's Lambda stand-ins, an access verifier that asks the STS/EC2 at
 * AWS_ENDPOINT_URL (LocalStack, moto_server) or says clearly that there is none, and the admin-only
 * `POST /local/events` route that puts an event on the local bus (what `npm run vend` calls).
 */
import { createHash } from 'node:crypto';
import { EC2Client } from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import * as z from 'zod';
import { makeHandler as makeVendingHandler, type VendingEvent, type VendingOutcome } from '../functions/events/account-vended.ts';
import { buildOnboardingStepHandlers, type OnboardingStepName } from '../functions/steps/onboarding-registry.ts';
import { requireAdmin } from '../shared/auth/authorize.ts';
import { type AccessVerifier, AwsAccessVerifier, UnavailableAccessVerifier } from '../shared/aws/verify-access.ts';
import { ValidationError } from '../shared/errors.ts';
import { type HttpDeps, parseWith, type Route, routeGroup } from '../shared/http/api.ts';
import { DetailType } from '../shared/events/constants.ts';
import { ACCOUNT_VENDED_PATTERN, CONTROL_TOWER, CONTROL_TOWER_ACCOUNT_VENDED_PATTERN } from '../shared/events/patterns.ts';
import { type AccountVendedDetail, accountVendedEvent } from '../shared/events/schemas.ts';
import { createLogger } from '../shared/log.ts';
import type { OnboardingInput } from '../shared/onboarding/steps.ts';
import { loadPriceCatalog, type PriceCatalog } from '../shared/policy/cost.ts';
import type { Stores } from '../shared/store/ports.ts';
import type { WorkflowStarter } from '../shared/workflow/starter.ts';
import { DEFAULT_BUS, type EventEnvelope, type LocalEventBus } from './eventbus.ts';
import type { LocalRoute } from './http/server.ts';
import type { TaskHandler } from './stepfunctions.ts';

export interface LocalAccountVending {
  /** The onboard-account step handlers, for the runtime's Lambda stand-ins. */
  steps: Record<OnboardingStepName, (input: OnboardingInput) => Promise<unknown>>;
  /** `POST /local/events`, for the local API gateway. */
  routes(deps: () => HttpDeps): LocalRoute[];
}

/**
 * Account vending in the local runtime: the vending rules on its bus, the onboarding steps over its stores
 * and bus, and the local events route. `workflows` is a getter because the runner is built from the steps.
 */
export function localAccountVending(input: {
  stores: Stores;
  events: LocalEventBus;
  workflows: () => WorkflowStarter;
  clock: () => Date;
  prices?: PriceCatalog;
  verifier?: AccessVerifier;
}): LocalAccountVending {
  const workflows: WorkflowStarter = { start: (request) => input.workflows().start(request) };
  const log = createLogger({ component: 'account-vending' });
  const steps = buildOnboardingStepHandlers(() => ({
    stores: input.stores,
    events: input.events,
    workflows,
    verifier: input.verifier ?? localAccessVerifier(),
    prices: input.prices ?? loadPriceCatalog(),
    clock: input.clock,
    log,
  }));
  const vending = makeVendingHandler(() => ({ stores: input.stores, workflows, clock: input.clock, log }));
  wireAccountVending(input.events, (event) => vending(event as VendingEvent));
  return {
    steps,
    routes: (deps) => [{ method: 'POST', path: '/local/events', handler: makeLocalEventsHandler(input.events, deps) }],
  };
}

export const CONTROL_TOWER_RULE = 'slipway-controltower-vending';
export const ACCOUNT_VENDED_RULE = 'slipway-account-vended';

/** The vending rules of infra/events.ts, on the local buses, delivering to the account-vended handler. */
export function wireAccountVending(bus: LocalEventBus, target: (event: EventEnvelope) => Promise<VendingOutcome>): void {
  bus.addRule({ name: CONTROL_TOWER_RULE, bus: DEFAULT_BUS, pattern: CONTROL_TOWER_ACCOUNT_VENDED_PATTERN, target });
  bus.addRule({ name: ACCOUNT_VENDED_RULE, pattern: ACCOUNT_VENDED_PATTERN, target });
}

export interface VendedAccountSpec {
  accountId: string;
  accountName: string;
  /** OU name; its id is derived from it unless given. */
  ou: string;
  ouId?: string;
  /** Control Tower's state; anything but SUCCEEDED is a failed vending. */
  state?: string;
  managementAccountId?: string;
  region?: string;
  time?: Date;
}

/** A stable OU id for an OU name (`ou-xxxx-xxxxxxxx`), so the same `--ou` always means the same OU. */
export function ouIdFor(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `ou-${h.slice(0, 4)}-${h.slice(4, 12)}`;
}

/** The envelope of a Control Tower `CreateManagedAccount` lifecycle event, shaped as AWS documents it. */
export function controlTowerAccountEvent(spec: VendedAccountSpec): Pick<EventEnvelope, 'source' | 'detail-type' | 'detail' | 'account' | 'region' | 'time'> {
  const time = (spec.time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const management = spec.managementAccountId ?? '111111111111';
  const region = spec.region ?? 'eu-west-1';
  return {
    source: CONTROL_TOWER.source,
    'detail-type': CONTROL_TOWER.detailType,
    account: management,
    region,
    time,
    detail: {
      eventVersion: '1.08',
      userIdentity: { accountId: management, invokedBy: 'AWS Internal' },
      eventTime: time,
      eventSource: 'controltower.amazonaws.com',
      eventName: CONTROL_TOWER.eventName,
      awsRegion: region,
      sourceIPAddress: 'AWS Internal',
      userAgent: 'AWS Internal',
      eventID: createHash('sha256').update(`${spec.accountId}/${time}`).digest('hex').slice(0, 32),
      readOnly: false,
      eventType: 'AwsServiceEvent',
      serviceEventDetails: {
        createManagedAccountStatus: {
          organizationalUnit: { organizationalUnitName: spec.ou, organizationalUnitId: spec.ouId ?? ouIdFor(spec.ou) },
          account: { accountName: spec.accountName, accountId: spec.accountId },
          state: spec.state ?? CONTROL_TOWER.succeeded,
          message: spec.state === undefined || spec.state === CONTROL_TOWER.succeeded ? 'AWS Control Tower successfully created an enrolled account.' : 'Account creation failed.',
          requestedTimestamp: time,
          completedTimestamp: time,
        },
      },
    },
  };
}

/** The generic `Account Vended` detail (for vending machines that know the email or tags). */
export function genericAccountVended(spec: VendedAccountSpec & { email?: string; tags?: Record<string, string> }): AccountVendedDetail {
  return accountVendedEvent({
    accountId: spec.accountId,
    accountName: spec.accountName,
    organizationalUnit: { id: spec.ouId ?? ouIdFor(spec.ou), name: spec.ou },
    ...(spec.email === undefined ? {} : { email: spec.email }),
    ...(spec.tags === undefined ? {} : { tags: spec.tags }),
  }).detail;
}

// ---------- access verification locally ----------

/**
 * `aws` accesses are verified against the STS and EC2 at AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_STS /
 * AWS_ENDPOINT_URL_EC2). Without one there is no AWS to ask on this machine: verification fails and says so,
 * rather than reaching out to real AWS with whatever credentials happen to be around.
 */
export function localAccessVerifier(env: Record<string, string | undefined> = process.env): AccessVerifier {
  const stsEndpoint = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL;
  const ec2Endpoint = env.AWS_ENDPOINT_URL_EC2 || env.AWS_ENDPOINT_URL;
  if (!stsEndpoint || !ec2Endpoint) {
    return new UnavailableAccessVerifier(
      'aws accesses are verified with sts:AssumeRole and EC2, and AWS_ENDPOINT_URL is not set: this local runtime has no AWS to ask (point AWS_ENDPOINT_URL at LocalStack or moto_server, or use a "sim" access)',
    );
  }
  // Emulators accept any key; without one in the environment use a placeholder rather than the SDK's chain.
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
      : { accessKeyId: 'local', secretAccessKey: 'local' };
  const region = env.AWS_REGION || 'us-east-1';
  return new AwsAccessVerifier({
    sts: new STSClient({ region, endpoint: stsEndpoint, credentials, maxAttempts: 2 }),
    ec2: (r, assumed) => new EC2Client({ region: r, endpoint: ec2Endpoint, credentials: assumed, maxAttempts: 2 }),
  });
}

// ---------- the onboard-account workflow's Lambdas ----------

const REGION = 'local';
const ACCOUNT = '000000000000';

/** Same names as local/runtime.ts gives step functions. */
export const stepFunctionName = (step: string): string => `slipway-step-${step}`;
const pascal = (kebab: string): string =>
  kebab
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');

/**
 * `lambdas` and `substitutions` for a LocalWorkflowStarter running statemachines/onboard-account.asl.json with
 * the given step handlers (functions/steps/onboarding-registry.ts).
 */
export function onboardingMachineOptions(steps: Readonly<Record<string, (input: never) => Promise<unknown>>>): {
  lambdas: Record<string, TaskHandler>;
  substitutions: Record<string, string>;
} {
  const lambdas: Record<string, TaskHandler> = {};
  const substitutions: Record<string, string> = {};
  for (const [step, handler] of Object.entries(steps)) {
    const fn = stepFunctionName(step);
    lambdas[fn] = (input) => (handler as (input: unknown) => Promise<unknown>)(input);
    substitutions[`Step${pascal(step)}Arn`] = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn}`;
  }
  return { lambdas, substitutions };
}

// ---------- POST /local/events ----------

/** Body of `POST /local/events`: one event as EventBridge would carry it. */
export const LocalEventBody = z.strictObject({
  source: z.string().min(1).max(256),
  'detail-type': z.string().min(1).max(256),
  detail: z.record(z.string(), z.unknown()),
  account: z.string().regex(/^\d{12}$/).optional(),
  region: z.string().min(1).optional(),
  time: z.string().optional(),
});

export const LOCAL_EVENTS_ROUTE = 'POST /local/events';

/**
 * Puts an event on the local bus, as an admin would with `aws events put-events` — except that `aws.*`
 * sources (which PutEvents refuses) are accepted and put on the default bus, where AWS's own events such as
 * Control Tower's arrive. Local only: this route is not in shared/http/routes.ts, so it is never deployed.
 */
export function localEventsRoutes(bus: LocalEventBus): Record<string, Route<HttpDeps>> {
  return {
    [LOCAL_EVENTS_ROUTE]: async (req) => {
      requireAdmin(req.caller);
      const body = parseWith(LocalEventBody, req.body);
      if (body.source.startsWith('aws.')) {
        const event = bus.putEnvelope({ ...body }, DEFAULT_BUS);
        return { status: 202, body: { id: event.id, bus: DEFAULT_BUS } };
      }
      const result = bus.putEvents([{ Source: body.source, DetailType: body['detail-type'], Detail: JSON.stringify(body.detail), EventBusName: 'slipway' }]);
      const entry = result.Entries[0];
      if (!entry?.EventId) throw new ValidationError(`the bus refused the event: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
      return { status: 202, body: { id: entry.EventId, bus: 'slipway' } };
    },
  };
}

/** The API Gateway-shaped handler of `POST /local/events` for the local HTTP adapter. */
export const makeLocalEventsHandler = (bus: LocalEventBus, deps: () => HttpDeps) => routeGroup(localEventsRoutes(bus), deps);

/** Detail-type of the generic event, re-exported for the CLI. */
export const ACCOUNT_VENDED = DetailType.AccountVended;
