/**
 * KubeClient — the narrow port every CAPI step talks through (in the spirit of clusterctl's ClusterProxy):
 * get / list / create / replace / apply / mergePatch / delete / ensureNamespace, nothing else. What
 * `createKubeClient` returns also has `createSubresource` for the few POST-only subresources (a ServiceAccount's
 * `token`), kept out of the port so that fakes of it stay small.
 *
 * - Custom resources are never strategic-merge patched (real servers answer 415): writes are server-side
 *   apply with field manager `slipway`, JSON merge patch, create or replace.
 * - Every write is safe to repeat: delete treats 404 as done, ensureNamespace tolerates AlreadyExists, apply
 *   converges; callers that `create` handle `KubeAlreadyExistsError` (a retried create may have landed).
 * - Transient failures (5xx, 429, timeouts, connection resets) are retried in place with exponential backoff,
 *   as clusterctl does (writes 500 ms ×1.5, reads 250 ms ×1.5); when attempts run out the call throws
 *   `KubeTransientError`, which the state machine Retries. Other failures are mapped to named errors.
 * - Objects go in and come back as plain wire JSON (wire.ts converts at the client-node boundary: its models
 *   rename a few fields and turn timestamps into Dates).
 */
import {
  ApiException,
  createConfiguration,
  HttpMethod,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type RequestContext,
  ServerConfiguration,
} from '@kubernetes/client-node';
import {
  KubeAlreadyExistsError,
  KubeApiError,
  type KubeErrorContext,
  KubeConflictError,
  KubeKindNotServedError,
  KubeNotFoundError,
  KubeTransientError,
} from './errors.ts';
import type { KubeObject, ObjectRef } from './types.ts';
import { fromModel, toModel } from './wire.ts';

export const FIELD_MANAGER = 'slipway';

export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  initialMs: number;
  factor: number;
}

export interface ListOptions {
  namespace?: string;
  /** `a=b,c` syntax or a map of equalities. */
  labelSelector?: string | Record<string, string>;
}

export interface ApplyOptions {
  /** Take over fields another manager owns: only for objects Slipway owns. */
  force?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
}

/** `deleted`: gone now; `pending`: finalizers hold it (deletionTimestamp set); `absent`: was not there. */
export type DeleteOutcome = 'deleted' | 'pending' | 'absent';

export interface KubeClient {
  /** A name for messages (e.g. `management`, `workload/dev-1`). */
  readonly cluster: string;
  /** The object, or null when it (or its kind) does not exist. */
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | null>;
  /** Every page; throws KubeKindNotServedError when the kind is unknown to the server. */
  list<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, opts?: ListOptions): Promise<T[]>;
  /** Throws KubeAlreadyExistsError when the name is taken. Status is dropped by the server. */
  create<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T>;
  /** PUT; `metadata.resourceVersion` must be current (KubeConflictError otherwise). */
  replace<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T>;
  /** Server-side apply with field manager `slipway`; creates when missing. */
  apply<T extends KubeObject = KubeObject>(obj: KubeObject, opts?: ApplyOptions): Promise<T>;
  /** RFC 7386 merge patch (null deletes a field). KubeNotFoundError when missing. */
  mergePatch<T extends KubeObject = KubeObject>(ref: ObjectRef, patch: Record<string, unknown>): Promise<T>;
  delete(ref: ObjectRef, opts?: DeleteOptions): Promise<DeleteOutcome>;
  /** Creates the namespace if missing; merges `labels` into it when given. */
  ensureNamespace(name: string, labels?: Record<string, string>): Promise<void>;
}

/** The port plus subresource creation: what `createKubeClient` builds. */
export interface SubresourceKubeClient extends KubeClient {
  /**
   * POST `body` to a subresource of the object `ref` names (e.g. a TokenRequest to `serviceaccounts/<n>/token`)
   * and return the answer. KubeNotFoundError when the object is missing. Not idempotent: retried like every
   * write, so a retry after a lost answer makes a second one (harmless for tokens).
   */
  createSubresource<T extends KubeObject = KubeObject>(ref: ObjectRef, subresource: string, body: KubeObject): Promise<T>;
}

