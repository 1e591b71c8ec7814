/**
 * The HTTP toolkit every API route group is built with: one middy handler per group, a small route table
 * keyed by the API Gateway route key, and the cross-cutting concerns as middlewares — problem+json errors,
 * JSON body limits, the caller from the JWT claims, Idempotency-Key on POST, one access-log line.
 */
import { createHash } from 'node:crypto';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod';
import { type Caller, callerFromEvent } from '../auth/caller.ts';
import {
  IdempotencyKeyInProgressError,
  IdempotencyKeyMismatchError,
  MalformedRequestError,
  NotFoundError,
  PayloadTooLargeError,
  SlipwayError,
  ThrottledError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../errors.ts';
import { createLogger } from '../log.ts';
import type { IdempotencyStore } from '../store/ports.ts';
import { internalProblem, problemOf, problemResponse } from './problem.ts';

export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type ApiResponse = APIGatewayProxyStructuredResultV2;
export type ApiHandler = (event: ApiEvent, context: Context) => Promise<ApiResponse>;

/** Slipway's own limit on request bodies (API Gateway allows more). */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiRequest {
  event: ApiEvent;
  routeKey: string;
  /** Null only on public routes. */
  caller: Caller;
  params: Record<string, string>;
  query: Record<string, string>;
  /** Parsed JSON body, undefined when there is none. */
  body: unknown;
  requestId: string;
}

export interface ApiResult {
  status: number;
  /** Serialised as JSON. */
  body?: unknown;
  /** Sent as is instead of `body` (e.g. YAML); set the content-type header. */
  raw?: string;
  headers?: Record<string, string>;
}

export type Route<D> = (req: ApiRequest, deps: D) => Promise<ApiResult>;

export interface HttpDeps {
  adminGroup: string;
  idempotency: IdempotencyStore;
}

export interface RouteGroupOptions {
  /** Route keys that need no caller (the JWT authorizer is off for them too). */
  publicRoutes?: readonly string[];
}

const log = createLogger({ component: 'api' });

/**
 * Builds the Lambda handler of one route group. `deps` is a factory so that clients are created once per
 * container, lazily (cold start pays for it once; tests pass ready-made deps).
 */
export function routeGroup<D extends HttpDeps>(
  routes: Record<string, Route<D>>,
  deps: () => D,
  options: RouteGroupOptions = {},
): ApiHandler {
  let built: D | undefined;
  const getDeps = () => {
    built ??= deps();
    return built;
  };
  const publicRoutes = new Set(options.publicRoutes ?? []);

  const core = async (event: ApiEvent): Promise<ApiResponse> => {
    const d = getDeps();
    const route = routes[event.routeKey];
    if (!route) throw new NotFoundError(`no route ${event.routeKey}`);
    const caller = publicRoutes.has(event.routeKey) ? anonymous() : callerFromEvent(event, d.adminGroup);
    const req: ApiRequest = {
      event,
      routeKey: event.routeKey,
      caller,
      params: decodeParams(event.pathParameters),
      query: (event.queryStringParameters ?? {}) as Record<string, string>,
      body: parseBody(event),
      requestId: event.requestContext.requestId,
    };
    return withIdempotency(req, d.idempotency, async () => toResponse(await route(req, d)));
  };

  return middy<ApiEvent, ApiResponse>()
    .use(accessLog())
    .use(problemDetails())
    .handler(core) as unknown as ApiHandler;
}

function anonymous(): Caller {
  return { sub: '', principal: '', principals: [], groups: [], email: null, isAdmin: false };
}

function decodeParams(p: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p ?? {})) {
    if (v === undefined) continue;
    // API Gateway passes path parameters still percent-encoded (e.g. `user%3Abob`).
    try {
      out[k] = decodeURIComponent(v);
    } catch {
      throw new MalformedRequestError(`path parameter ${k} is not valid percent-encoding`);
    }
  }
  return out;
}

function header(event: ApiEvent, name: string): string | undefined {
  const h = event.headers ?? {};
  return h[name] ?? h[name.toLowerCase()];
}

function parseBody(event: ApiEvent): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) throw new PayloadTooLargeError(`request bodies are limited to ${MAX_BODY_BYTES} bytes`);
  const type = (header(event, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new UnsupportedMediaTypeError('send the body as application/json');
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new MalformedRequestError(`the body is not valid JSON: ${(error as Error).message}`);
  }
}

function toResponse(result: ApiResult): ApiResponse {
  const headers: Record<string, string> = { ...result.headers };
  if (result.raw !== undefined) return { statusCode: result.status, headers, body: result.raw };
  if (result.body === undefined) return { statusCode: result.status, headers };
  headers['content-type'] ??= 'application/json';
  return { statusCode: result.status, headers, body: JSON.stringify(result.body) };
}

