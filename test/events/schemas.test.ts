/** Detail schemas and builders: what Slipway publishes is valid by construction, and consumers can parse it. */
import { describe, expect, it } from 'vitest';
import { DETAIL_SCHEMA_VERSION, DetailType } from '../../shared/events/constants.ts';
import {
  accountOnboardedEvent,
  accountOnboardingFailedEvent,
  accountVendedEvent,
  clusterDeletedEvent,
  clusterFailedEvent,
  clusterPhaseEvent,
  clusterPhaseEvents,
  clusterReadyEvent,
  DETAIL_SCHEMAS,
  detailTypeSlug,
  InvalidEventDetailError,
  isDetailType,
  parseDetail,
  parseSlipwayEvent,
  UnknownDetailTypeError,
} from '../../shared/events/schemas.ts';

const at = new Date('2026-11-20T10:15:00.000Z');
const cluster = {
  workspaceId: 'payments',
  name: 'dev',
  uid: 'c0ffee',
  generation: 3,
  phase: 'Provisioning' as const,
  step: 'apply-capi',
  message: 'applying the Cluster',
  operation: 'provision' as const,
  capiLocation: 'management' as const,
};

describe('cluster builders', () => {
  it('a phase change carries the versioned detail', () => {
    const event = clusterPhaseEvent(cluster, { previousPhase: 'Requested', time: at });

    expect(event).toEqual({
      source: 'slipway',
      detailType: 'Cluster Phase Changed',
      detail: {
        schemaVersion: DETAIL_SCHEMA_VERSION,
        cluster: { workspaceId: 'payments', name: 'dev', uid: 'c0ffee' },
        generation: 3,
        phase: 'Provisioning',
        previousPhase: 'Requested',
        step: 'apply-capi',
        message: 'applying the Cluster',
        operation: 'provision',
        capiLocation: 'management',
        time: '2026-11-20T10:15:00.000Z',
      },
    });
  });

  it('null operation and location (a stored Cluster at rest) are left out, not published as null', () => {
    const { detail } = clusterPhaseEvent({ ...cluster, operation: null, capiLocation: null }, { time: at });
    expect(detail).not.toHaveProperty('operation');
    expect(detail).not.toHaveProperty('capiLocation');
    expect(detail).not.toHaveProperty('previousPhase');
  });

  it.each([
    ['Provisioning', ['Cluster Phase Changed']],
    ['Ready', ['Cluster Phase Changed', 'Cluster Ready']],
    ['Deleted', ['Cluster Phase Changed', 'Cluster Deleted']],
    ['Failed', ['Cluster Phase Changed', 'Cluster Failed']],
  ] as const)('phase %s publishes %j', (phase, detailTypes) => {
    const events = clusterPhaseEvents({ ...cluster, phase }, 'Requested', at, { name: 'WaitTimeoutError', cause: 'gave up' });
    expect(events.map((e) => e.detailType)).toEqual(detailTypes);
    expect(new Set(events.map((e) => 'time' in e.detail && e.detail.time))).toEqual(new Set(['2026-11-20T10:15:00.000Z']));
  });

  it('a Failed event carries the error; without one, the message stands in', () => {
    const failed = { ...cluster, phase: 'Failed' as const, message: 'machine failed to boot' };
    expect(clusterFailedEvent(failed, { name: 'MachineFailedError', cause: 'boot' }, { time: at }).detail.error).toEqual({
      name: 'MachineFailedError',
      cause: 'boot',
    });
    const [, fallback] = clusterPhaseEvents(failed, 'Provisioning', at);
    expect(fallback?.detail).toMatchObject({ error: { name: 'Failed', cause: 'machine failed to boot' } });
  });

  it('outcome events refuse a cluster in another phase', () => {
    expect(() => clusterReadyEvent(cluster)).toThrow(InvalidEventDetailError);
    expect(() => clusterDeletedEvent(cluster)).toThrow(InvalidEventDetailError);
    expect(() => clusterFailedEvent(cluster, { name: 'X', cause: 'y' })).toThrow(InvalidEventDetailError);
  });

  it('refuses an invalid cluster reference with the offending path', () => {
    expect(() => clusterPhaseEvent({ ...cluster, workspaceId: 'Not A Label' })).toThrow(/cluster\.workspaceId/);
  });
});