export interface KubeClientOptions {
  /** Name used in error messages. */
  cluster?: string;
  fieldManager?: string;
  retry?: { read?: Partial<RetryPolicy>; write?: Partial<RetryPolicy> };
  sleep?: (ms: number) => Promise<void>;
  /**
   * Called once when the server answers 401 (an expired or revoked bearer token, e.g. EKS after clock skew):
   * it should drop cached credentials so the API source builds fresh ones; the call is then retried once.
   */
  reauthenticate?: () => void | Promise<void>;
}

/** Where the client-node API object comes from: fixed, or rebuilt (EKS tokens expire; see connect.ts). */
export type ObjectApiSource = () => PooledObjectApi | Promise<PooledObjectApi>;

export const DEFAULT_READ_RETRY: RetryPolicy = { attempts: 5, initialMs: 250, factor: 1.5 };
export const DEFAULT_WRITE_RETRY: RetryPolicy = { attempts: 5, initialMs: 500, factor: 1.5 };

const PAGE_SIZE = 500;
const TRANSIENT_CODES = new Set([429, 500, 502, 503, 504]);
const NETWORK_ERROR = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|UND_ERR|socket hang up|other side closed|fetch failed|network|timed? ?out|aborted/i;

export function createKubeClient(source: KubeConfig | ObjectApiSource, opts: KubeClientOptions = {}): SubresourceKubeClient {
  const apiSource: ObjectApiSource = typeof source === 'function' ? source : fixedApi(source);
  return new ObjectApiKubeClient(apiSource, opts);
}

function fixedApi(kc: KubeConfig): ObjectApiSource {
  const api = PooledObjectApi.forConfig(kc);
  return () => api;
}

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * client-node 2.0 builds a new undici Agent — a new TCP (and TLS) connection — for every request when the
 * cluster has TLS options, and each lingers until the server's keep-alive timeout. A step makes hundreds of
 * requests: keep the first Agent of a KubeConfig and reuse it (its TLS options never change).
 */
export class PooledObjectApi extends KubernetesObjectApi {
  static forConfig(kc: KubeConfig): PooledObjectApi {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error('the kubeconfig has no current cluster');
    let shared: Dispatcher | undefined;
    const auth = {
      getName: () => 'kubeconfig with a shared connection pool',
      applySecurityAuthentication: async (ctx: RequestContext) => {
        await kc.applySecurityAuthentication(ctx);
        const made = ctx.getDispatcher();
        if (made === undefined) return;
        if (shared === undefined) shared = made;
        else ctx.setDispatcher(shared);
      },
    };
    const api = new PooledObjectApi(createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: auth } }));
    api.setDefaultNamespace(kc);
    return api;
  }

  /**
   * POST to `<object path>/<subresource>`: KubernetesObjectApi only addresses objects, and the typed APIs
   * would need a second client per cluster. Discovery resolves the object's path as for any other call.
   */
  async createSubresource(owner: KubernetesObject, subresource: string, body: unknown, fieldManager: string): Promise<KubernetesObject> {
    const path = `${await this.specUriPath(owner, 'read')}/${encodeURIComponent(subresource)}`;
    const ctx = this.configuration.baseServer.makeRequestContext(path, HttpMethod.POST);
    ctx.setHeaderParam('Accept', 'application/json, */*;q=0.8');
    ctx.setHeaderParam('Content-Type', 'application/json');
    ctx.setQueryParam('fieldManager', fieldManager);
    ctx.setBody(JSON.stringify(body));
    return this.requestPromise(ctx);
  }
}

class ObjectApiKubeClient implements SubresourceKubeClient {
  readonly cluster: string;
  private readonly fieldManager: string;
  private readonly readRetry: RetryPolicy;
  private readonly writeRetry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly reauthenticate: (() => void | Promise<void>) | undefined;

