/** The EventBridge adapter: request shapes, batching, partial failures retried entry by entry, named errors. */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  batchEntries,
  EventBridgePublisher,
  EventPublishError,
  EventTooLargeError,
  entrySize,
  MAX_ENTRY_BYTES,
} from '../../shared/events/publisher.ts';
import { accountVendedEvent, clusterPhaseEvents, type SlipwayEvent } from '../../shared/events/schemas.ts';

const eb = mockClient(EventBridgeClient);
const sleeps: number[] = [];

function publisher(maxAttempts = 3) {
  return new EventBridgePublisher(new EventBridgeClient({ region: 'eu-west-1' }), {
    eventBusName: 'slipway-bus',
    maxAttempts,
    baseDelayMs: 100,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 1,
  });
}

const cluster = {
  workspaceId: 'payments',
  name: 'dev',
  uid: 'c0ffee',
  generation: 2,
  phase: 'Ready' as const,
  step: 'mark-ready',
  message: 'ready',
  operation: 'update' as const,
  capiLocation: 'self' as const,
};

const vended = (i: number): SlipwayEvent =>
  accountVendedEvent({ accountId: `2222333344${String(i).padStart(2, '0')}`, accountName: `acct-${i}`, organizationalUnit: { name: 'Sandbox' } });

const sentEntries = (): PutEventsRequestEntry[][] => eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);

const accepted = (entries: readonly unknown[]) => ({ FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `id-${i}` })) });

beforeEach(() => {
  eb.reset();
  sleeps.length = 0;
});

describe('EventBridgePublisher', () => {
  it('sends Source, DetailType, EventBusName, Detail JSON and Time', async () => {
    // Prepare
    eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => accepted(input.Entries));
    const events = clusterPhaseEvents(cluster, 'Updating', new Date('2026-11-20T10:15:00.000Z'));

    // Act
    await publisher().publish(events);

    // Assess
    const [entries] = sentEntries();
    expect(entries).toHaveLength(2);
    expect(entries?.[0]).toEqual({
      Source: 'slipway',
      DetailType: 'Cluster Phase Changed',
      EventBusName: 'slipway-bus',
      Time: new Date('2026-11-20T10:15:00.000Z'),
      Detail: expect.any(String),
    });
    expect(JSON.parse(entries?.[0]?.Detail ?? '')).toEqual({
      schemaVersion: '1',
      cluster: { workspaceId: 'payments', name: 'dev', uid: 'c0ffee' },
      generation: 2,
      phase: 'Ready',
      previousPhase: 'Updating',
      step: 'mark-ready',
      message: 'ready',
      operation: 'update',
      capiLocation: 'self',
      time: '2026-11-20T10:15:00.000Z',
    });
    expect(entries?.[1]?.DetailType).toBe('Cluster Ready');
  });

  it('an event without a time (Account Vended) lets EventBridge stamp it', async () => {
    eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => accepted(input.Entries));
    await publisher().publish([vended(1)]);
    expect(sentEntries()[0]?.[0]).not.toHaveProperty('Time');
  });

  it('splits into requests of at most 10 entries, in order', async () => {
    eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => accepted(input.Entries));
    const events = Array.from({ length: 23 }, (_, i) => vended(i));

    await publisher().publish(events);

    const batches = sentEntries();
    expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
    expect(batches.flat().map((e) => JSON.parse(e.Detail ?? '{}').accountName)).toEqual(events.map((_, i) => `acct-${i}`));
  });

  it('re-sends only the failed entries, with backoff, until they are accepted', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }, { EventId: 'c' }, { ErrorCode: 'InternalFailure' }],
      })
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'b' }, { ErrorCode: 'InternalFailure' }] })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'd' }] });

    await publisher(4).publish([vended(0), vended(1), vended(2), vended(3)]);

    const names = sentEntries().map((b) => b.map((e) => JSON.parse(e.Detail ?? '{}').accountName));
    expect(names).toEqual([['acct-0', 'acct-1', 'acct-2', 'acct-3'], ['acct-1', 'acct-3'], ['acct-3']]);
    expect(sleeps).toEqual([100, 200]);
  });

  it('throws EventPublishError naming what stayed failed after the last attempt', async () => {
    eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((_, i) => (i === input.Entries.length - 1 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try later' } : { EventId: `e${i}` })),
    }));

    const error = await publisher(3).publish([vended(0), vended(1)]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as EventPublishError).name).toBe('EventPublishError');
    expect((error as EventPublishError).failures).toEqual([
      { source: 'slipway', detailType: 'Account Vended', errorCode: 'InternalFailure', errorMessage: 'try later' },
    ]);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(3);
    expect(sentEntries()[2]?.map((e) => JSON.parse(e.Detail ?? '{}').accountName)).toEqual(['acct-1']);
  });

  it('a rejected request fails its batch, the other batches are still sent', async () => {
    eb.on(PutEventsCommand)
      .rejectsOnce(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }))
      .callsFake((input: { Entries: unknown[] }) => accepted(input.Entries));

    const error = await publisher().publish(Array.from({ length: 12 }, (_, i) => vended(i))).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as EventPublishError).failures).toHaveLength(10);
    expect((error as EventPublishError).failures[0]?.errorCode).toBe('AccessDeniedException');
    expect((error as Error).cause).toMatchObject({ name: 'AccessDeniedException' });
    expect(sentEntries().map((b) => b.length)).toEqual([10, 2]);
  });

  it('refuses an entry over 256 KiB before sending anything', async () => {
    const big = vended(1);
    const tooBig = { ...big, detail: { ...big.detail, tags: { pad: 'x'.repeat(MAX_ENTRY_BYTES) } } } as SlipwayEvent;

    await expect(publisher().publish([big, tooBig])).rejects.toThrow(EventTooLargeError);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('publishing nothing sends nothing', async () => {
    await publisher().publish([]);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});

describe('entry size and batching', () => {
  it('computes the size as EventBridge documents it', () => {
    const entry = { Source: 'slipway', DetailType: 'Cluster Ready', Detail: '{"é":1}', Resources: ['arn:x'], Time: new Date() };
    expect(entrySize(entry)).toBe(14 + 7 + 13 + Buffer.byteLength('{"é":1}') + 5);
    expect(entrySize({ Source: 's', DetailType: 'd', Detail: '{}' })).toBe(4);
  });

  it('starts a new request before 256 KiB in total', () => {
    const entry = (kib: number) => ({ Source: 's', DetailType: 'd', Detail: JSON.stringify({ p: 'x'.repeat(kib * 1024 - 20) }) });
    const batches = batchEntries([entry(100), entry(100), entry(100), entry(10)]);
    expect(batches.map((b) => b.length)).toEqual([2, 2]);
  });
});
