/** The local EventBridge: buses, rules, PutEvents semantics, delivery, retries, dead letters, history. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BUS,
  type EventEnvelope,
  InvalidEventPatternError,
  LOCAL_SLIPWAY_BUS,
  LocalEventBus,
  PutEventsValidationError,
  RuleAlreadyExistsError,
  UnknownEventBusError,
} from '../../local/eventbus.ts';
import { DetailType } from '../../shared/events/constants.ts';
import {
  ACCOUNT_VENDED_PATTERN,
  CLUSTER_EVENTS_PATTERN,
  CONTROL_TOWER_ACCOUNT_VENDED_PATTERN,
  FAILURE_PATTERN,
} from '../../shared/events/patterns.ts';
import { EventPublishError, EventTooLargeError } from '../../shared/events/publisher.ts';
import { accountVendedEvent, clusterPhaseEvents } from '../../shared/events/schemas.ts';

const fixture = () =>
  JSON.parse(readFileSync(new URL('./fixtures/controltower-create-managed-account.json', import.meta.url), 'utf8')) as EventEnvelope;

const cluster = {
  workspaceId: 'payments',
  name: 'dev',
  uid: 'c0ffee',
  generation: 1,
  phase: 'Ready' as const,
  step: 'mark-ready',
  message: null,
  operation: 'provision' as const,
  capiLocation: 'self' as const,
};

function collector() {
  const received: EventEnvelope[] = [];
  return { received, target: async (e: EventEnvelope) => void received.push(e) };
}

describe('LocalEventBus', () => {
  it('delivers asynchronously: nothing runs before PutEvents returns, everything after drain', async () => {
    // Prepare
    const bus = new LocalEventBus();
    const { received, target } = collector();
    bus.addRule({ name: 'all-clusters', pattern: CLUSTER_EVENTS_PATTERN, target });

    // Act
    const publishing = bus.publish(clusterPhaseEvents(cluster, 'InstallingAddons', new Date('2026-11-20T10:15:00.123Z')));
    await publishing;
    const before = received.length;
    await bus.drain();

    // Assess
    expect(before).toBe(0);
    expect(received.map((e) => e['detail-type'])).toEqual([DetailType.ClusterPhaseChanged, DetailType.ClusterReady]);
    const [first] = received;
    expect(first).toMatchObject({
      version: '0',
      source: 'slipway',
      account: '000000000000',
      region: 'us-east-1',
      resources: [],
      time: '2026-11-20T10:15:00Z',
      detail: { cluster: { workspaceId: 'payments', name: 'dev', uid: 'c0ffee' }, previousPhase: 'InstallingAddons', phase: 'Ready' },
    });
    expect(first?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('routes by bus: the Control Tower event on the default bus reaches only default-bus rules', async () => {
    const bus = new LocalEventBus();
    const onDefault = collector();
    const onSlipway = collector();
    bus.addRule({ name: 'ct', bus: DEFAULT_BUS, pattern: CONTROL_TOWER_ACCOUNT_VENDED_PATTERN, target: onDefault.target });
    bus.addRule({ name: 'ct-on-slipway', bus: LOCAL_SLIPWAY_BUS, pattern: CONTROL_TOWER_ACCOUNT_VENDED_PATTERN, target: onSlipway.target });

    const put = bus.putEnvelope(fixture());
    await bus.drain();

    expect(put.id).toBe('0d5c1b0e-7f3a-4c2e-9f1b-2b3c4d5e6f70');
    expect(onDefault.received).toEqual([fixture()]);
    expect(onSlipway.received).toEqual([]);
    expect(bus.history({ bus: DEFAULT_BUS })).toEqual([{ bus: DEFAULT_BUS, event: fixture(), rules: ['ct'] }]);
  });

  it('PutEvents: per-entry errors as AWS reports them, valid entries still accepted', async () => {
    const bus = new LocalEventBus();
    const { received, target } = collector();
    bus.addRule({ name: 'vended', pattern: ACCOUNT_VENDED_PATTERN, target });
    const good = { Source: 'com.example.vending', DetailType: 'Account Vended', Detail: '{"accountId":"222233334444"}', EventBusName: 'slipway' };

    const result = bus.putEvents([
      good,
      { ...good, Detail: '[1,2]' },
      { ...good, Detail: 'not json' },
      { ...good, Source: 'aws.controltower' },
      { ...good, EventBusName: 'nope' },
      { ...good, Source: '' },
      { ...good, EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/slipway' },
    ]);
    await bus.drain();

    expect(result.FailedEntryCount).toBe(5);
    expect(result.Entries.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'ok',
      'MalformedDetail',
      'MalformedDetail',
      'NotAuthorizedForSourceException',
      'ResourceNotFoundException',
      'InvalidArgument',
      'ok',
    ]);
    expect(received.map((e) => e.id)).toEqual([result.Entries[0]?.EventId, result.Entries[6]?.EventId]);
  });

  it('PutEvents: no entry is taken from a request over 10 entries or 256 KiB', () => {
    const bus = new LocalEventBus();
    const entry = { Source: 'x', DetailType: 'y', Detail: '{}', EventBusName: 'slipway' };
    expect(() => bus.putEvents(Array.from({ length: 11 }, () => entry))).toThrow(PutEventsValidationError);
    expect(() => bus.putEvents([])).toThrow(PutEventsValidationError);
    const big = { ...entry, Detail: JSON.stringify({ pad: 'x'.repeat(130 * 1024) }) };
    expect(() => bus.putEvents([big, big])).toThrow(PutEventsValidationError);
    expect(bus.history()).toEqual([]);
  });

  it('publish batches by 10 and reports failed entries with EventPublishError', async () => {
    const bus = new LocalEventBus();
    const events = Array.from({ length: 23 }, (_, i) => accountVendedEvent({ accountId: `2222333344${String(i).padStart(2, '0')}`, accountName: `a${i}`, organizationalUnit: {} }));

    await bus.publish(events);
    bus.failNextEntries(2, 'ThrottlingException');
    const error = await bus.publish(events.slice(0, 3)).catch((e: unknown) => e);

    expect(bus.history({ detailType: DetailType.AccountVended })).toHaveLength(24);
    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as EventPublishError).failures.map((f) => f.errorCode)).toEqual(['ThrottlingException', 'ThrottlingException']);
  });

  it('publish refuses an event over 256 KiB before sending anything', async () => {
    const bus = new LocalEventBus();
    const huge = accountVendedEvent({ accountId: '222233334444', accountName: 'x', organizationalUnit: {}, tags: { pad: 'x'.repeat(200) } });
    const tooBig = { ...huge, detail: { ...huge.detail, tags: Object.fromEntries(Array.from({ length: 1100 }, (_, i) => [`k${i}`, 'x'.repeat(250)])) } };

    await expect(bus.publish([huge, tooBig])).rejects.toThrow(EventTooLargeError);
    expect(bus.history()).toEqual([]);
  });

  it('retries a failing target, then records a dead letter without crashing the bus', async () => {
    const bus = new LocalEventBus({ maxAttempts: 3, retryDelayMs: 1 });
    let calls = 0;
    let flakyCalls = 0;
    const ok = collector();
    bus.addRule({
      name: 'broken',
      pattern: FAILURE_PATTERN,
      target: () => {
        calls++;
        throw new TypeError('boom');
      },
    });
    bus.addRule({
      name: 'flaky',
      pattern: FAILURE_PATTERN,
      target: async () => {
        flakyCalls++;
        if (flakyCalls < 2) throw new Error('once');
      },
    });
    bus.addRule({ name: 'fine', pattern: FAILURE_PATTERN, target: ok.target });

    await bus.publish(clusterPhaseEvents({ ...cluster, phase: 'Failed', message: 'machine failed' }, 'Provisioning', new Date(), { name: 'MachineFailedError', cause: 'x' }));
    await bus.drain();

    expect(calls).toBe(3);
    expect(flakyCalls).toBe(2);
    expect(ok.received).toHaveLength(1);
    const dead = bus.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ rule: 'broken', bus: 'slipway', attempts: 3, error: { name: 'TypeError', message: 'boom' } });
    expect(dead[0]?.event['detail-type']).toBe(DetailType.ClusterFailed);
  });

  it('drain waits for events that targets put while handling others', async () => {
    const bus = new LocalEventBus();
    const seen = collector();
    bus.addRule({
      name: 'on-vended',
      pattern: ACCOUNT_VENDED_PATTERN,
      target: async (e) => {
        await new Promise((r) => setTimeout(r, 5));
        bus.putEvents([{ Source: 'slipway', DetailType: 'Account Onboarded', Detail: JSON.stringify({ accountId: e.detail.accountId }), EventBusName: 'slipway' }]);
      },
    });
    bus.addRule({ name: 'onboarded', pattern: { 'detail-type': ['Account Onboarded'] }, target: seen.target });

    bus.putEvents([{ Source: 'vendor', DetailType: 'Account Vended', Detail: '{"accountId":"222233334444"}', EventBusName: 'slipway' }]);
    await bus.flush();

    expect(seen.received.map((e) => e.detail.accountId)).toEqual(['222233334444']);
  });

  it('targets get their own copy: mutating it changes neither history nor other targets', async () => {
    const bus = new LocalEventBus();
    const other = collector();
    bus.addRule({
      name: 'mutator',
      pattern: ACCOUNT_VENDED_PATTERN,
      target: (e) => {
        e.detail.accountId = 'changed';
      },
    });
    bus.addRule({ name: 'reader', pattern: ACCOUNT_VENDED_PATTERN, target: other.target });

    bus.putEvents([{ Source: 'vendor', DetailType: 'Account Vended', Detail: '{"accountId":"1"}', EventBusName: 'slipway' }]);
    await bus.drain();

    expect(other.received[0]?.detail.accountId).toBe('1');
    expect(bus.history()[0]?.event.detail.accountId).toBe('1');
  });

  it('keeps a bounded history, oldest dropped, filterable by pattern', () => {
    const bus = new LocalEventBus({ historyLimit: 3 });
    for (let i = 0; i < 5; i++) {
      bus.putEvents([{ Source: 'vendor', DetailType: 'Account Vended', Detail: JSON.stringify({ n: i }), EventBusName: 'slipway' }]);
    }
    expect(bus.history().map((r) => r.event.detail.n)).toEqual([2, 3, 4]);
    expect(bus.history({ pattern: { detail: { n: [{ numeric: ['>=', 4] }] } } }).map((r) => r.event.detail.n)).toEqual([4]);
    bus.clear();
    expect(bus.history()).toEqual([]);
  });

  it('manages buses and rules like EventBridge', () => {
    const bus = new LocalEventBus();
    const target = () => undefined;
    bus.addRule({ name: 'r', pattern: CLUSTER_EVENTS_PATTERN, target });

    expect(() => bus.addRule({ name: 'r', pattern: CLUSTER_EVENTS_PATTERN, target })).toThrow(RuleAlreadyExistsError);
    expect(() => bus.addRule({ name: 'r', bus: 'team', pattern: CLUSTER_EVENTS_PATTERN, target })).toThrow(UnknownEventBusError);
    expect(() => bus.addRule({ name: 'bad', pattern: { source: 'slipway' } as never, target })).toThrow(InvalidEventPatternError);
    bus.createBus('team');
    bus.addRule({ name: 'r', bus: 'team', pattern: CLUSTER_EVENTS_PATTERN, target });
    expect(bus.rules().map((r) => `${r.bus}/${r.name}`)).toEqual(['slipway/r', 'team/r']);
    expect(bus.removeRule('r')).toBe(true);
    expect(bus.rules().map((r) => `${r.bus}/${r.name}`)).toEqual(['team/r']);
    expect(() => bus.putEnvelope(fixture(), 'nowhere')).toThrow(UnknownEventBusError);
  });
});