  constructor(
    private readonly api: ObjectApiSource,
    opts: KubeClientOptions,
  ) {
    this.cluster = opts.cluster ?? 'cluster';
    this.fieldManager = opts.fieldManager ?? FIELD_MANAGER;
    this.readRetry = { ...DEFAULT_READ_RETRY, ...opts.retry?.read };
    this.writeRetry = { ...DEFAULT_WRITE_RETRY, ...opts.retry?.write };
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.reauthenticate = opts.reauthenticate;
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | null> {
    try {
      return await this.call('get', ref, this.readRetry, async (api) => plain<T>(await api.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: header(ref).metadata })));
    } catch (err) {
      if (err instanceof KubeNotFoundError || err instanceof KubeKindNotServedError) return null;
      throw err;
    }
  }

  async list<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, opts: ListOptions = {}): Promise<T[]> {
    const selector = typeof opts.labelSelector === 'string' ? opts.labelSelector : selectorText(opts.labelSelector);
    const ref = { apiVersion, kind, name: '*', ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }) };
    const out: T[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('list', ref, this.readRetry, (api) =>
        api.list(apiVersion, kind, opts.namespace, undefined, undefined, undefined, undefined, selector, PAGE_SIZE, token),
      );
      for (const item of page.items) {
        // List items carry no apiVersion/kind on a real server.
        out.push(plain<T>({ ...item, apiVersion, kind }));
      }
      token = page.metadata?._continue || undefined;
    } while (token !== undefined);
    return out;
  }

  create<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    return this.call('create', refFrom(obj), this.writeRetry, async (api) => plain<T>(await api.create(wire(obj), undefined, undefined, this.fieldManager)));
  }

  replace<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    return this.call('replace', refFrom(obj), this.writeRetry, async (api) => plain<T>(await api.replace(wire(obj), undefined, undefined, this.fieldManager)));
  }

  apply<T extends KubeObject = KubeObject>(obj: KubeObject, opts: ApplyOptions = {}): Promise<T> {
    // managedFields must not be sent with an apply configuration.
    const { managedFields: _m, resourceVersion: _rv, uid: _u, creationTimestamp: _c, ...metadata } = obj.metadata;
    const body: KubeObject = { ...obj, metadata };
    return this.call('apply', refFrom(obj), this.writeRetry, async (api) =>
      plain<T>(await api.patch(wire(body), undefined, undefined, this.fieldManager, opts.force === true, PatchStrategy.ServerSideApply)),
    );
  }

  mergePatch<T extends KubeObject = KubeObject>(ref: ObjectRef, patch: Record<string, unknown>): Promise<T> {
    // client-node takes the path from the body: name/namespace/kind/apiVersion are part of it (harmless in a merge patch).
    const meta = (patch.metadata ?? {}) as Record<string, unknown>;
    const body = { ...patch, apiVersion: ref.apiVersion, kind: ref.kind, metadata: { ...meta, ...header(ref).metadata } } as KubeObject;
    return this.call('patch', ref, this.writeRetry, async (api) =>
      plain<T>(await api.patch(wire(body), undefined, undefined, this.fieldManager, undefined, PatchStrategy.MergePatch)),
    );
  }

  async delete(ref: ObjectRef, opts: DeleteOptions = {}): Promise<DeleteOutcome> {
    try {
      const answer = await this.call('delete', ref, this.writeRetry, (api) =>
        api.delete(wire(header(ref)), undefined, undefined, undefined, undefined, opts.propagationPolicy),
      );
      // A Status means removed; the object itself comes back when finalizers hold it.
      return answer.kind === undefined || answer.kind === 'Status' ? 'deleted' : 'pending';
    } catch (err) {
      if (err instanceof KubeNotFoundError || err instanceof KubeKindNotServedError) return 'absent';
      throw err;
    }
  }

  async ensureNamespace(name: string, labels?: Record<string, string>): Promise<void> {
    const ref = { apiVersion: 'v1', kind: 'Namespace', name };
    const existing = await this.get(ref);
    if (existing === null) {
      try {
        await this.create({ ...ref, metadata: { name, ...(labels === undefined ? {} : { labels }) } });
        return;
      } catch (err) {
        if (!(err instanceof KubeAlreadyExistsError)) throw err;
      }
    }
    if (labels === undefined) return;
    const current = existing?.metadata.labels ?? (await this.get(ref))?.metadata.labels ?? {};
    if (Object.entries(labels).every(([k, v]) => current[k] === v)) return;
    await this.mergePatch(ref, { metadata: { labels } });
  }

  createSubresource<T extends KubeObject = KubeObject>(ref: ObjectRef, subresource: string, body: KubeObject): Promise<T> {
    return this.call(`create ${subresource} of`, ref, this.writeRetry, async (api) =>
      plain<T>(await api.createSubresource(wire(header(ref)), subresource, body, this.fieldManager)),
    );
  }

  /** Runs one API call with in-place retries of transient failures, mapping every failure to a named error. */
  private async call<R>(verb: string, ref: ObjectRef | undefined, policy: RetryPolicy, fn: (api: PooledObjectApi) => Promise<R>): Promise<R> {
    let delay = policy.initialMs;
    let reauthenticated = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(await this.api());
      } catch (err) {
        const mapped = toKubeError(err, { verb, ref, code: 0, cluster: this.cluster });
        if (mapped instanceof KubeApiError && mapped.code === 401 && this.reauthenticate !== undefined && !reauthenticated) {
          reauthenticated = true;
          attempt--;
          await this.reauthenticate();
          continue;
        }
        if (!(mapped instanceof KubeTransientError) || attempt >= policy.attempts) throw mapped;
        await this.sleep(delay);
        delay *= policy.factor;
      }
    }
  }
}

