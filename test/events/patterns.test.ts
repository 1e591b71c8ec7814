/**
 * The shared patterns (what the CDK rules deploy and the local bus matches with) against the Control Tower
 * fixture and Slipway's own events, and the Control Tower parser.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matchesPattern, validatePattern } from '../../local/eventbus.ts';
import { DetailType, EVENT_SOURCE } from '../../shared/events/constants.ts';
import {
  accountVendedFromControlTower,
  ControlTowerEventError,
  parseControlTowerCreateManagedAccount,
} from '../../shared/events/controltower.ts';
import * as patterns from '../../shared/events/patterns.ts';
import {
  ACCOUNT_ONBOARDING_PATTERN,
  ACCOUNT_VENDED_PATTERN,
  CLUSTER_EVENTS_PATTERN,
  CONTROL_TOWER_ACCOUNT_SUCCEEDED_PATTERN,
  CONTROL_TOWER_ACCOUNT_VENDED_PATTERN,
  clusterEventsPattern,
  FAILURE_PATTERN,
  STATUS_PATTERN,
} from '../../shared/events/patterns.ts';
import { InvalidEventDetailError } from '../../shared/events/schemas.ts';

type Envelope = {
  source: string;
  'detail-type': string;
  detail: {
    eventName: string;
    serviceEventDetails: { createManagedAccountStatus: { state: string; account: { accountId: string; accountName: string }; [k: string]: unknown } };
  };
  [k: string]: unknown;
};

const fixture = (): Envelope =>
  JSON.parse(readFileSync(new URL('./fixtures/controltower-create-managed-account.json', import.meta.url), 'utf8')) as Envelope;

function withState(state: string): Envelope {
  const e = fixture();
  e.detail.serviceEventDetails.createManagedAccountStatus.state = state;
  return e;
}

function withEventName(eventName: string): Envelope {
  const e = fixture();
  e.detail.eventName = eventName;
  return e;
}

const slipwayEvent = (detailType: string, detail: Record<string, unknown> = {}) => ({
  version: '0',
  id: 'x',
  'detail-type': detailType,
  source: EVENT_SOURCE,
  account: '000000000000',
  time: '2026-11-20T10:15:00Z',
  region: 'eu-west-1',
  resources: [],
  detail,
});

describe('every exported pattern', () => {
  const exported = Object.entries(patterns).filter(([name]) => name.endsWith('_PATTERN'));

  it.each(exported)('%s is a pattern EventBridge accepts', (_name, pattern) => {
    expect(() => validatePattern(pattern)).not.toThrow();
  });
});

describe('Control Tower CreateManagedAccount patterns', () => {
  it('the fixture matches both the broad and the narrow pattern', () => {
    expect(matchesPattern(CONTROL_TOWER_ACCOUNT_VENDED_PATTERN, fixture())).toBe(true);
    expect(matchesPattern(CONTROL_TOWER_ACCOUNT_SUCCEEDED_PATTERN, fixture())).toBe(true);
  });

  it.each(['FAILED', 'IN_PROGRESS'])('state %s reaches the handler (broad) but not the narrow pattern', (state) => {
    expect(matchesPattern(CONTROL_TOWER_ACCOUNT_VENDED_PATTERN, withState(state))).toBe(true);
    expect(matchesPattern(CONTROL_TOWER_ACCOUNT_SUCCEEDED_PATTERN, withState(state))).toBe(false);
  });

  it.each(['UpdateManagedAccount', 'EnableGuardrail', 'SetupLandingZone'])('other event name %s matches neither', (eventName) => {
    expect(matchesPattern(CONTROL_TOWER_ACCOUNT_VENDED_PATTERN, withEventName(eventName))).toBe(false);
    expect(matchesPattern(CONTROL_TOWER_ACCOUNT_SUCCEEDED_PATTERN, withEventName(eventName))).toBe(false);
  });

  it('another source or detail-type matches neither', () => {
    const otherSource = { ...fixture(), source: 'aws.organizations' };
    const otherType = { ...fixture(), 'detail-type': 'AWS API Call via CloudTrail' };
    for (const p of [CONTROL_TOWER_ACCOUNT_VENDED_PATTERN, CONTROL_TOWER_ACCOUNT_SUCCEEDED_PATTERN]) {
      expect(matchesPattern(p, otherSource)).toBe(false);
      expect(matchesPattern(p, otherType)).toBe(false);
    }
  });

  it('the vending patterns do not catch the Control Tower event by accident', () => {
    expect(matchesPattern(ACCOUNT_VENDED_PATTERN, fixture())).toBe(false);
    expect(matchesPattern(STATUS_PATTERN, fixture())).toBe(false);
  });
});

describe('Slipway bus patterns', () => {
  it('Account Vended matches whatever the source', () => {
    expect(matchesPattern(ACCOUNT_VENDED_PATTERN, { ...slipwayEvent(DetailType.AccountVended), source: 'com.example.vending' })).toBe(true);
    expect(matchesPattern(ACCOUNT_VENDED_PATTERN, slipwayEvent(DetailType.AccountOnboarded))).toBe(false);
  });

  it.each([DetailType.ClusterPhaseChanged, DetailType.ClusterReady, DetailType.ClusterFailed, DetailType.ClusterDeleted])(
    'cluster pattern and status pattern take %s',
    (detailType) => {
      expect(matchesPattern(CLUSTER_EVENTS_PATTERN, slipwayEvent(detailType))).toBe(true);
      expect(matchesPattern(STATUS_PATTERN, slipwayEvent(detailType))).toBe(true);
      expect(matchesPattern(ACCOUNT_ONBOARDING_PATTERN, slipwayEvent(detailType))).toBe(false);
    },
  );

  it('status events from another source are not Slipway status', () => {
    expect(matchesPattern(STATUS_PATTERN, { ...slipwayEvent(DetailType.ClusterReady), source: 'com.example' })).toBe(false);
  });

  it('the failure pattern takes only failures', () => {
    expect(matchesPattern(FAILURE_PATTERN, slipwayEvent(DetailType.ClusterFailed))).toBe(true);
    expect(matchesPattern(FAILURE_PATTERN, slipwayEvent(DetailType.AccountOnboardingFailed))).toBe(true);
    expect(matchesPattern(FAILURE_PATTERN, slipwayEvent(DetailType.ClusterReady))).toBe(false);
    expect(matchesPattern(FAILURE_PATTERN, slipwayEvent(DetailType.AccountVended))).toBe(false);
  });

  it('clusterEventsPattern narrows to a workspace, a cluster and detail-types', () => {
    const ready = slipwayEvent(DetailType.ClusterReady, { cluster: { workspaceId: 'payments', name: 'dev', uid: 'u1' } });
    expect(matchesPattern(clusterEventsPattern({ workspaceId: 'payments' }), ready)).toBe(true);
    expect(matchesPattern(clusterEventsPattern({ workspaceId: 'other' }), ready)).toBe(false);
    expect(matchesPattern(clusterEventsPattern({ workspaceId: 'payments', name: 'dev', detailTypes: [DetailType.ClusterReady] }), ready)).toBe(true);
    expect(matchesPattern(clusterEventsPattern({ detailTypes: [DetailType.ClusterFailed] }), ready)).toBe(false);
    expect(clusterEventsPattern()).toEqual(CLUSTER_EVENTS_PATTERN);
  });
});

describe('parseControlTowerCreateManagedAccount', () => {
  it('extracts the account, the OU and the outcome from the fixture', () => {
    const parsed = parseControlTowerCreateManagedAccount(fixture());

    expect(parsed).toEqual({
      accountId: '222233334444',
      accountName: 'team-payments-dev',
      ouId: 'ou-ab12-34cd56ef',
      ouName: 'Sandbox',
      state: 'SUCCEEDED',
      succeeded: true,
      message: 'AWS Control Tower successfully created an enrolled account.',
      requestedAt: '2026-11-20T09:58:12Z',
      completedAt: '2026-11-20T10:14:57Z',
      eventId: '0d5c1b0e-7f3a-4c2e-9f1b-2b3c4d5e6f70',
      cloudTrailEventId: '9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0',
      managementAccountId: '111111111111',
      region: 'eu-west-1',
      time: '2026-11-20T10:15:00Z',
    });
  });

  it('parses a failed vending too: the handler decides, and audits it', () => {
    const parsed = parseControlTowerCreateManagedAccount(withState('FAILED'));
    expect(parsed.state).toBe('FAILED');
    expect(parsed.succeeded).toBe(false);
  });

  it.each([
    ['another event name', withEventName('UpdateManagedAccount'), 'detail.eventName'],
    ['another source', { ...fixture(), source: 'aws.organizations' }, 'source'],
    ['no status', { ...fixture(), detail: { ...fixture().detail, serviceEventDetails: {} } }, 'detail.serviceEventDetails.createManagedAccountStatus'],
    ['not an object', 'CreateManagedAccount', '(root)'],
  ])('refuses %s with a named error', (_name, event, path) => {
    let error: unknown;
    try {
      parseControlTowerCreateManagedAccount(event);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ControlTowerEventError);
    expect((error as ControlTowerEventError).name).toBe('ControlTowerEventError');
    expect((error as ControlTowerEventError).message).toContain(path);
  });

  it('refuses an account id that is not 12 digits', () => {
    const e = fixture();
    e.detail.serviceEventDetails.createManagedAccountStatus.account.accountId = '1234';
    expect(() => parseControlTowerCreateManagedAccount(e)).toThrow(ControlTowerEventError);
  });

  it('maps onto the generic Account Vended detail', () => {
    const detail = accountVendedFromControlTower(parseControlTowerCreateManagedAccount(fixture()));
    expect(detail).toEqual({
      schemaVersion: '1',
      accountId: '222233334444',
      accountName: 'team-payments-dev',
      organizationalUnit: { id: 'ou-ab12-34cd56ef', name: 'Sandbox' },
    });
  });

  it('a malformed OU id cannot become an Account Vended detail', () => {
    const parsed = { ...parseControlTowerCreateManagedAccount(fixture()), ouId: 'not-an-ou' };
    expect(() => accountVendedFromControlTower(parsed)).toThrow(InvalidEventDetailError);
  });
});
