/**
 * The API as clients see it: the real handlers over a fresh table on DynamoDB Local, behind the local
 * API Gateway adapter with the local issuer's JWT verification. Workflow starts go to a recording
 * WorkflowStarter with Step Functions' exactly-once-by-name semantics (the workflows themselves are
 * exercised in test/workflows).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiDeps } from '../../functions/api/deps.ts';
import { buildApiHandlers } from '../../functions/api/registry.ts';
import { startLocalApiServer } from '../../local/http/server.ts';
import { LocalIssuer } from '../../local/issuer.ts';
import { loadPriceCatalog } from '../../shared/policy/cost.ts';
import type { Stores } from '../../shared/store/ports.ts';
import { canonicalJson, ExecutionAlreadyExistsError, type StartWorkflowRequest, type WorkflowStarter } from '../../shared/workflow/starter.ts';
import { freshStores } from './dynamo.ts';

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  /** Sent as is (for malformed JSON). */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any;
}

export interface ApiHarness {
  url: string;
  stores: Stores;
  /** Every workflow start, in order (repeated starts of one execution name are recorded once). */
  starts: StartWorkflowRequest[];
  /** The next start fails like a Step Functions outage. */
  failNextStart(): void;
  token(who: { sub: string; groups?: readonly string[]; email?: string }): Promise<string>;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

/** Exactly-once by execution name, like Step Functions: same name + same input → the same execution. */
export class RecordingWorkflowStarter implements WorkflowStarter {
  readonly starts: StartWorkflowRequest[] = [];
  private readonly byName = new Map<string, string>();
  private failures = 0;

  failNext(): void {
    this.failures += 1;
  }

  async start(request: StartWorkflowRequest): Promise<{ executionId: string }> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw Object.assign(new Error('Step Functions is unavailable'), { name: 'ServiceUnavailable' });
    }
    const key = `${request.workflow}/${request.name}`;
    const input = canonicalJson(request.input);
    const existing = this.byName.get(key);
    if (existing !== undefined && existing !== input) throw new ExecutionAlreadyExistsError(request.workflow, request.name);
    if (existing === undefined) {
      this.byName.set(key, input);
      this.starts.push(request);
    }
    return { executionId: `arn:aws:states:local:000000000000:execution:${request.workflow}:${request.name}` };
  }
}

/** What the handlers are built over; `management` and `kubeconfigTtl` serve the kubeconfig route. */
export type ApiHarnessDeps = Partial<ApiDeps> & Pick<Parameters<typeof buildApiHandlers>[0], 'management' | 'kubeconfigTtl'>;

export async function startApiHarness(overrides: ApiHarnessDeps = {}): Promise<ApiHarness> {
  const db = await freshStores();
  const dataDir = await mkdtemp(join(tmpdir(), 'slipway-api-'));
  const issuer = await LocalIssuer.open(dataDir);
  const workflows = new RecordingWorkflowStarter();
  const deps: Parameters<typeof buildApiHandlers>[0] = {
    adminGroup: 'slipway-admins',
    idempotency: db.stores.idempotency,
    stores: db.stores,
    workflows,
    prices: loadPriceCatalog(),
    clock: () => new Date(),
    ...overrides,
  };
  const server = await startLocalApiServer({ port: 0, handlers: buildApiHandlers(deps), verifier: issuer });

  return {
    url: server.url,
    stores: db.stores,
    starts: workflows.starts,
    failNextStart: () => workflows.failNext(),
    token: (who) => issuer.issue({ sub: who.sub, groups: [...(who.groups ?? [])], ...(who.email ? { email: who.email } : {}) }),
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined;
      if (options.rawBody !== undefined) body = options.rawBody;
      else if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      const res = await fetch(`${server.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text.length > 0 ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, headers: Object.fromEntries(res.headers.entries()), body: parsed };
    },
    async close() {
      await server.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