/** Maps anything client-node throws to a named error. Exported for the connection code and tests. */
export function toKubeError(err: unknown, context: KubeErrorContext): Error {
  if (err instanceof KubeApiError) return err;
  if (err instanceof ApiException) {
    const code = typeof err.code === 'number' ? err.code : 0;
    const status = parseStatus(err.body);
    const ctx = { ...context, code, reason: status.reason };
    const message = status.message ?? `HTTP ${code}`;
    const options = { cause: err };
    if (code === 404) {
      // A 404 from discovery (the group/version is not served) surfaces through resource(): a kind problem.
      const fromDiscovery = err.message.includes('Failed to fetch resource metadata');
      return fromDiscovery ? new KubeKindNotServedError(message, ctx, options) : new KubeNotFoundError(message, ctx, options);
    }
    if (code === 409 && status.reason === 'AlreadyExists') return new KubeAlreadyExistsError(message, ctx, options);
    if (code === 409) return new KubeConflictError(message, ctx, options);
    if (TRANSIENT_CODES.has(code) || status.reason === 'Timeout' || status.reason === 'ServerTimeout') return new KubeTransientError(message, ctx, options);
    return new KubeApiError(message, ctx, options);
  }
  if (err instanceof Error) {
    if (/Unrecognized API version and kind/.test(err.message)) return new KubeKindNotServedError(err.message, context, { cause: err });
    const causeText = err.cause instanceof Error ? `${err.cause.message} ${(err.cause as { code?: unknown }).code ?? ''}` : '';
    const code = (err as { code?: unknown }).code;
    if (NETWORK_ERROR.test(`${err.name} ${err.message} ${causeText} ${typeof code === 'string' ? code : ''}`)) {
      return new KubeTransientError(`no answer (${err.message})`, context, { cause: err });
    }
    return new KubeApiError(err.message, context, { cause: err });
  }
  return new KubeApiError(String(err), context);
}

function parseStatus(body: unknown): { reason?: string; message?: string } {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return { message: body.slice(0, 300) };
    }
  }
  if (typeof value !== 'object' || value === null) return {};
  const s = value as { reason?: unknown; message?: unknown };
  return {
    ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
    ...(typeof s.message === 'string' ? { message: s.message } : {}),
  };
}

/** What client-node's serializer expects for this object (see wire.ts). */
function wire(obj: KubeObject): KubernetesObject {
  return toModel(obj);
}

function header(ref: ObjectRef): KubeObject {
  return { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }) } };
}

function refFrom(obj: KubeObject): ObjectRef {
  const ns = obj.metadata.namespace;
  return { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, ...(ns === undefined || ns === '' ? {} : { namespace: ns }) };
}

function selectorText(labels: Record<string, string> | undefined): string | undefined {
  if (labels === undefined) return undefined;
  const parts = Object.entries(labels).map(([k, v]) => (v === '' ? `${k}=` : `${k}=${v}`));
  return parts.length === 0 ? undefined : parts.join(',');
}

/** Wire JSON of what client-node returned: field names as the server writes them, Dates as RFC 3339 strings. */
function plain<T>(value: KubernetesObject): T {
  return fromModel<T>(value);
}
