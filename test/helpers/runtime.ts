/**
 * The whole local runtime — API, DynamoDB Local, the real ASL on the local Step Functions runner, the step
 * handlers, the local event bus and the CAPI simulator — in a temporary data dir, for end-to-end suites.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from '../../local/runtime.ts';
import type { CallOptions, CallResult } from './api.ts';

export interface RuntimeHarness {
  runtime: LocalRuntime;
  dataDir: string;
  token(who: { sub: string; groups?: readonly string[] }): Promise<string>;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  /** Polls GET until `done` says so (or fails after `timeoutMs`). */
  waitFor<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** Fast everything: simulator `fast` profile, Waits and retries at 1 % of real time. */
export const FAST: Partial<LocalRuntimeOptions> = {
  timeFactor: 0.01,
  simulator: { profile: 'fast', seed: 7 },
  seed: true,
};

export async function startRuntimeHarness(options: Partial<LocalRuntimeOptions> = {}, dataDir?: string): Promise<RuntimeHarness> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'slipway-rt-')));
  const runtime = await startLocalRuntime({ dataDir: dir, port: 0, ...FAST, ...options });
  return harnessOf(runtime, dir);
}

function harnessOf(runtime: LocalRuntime, dataDir: string): RuntimeHarness {
  const call = async (method: string, path: string, options: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${runtime.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, headers: Object.fromEntries(res.headers.entries()), body: parsed };
  };
  return {
    runtime,
    dataDir,
    token: (who) => runtime.issuer.issue({ sub: who.sub, groups: [...(who.groups ?? [])] }),
    call,
    async waitFor(what, probe, done, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        const value = await probe();
        if (done(value)) return value;
        last = value;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 2000)}`);
    },
    async close() {
      await runtime.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