describe('account builders', () => {
  it('Account Vended: the generic contract, with the vendor\'s source', () => {
    const event = accountVendedEvent(
      {
        accountId: '222233334444',
        accountName: 'team-payments-dev',
        email: 'aws+payments-dev@example.com',
        organizationalUnit: { id: 'ou-ab12-34cd56ef', name: 'Sandbox' },
        tags: { team: 'payments' },
        regions: ['eu-west-1'],
      },
      'com.example.vending',
    );
    expect(event.source).toBe('com.example.vending');
    expect(event.detail.schemaVersion).toBe('1');
    expect(() => accountVendedEvent({ accountId: '42', accountName: 'x', organizationalUnit: {} })).toThrow(/accountId/);
    expect(() => accountVendedEvent({ accountId: '222233334444', accountName: 'x', email: 'nope', organizationalUnit: {} })).toThrow(/email/);
  });

  it('Account Onboarded and Onboarding Failed', () => {
    const ok = accountOnboardedEvent({
      accountId: '222233334444',
      workspaceId: 'acct-team-payments-dev',
      cloudAccessId: 'aws-222233334444',
      baselineCluster: { workspaceId: 'acct-team-payments-dev', name: 'baseline' },
      time: at,
    });
    expect(ok.detail).toMatchObject({ schemaVersion: '1', accountId: '222233334444', baselineCluster: { name: 'baseline' } });

    const failed = accountOnboardingFailedEvent({ accountId: '222233334444', reason: 'AssumeRole denied', time: '2026-11-20T10:15:00Z' });
    expect(failed.detail.reason).toBe('AssumeRole denied');
    expect(() => accountOnboardingFailedEvent({ accountId: '222233334444', reason: '' })).toThrow(InvalidEventDetailError);
  });
});

describe('parsing', () => {
  it('parseDetail validates and drops unknown fields (added within a version)', () => {
    const detail = { ...clusterPhaseEvent(cluster, { time: at }).detail, futureField: 1 };
    expect(parseDetail(DetailType.ClusterPhaseChanged, detail)).not.toHaveProperty('futureField');
  });

  it('parseDetail refuses another schema version', () => {
    const detail = { ...clusterPhaseEvent(cluster, { time: at }).detail, schemaVersion: '2' };
    expect(() => parseDetail(DetailType.ClusterPhaseChanged, detail)).toThrow(InvalidEventDetailError);
  });

  it('parseSlipwayEvent reads an EventBridge envelope', () => {
    const { detail } = clusterPhaseEvent(cluster, { time: at });
    const event = parseSlipwayEvent({ source: 'slipway', 'detail-type': 'Cluster Phase Changed', detail });
    expect(event.detailType).toBe('Cluster Phase Changed');
    expect(() => parseSlipwayEvent({ source: 'slipway', 'detail-type': 'Cluster Exploded', detail })).toThrow(UnknownDetailTypeError);
    expect(() => parseDetail('Nope' as DetailType, {})).toThrow(UnknownDetailTypeError);
  });

  it('every detail-type has a schema and a file name', () => {
    for (const detailType of Object.values(DetailType)) {
      expect(isDetailType(detailType)).toBe(true);
      expect(DETAIL_SCHEMAS[detailType]).toBeDefined();
    }
    expect(detailTypeSlug(DetailType.AccountOnboardingFailed)).toBe('account-onboarding-failed');
    expect(isDetailType('AWS Service Event via CloudTrail')).toBe(false);
  });
});