/** Validates with a zod schema; every issue becomes a field error of one 400. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, what = 'body'): z.infer<T> {
  if (value === undefined) throw new ValidationError(`a JSON ${what} is required`);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(`the ${what} is invalid`, {
    errors: result.error.issues.map((i) => ({
      field: formatPath(i.path),
      message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
      code: i.code,
    })),
  });
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out.length === 0 ? String(p) : `.${String(p)}`;
  }
  return out;
}

// ---------- idempotency ----------

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Same key + same request → the stored answer (`idempotent-replayed: true`); same key + different request →
 * 422; while the first is still running → 409. Only successful answers are stored: an error releases the key
 * so the client can retry the same request.
 */
async function withIdempotency(req: ApiRequest, store: IdempotencyStore, run: () => Promise<ApiResponse>): Promise<ApiResponse> {
  const key = header(req.event, 'idempotency-key');
  if (req.event.requestContext.http.method !== 'POST' || key === undefined) return run();
  if (!IDEMPOTENCY_KEY.test(key)) throw new ValidationError('Idempotency-Key must be 1–128 characters of [A-Za-z0-9_.:-]');
  const hash = createHash('sha256')
    .update(`${req.routeKey}\n${req.event.rawPath}\n${req.event.rawQueryString}\n${req.event.body ?? ''}`)
    .digest('hex');
  const existing = await store.claim(req.caller.principal, key, hash);
  if (existing) {
    if (existing.requestHash !== hash) throw new IdempotencyKeyMismatchError('this Idempotency-Key was used with a different request');
    if (existing.state !== 'done' || !existing.response) throw new IdempotencyKeyInProgressError('the first request with this key is still in progress');
    return { ...existing.response, headers: { ...existing.response.headers, 'idempotent-replayed': 'true' } };
  }
  let response: ApiResponse;
  try {
    response = await run();
  } catch (error) {
    await store.release(req.caller.principal, key);
    throw error;
  }
  const status = response.statusCode ?? 200;
  if (status < 300) {
    await store.complete(req.caller.principal, key, {
      statusCode: status,
      headers: Object.fromEntries(Object.entries(response.headers ?? {}).map(([k, v]) => [k, String(v)])),
      body: typeof response.body === 'string' ? response.body : '',
    });
  } else {
    await store.release(req.caller.principal, key);
  }
  return response;
}

// ---------- middlewares ----------

const THROTTLING = new Set(['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'TooManyRequestsException']);

function problemDetails(): MiddlewareObj<ApiEvent, ApiResponse> {
  return {
    onError: (request) => {
      const error = request.error;
      const requestId = request.event.requestContext?.requestId ?? 'unknown';
      if (error instanceof SlipwayError) {
        request.response = problemResponse(
          problemOf(error, request.event.rawPath),
          error.status === 401 ? { 'www-authenticate': 'Bearer' } : error.status === 429 ? { 'retry-after': '1' } : error.status === 503 ? { 'retry-after': '5' } : {},
        );
        return;
      }
      if (error && THROTTLING.has(error.name)) {
        request.response = problemResponse(problemOf(new ThrottledError('the service is busy, retry shortly')), { 'retry-after': '1' });
        return;
      }
      log.error('unhandled error', { requestId, routeKey: request.event.routeKey, error });
      request.response = problemResponse(internalProblem(requestId));
    },
  };
}

function accessLog(): MiddlewareObj<ApiEvent, ApiResponse> {
  const started = new WeakMap<object, number>();
  const write = (request: middy.Request<ApiEvent, ApiResponse>) => {
    const t0 = started.get(request) ?? Date.now();
    log.info('request', {
      requestId: request.event.requestContext?.requestId,
      route: request.event.routeKey,
      status: request.response?.statusCode,
      ms: Date.now() - t0,
      sub: request.event.requestContext?.authorizer?.jwt?.claims?.sub,
    });
  };
  return {
    before: (request) => {
      started.set(request, Date.now());
    },
    after: write,
    onError: (request) => {
      // problemDetails runs first on error (middy runs onError in reverse order) and sets the response.
      if (request.response) write(request);
    },
  };
}

// ---------- small helpers for routes ----------

export function ok(body: unknown, headers?: Record<string, string>): ApiResult {
  return headers ? { status: 200, body, headers } : { status: 200, body };
}

export function created(body: unknown, location: string): ApiResult {
  return { status: 201, body, headers: { location } };
}

export function accepted(body: unknown, location: string): ApiResult {
  return { status: 202, body, headers: { location } };
}

export function noContent(): ApiResult {
  return { status: 204 };
}

/** `limit` and `nextToken` query parameters. */
export function pageParams(query: Record<string, string>): { limit?: number; nextToken?: string } {
  const out: { limit?: number; nextToken?: string } = {};
  if (query.limit !== undefined) {
    const n = Number(query.limit);
    if (!Number.isInteger(n) || n < 1 || n > 100) throw new ValidationError('limit must be an integer from 1 to 100', { errors: [{ field: 'limit', message: 'must be 1..100' }] });
    out.limit = n;
  }
  if (query.nextToken !== undefined) out.nextToken = query.nextToken;
  return out;
}
