/**
 * The EventPublisher port (what steps and handlers publish through) and its EventBridge adapter. The local
 * runtime's implementation is local/eventbus.ts.
 *
 * PutEvents does not fail as a whole when some entries fail: it answers 200 with `FailedEntryCount` and an
 * `ErrorCode` per failed entry. Ignoring that silently loses events, so the adapter re-sends exactly the
 * failed entries with backoff and then throws a named error the workflow can Retry/Catch.
 */
import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { SlipwayEvent } from './schemas.ts';

export interface EventPublisher {
  /** Publishes every event or throws EventPublishError (some may have been published: consumers dedupe). */
  publish(events: readonly SlipwayEvent[]): Promise<void>;
}

/** PutEvents accepts at most 10 entries per request. */
export const MAX_ENTRIES_PER_REQUEST = 10;
/** 256 KiB: the limit of one entry and of one request, in EventBridge's own size arithmetic. */
export const MAX_ENTRY_BYTES = 256 * 1024;

export interface EntryFailure {
  source: string;
  detailType: string;
  errorCode: string;
  errorMessage: string;
}

/** Some events could not be published (after retries), or the request itself failed. */
export class EventPublishError extends Error {
  override readonly name: string = 'EventPublishError';
  constructor(
    message: string,
    readonly failures: readonly EntryFailure[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An entry is over 256 KiB: it can never be published, so nothing of the call is sent. */
export class EventTooLargeError extends EventPublishError {
  override readonly name = 'EventTooLargeError';
}

/**
 * EventBridge's documented entry size: UTF-8 bytes of Source, DetailType, Detail and each resource, plus 14
 * for a Time.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time === undefined ? 0 : 14;
  for (const text of [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])]) {
    if (text !== undefined) size += Buffer.byteLength(text, 'utf8');
  }
  return size;
}

/** The PutEvents entry of an event; the envelope `time` is the detail's, when it has one. */
export function toPutEventsEntry(event: SlipwayEvent, eventBusName: string): PutEventsRequestEntry {
  const time = 'time' in event.detail ? new Date(event.detail.time) : undefined;
  return {
    Source: event.source,
    DetailType: event.detailType,
    Detail: JSON.stringify(event.detail),
    EventBusName: eventBusName,
    ...(time === undefined ? {} : { Time: time }),
  };
}

/**
 * Splits entries into PutEvents requests: at most 10 entries and 256 KiB each, order kept. Throws
 * EventTooLargeError (before anything is sent) when one entry alone is too large.
 */
export function batchEntries(entries: readonly PutEventsRequestEntry[]): PutEventsRequestEntry[][] {
  const batches: PutEventsRequestEntry[][] = [];
  let current: PutEventsRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (size > MAX_ENTRY_BYTES) {
      const failure = failureOf(entry, 'EntryTooLarge', `entry is ${size} bytes, over the ${MAX_ENTRY_BYTES}-byte limit`);
      throw new EventTooLargeError(`"${entry.DetailType}" event is ${size} bytes, over EventBridge's ${MAX_ENTRY_BYTES}`, [failure]);
    }
    if (current.length === MAX_ENTRIES_PER_REQUEST || bytes + size > MAX_ENTRY_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function failureOf(entry: PutEventsRequestEntry, errorCode: string, errorMessage: string): EntryFailure {
  return { source: entry.Source ?? '', detailType: entry.DetailType ?? '', errorCode, errorMessage };
}

export interface EventBridgePublisherOptions {
  /** Name or ARN of the Slipway bus. */
  eventBusName: string;
  /** Sends of a failed entry in all, the first included (default 4). */
  maxAttempts?: number;
  /** First backoff; doubles per attempt, capped at `maxDelayMs`, with full jitter (default 100 ms). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injected so tests neither wait nor depend on randomness. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export class EventBridgePublisher implements EventPublisher {
  private readonly eventBusName: string;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly client: EventBridgeClient,
    options: EventBridgePublisherOptions,
  ) {
    this.eventBusName = options.eventBusName;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 2_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  async publish(events: readonly SlipwayEvent[]): Promise<void> {
    if (events.length === 0) return;
    const batches = batchEntries(events.map((e) => toPutEventsEntry(e, this.eventBusName)));
    // Batches are independent: one that keeps failing must not keep the others from being published.
    const failures: EntryFailure[] = [];
    let requestError: unknown;
    for (const batch of batches) {
      try {
        failures.push(...(await this.sendWithRetries(batch)));
      } catch (err) {
        requestError ??= err;
        failures.push(...batch.map((e) => failureOf(e, errorName(err), err instanceof Error ? err.message : String(err))));
      }
    }
    if (failures.length > 0) {
      const codes = [...new Set(failures.map((f) => f.errorCode))].join(', ');
      throw new EventPublishError(
        `${failures.length} of ${events.length} events not published to ${this.eventBusName} (${codes})`,
        failures,
        requestError === undefined ? undefined : { cause: requestError },
      );
    }
  }

  /** Returns the entries still failed after the last attempt; throws when the request itself fails. */
  private async sendWithRetries(batch: PutEventsRequestEntry[]): Promise<EntryFailure[]> {
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      // The SDK already retries throttling and 5xx of the request as a whole; what is left is an error.
      const out = await this.client.send(new PutEventsCommand({ Entries: pending }));
      if (!out.FailedEntryCount) return [];
      const results = out.Entries ?? [];
      const failed: { entry: PutEventsRequestEntry; errorCode: string; errorMessage: string }[] = [];
      pending.forEach((entry, i) => {
        const result = results[i];
        // A missing result for an entry is as good as a failure: we cannot know it was accepted.
        if (result === undefined || result.ErrorCode !== undefined || result.EventId === undefined) {
          failed.push({ entry, errorCode: result?.ErrorCode ?? 'Unknown', errorMessage: result?.ErrorMessage ?? 'no result for the entry' });
        }
      });
      if (failed.length === 0) return [];
      if (attempt >= this.maxAttempts) return failed.map((f) => failureOf(f.entry, f.errorCode, f.errorMessage));
      pending = failed.map((f) => f.entry);
      await this.sleep(this.backoff(attempt));
    }
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling * this.random());
  }
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'Error';
}
