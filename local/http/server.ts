/**
 * The local stand-in for API Gateway (HTTP API, JWT authorizer, Lambda proxy integration, payload 2.0).
 * Handlers must not be able to tell it from AWS: the event is built the way API Gateway builds it, routes
 * come from the same ROUTES table the CDK stack wires, and non-public routes are authorised before any
 * handler runs, exactly like the JWT authorizer.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { PROBLEM_TYPE_BASE } from '../../shared/errors.ts';
import { ROUTES, type RouteDef, type RouteGroup, routeKey } from '../../shared/http/routes.ts';
import { lambdaContext } from './lambda-context.ts';

/** The Lambda handler of a route group, as API Gateway invokes it (shared/http/api.ts). */
export type { ApiHandler } from '../../shared/http/api.ts';
import type { ApiHandler } from '../../shared/http/api.ts';

/** Verifies a bearer token and returns its claims as the IdP issued them; throws when it is not valid. */
export interface TokenVerifier {
  verify(token: string): Promise<Record<string, unknown>>;
}

export interface AccessLogEntry {
  requestId: string;
  method: string;
  path: string;
  routeKey: string | null;
  status: number;
  ms: number;
  /** 'gateway': answered before any handler ran (404, 405, 401, 413…); 'handler': the handler's answer. */
  answeredBy: 'gateway' | 'handler';
}

export interface LocalApiServerOptions {
  port: number;
  /** Default 127.0.0.1: the dev tokens are printed on the console, so do not listen on every interface. */
  host?: string;
  handlers: Readonly<Record<RouteGroup, ApiHandler>>;
  verifier: TokenVerifier;
  /** Default 6 MiB, Lambda's synchronous payload limit; bigger bodies get 413 without reaching a handler. */
  maxBodyBytes?: number;
  /** Default 30 s, API Gateway's integration timeout. */
  integrationTimeoutMs?: number;
  accountId?: string;
  apiId?: string;
  /** One call per answered request (no headers, no bodies, no tokens). */
  onRequest?: (entry: AccessLogEntry) => void;
  /**
   * Routes that exist only on this machine (e.g. `POST /local/events`): they are not in ROUTES, so the CDK
   * never deploys them. Authorised like every non-public route, and given the same event.
   */
  localRoutes?: readonly LocalRoute[];
  /** A handler threw (API Gateway answers 500 then). */
  onHandlerError?: (err: unknown, entry: { requestId: string; routeKey: string }) => void;
}

export interface LocalApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The port is taken by another process. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly host: string,
  ) {
    super(`cannot listen on ${host}:${port}: the port is already in use (set PORT to another port or stop the other process)`);
  }
}

export const MAX_BODY_BYTES = 6 * 1024 * 1024;

export interface LocalRoute {
  method: RouteDef['method'];
  path: string;
  handler: ApiHandler;
}

/** A route of ROUTES (served by its group's handler) or a local-only one (its own handler). */
type ServedRoute = RouteDef | (LocalRoute & { group: 'local'; public?: undefined });

interface CompiledRoute {
  route: ServedRoute;
  /** Literal segment, or null for a `{param}`. */
  segments: ReadonlyArray<{ literal: string } | { param: string }>;
  literals: number;
}

interface RouteMatch {
  route: ServedRoute;
  /** Raw (still percent-encoded) values. */
  params: Record<string, string>;
}

export async function startLocalApiServer(options: LocalApiServerOptions): Promise<LocalApiServer> {
  const host = options.host ?? '127.0.0.1';
  const missing = [...new Set(ROUTES.map((r) => r.group))].filter((g) => typeof options.handlers[g] !== 'function');
  if (missing.length > 0) throw new Error(`no handler for route group(s): ${missing.join(', ')}`);

  const routes = compileRoutes([...ROUTES, ...(options.localRoutes ?? []).map((r) => ({ ...r, group: 'local' as const }))]);
  const server = createServer((req, res) => {
    handle(req, res, routes, options).catch((err: unknown) => {
      // Only reached if writing the answer itself failed; the socket is probably gone.
      if (!res.headersSent) sendProblem(res, 500, 'internal-error', 'Internal Server Error', 'the local API gateway failed', newRequestId());
      else res.destroy(err instanceof Error ? err : undefined);
    });
  });
  // API Gateway closes idle connections too; keep-alive stays on for benchmarks.
  server.keepAliveTimeout = 5_000;

  await listen(server, options.port, host);
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(port, host) : err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: readonly CompiledRoute[], options: LocalApiServerOptions): Promise<void> {
  const started = Date.now();
  const requestId = newRequestId();
  const method = (req.method ?? 'GET').toUpperCase();
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const encodedPath = q === -1 ? target : target.slice(0, q);
  const rawQueryString = q === -1 ? '' : target.slice(q + 1);
  let matchedKey: string | null = null;
  let answeredBy: AccessLogEntry['answeredBy'] = 'gateway';
  const log = (status: number) =>
    options.onRequest?.({ requestId, method, path: encodedPath, routeKey: matchedKey, status, ms: Date.now() - started, answeredBy });

  // API Gateway hands the path to the integration URL-decoded (rawPath too); routing uses the encoded
  // segments so that an encoded `/` stays inside its path parameter.
  const decodedPath = safeDecode(encodedPath);
  if (decodedPath === null) {
    drain(req);
    sendProblem(res, 400, 'malformed-request', 'Malformed request', 'the request path is not valid percent-encoding', requestId);
    return log(400);
  }

  const found = matchRoute(routes, method, encodedPath);
  if (found.kind === 'not-found') {
    drain(req);
    sendProblem(res, 404, 'not-found', 'Not found', `no route for ${decodedPath}`, requestId);
    return log(404);
  }
  if (found.kind === 'method-not-allowed') {
    drain(req);
    sendProblem(res, 405, 'method-not-allowed', 'Method not allowed', `${method} is not allowed on ${decodedPath}`, requestId, { allow: found.allow.join(', ') });
    return log(405);
  }
  const { route, params } = found.match;
  matchedKey = routeKey(route);

  const pathParameters: Record<string, string> = {};
  for (const [name, raw] of Object.entries(params)) {
    const value = safeDecode(raw);
    if (value === null) {
      drain(req);
      sendProblem(res, 400, 'malformed-request', 'Malformed request', `path parameter ${name} is not valid percent-encoding`, requestId);
      return log(400);
    }
    pathParameters[name] = value;
  }

  // The JWT authorizer runs before the integration: an unauthenticated request never costs a Lambda call.
  let claims: Record<string, string> | null = null;
  let scopes: string[] | null = null;
  if (!route.public) {
    const auth = await authorize(req.headers.authorization, options.verifier);
    if (!auth.ok) {
      drain(req);
      sendProblem(res, 401, 'unauthenticated', 'Authentication required', auth.detail, requestId, { 'www-authenticate': auth.challenge });
      return log(401);
    }
    claims = auth.claims;
    scopes = auth.scopes;
  }

  const body = await readBody(req, options.maxBodyBytes ?? MAX_BODY_BYTES);
  if (body === 'too-large') {
    sendProblem(res, 413, 'payload-too-large', 'Payload too large', 'the request body exceeds the API Gateway / Lambda payload limit', requestId, {
      connection: 'close',
    });
    return log(413);
  }

  const event = buildEvent({ req, method, route, rawPath: decodedPath, rawQueryString, pathParameters, body, requestId, claims, scopes, options });
  const handler = route.group === 'local' ? route.handler : options.handlers[route.group];
  const context = lambdaContext(`slipway-api-${route.group}`, {
    timeoutMs: options.integrationTimeoutMs ?? 30_000,
    ...(options.accountId === undefined ? {} : { accountId: options.accountId }),
  });

  let result: APIGatewayProxyStructuredResultV2;
  try {
    result = await withTimeout(handler(event, context), options.integrationTimeoutMs ?? 30_000);
  } catch (err) {
    if (err instanceof IntegrationTimeoutError) {
      sendProblem(res, 503, 'service-unavailable', 'Service Unavailable', 'the handler did not answer within the integration timeout', requestId);
      return log(503);
    }
    options.onHandlerError?.(err, { requestId, routeKey: matchedKey });
    sendProblem(res, 500, 'internal-error', 'Internal Server Error', 'the handler failed', requestId);
    return log(500);
  }
  answeredBy = 'handler';
  const status = writeResult(res, result, requestId);
  return log(status);
}

// ---------------------------------------------------------------------------------------------------------
// Routing

function compileRoutes(defs: readonly ServedRoute[]): CompiledRoute[] {
  const compiled = defs.map((route) => {
    const segments = route.path
      .split('/')
      .slice(1)
      .map((s) => {
        const m = /^\{([A-Za-z0-9_]+)\}$/.exec(s);
        return m?.[1] ? { param: m[1] } : { literal: s };
      });
    return { route, segments, literals: segments.filter((s) => 'literal' in s).length };
  });
  // Like API Gateway, a literal segment wins over a parameter when both match.
  return compiled.sort((a, b) => b.literals - a.literals);
}

type MatchResult = { kind: 'found'; match: RouteMatch } | { kind: 'method-not-allowed'; allow: string[] } | { kind: 'not-found' };

function matchRoute(routes: readonly CompiledRoute[], method: string, encodedPath: string): MatchResult {
  const segments = encodedPath.split('/').slice(1);
  const allow = new Set<string>();
  // Routes are sorted most specific first, and a route is method + path: `POST /a/b` goes to `POST /a/{x}`
  // even when `GET /a/b` exists. Only when no route of that method matches is the answer 405.
  for (const { route, segments: pattern } of routes) {
    const params = matchSegments(pattern, segments);
    if (params === null) continue;
    if (route.method === method) return { kind: 'found', match: { route, params } };
    allow.add(route.method);
  }
  return allow.size > 0 ? { kind: 'method-not-allowed', allow: [...allow] } : { kind: 'not-found' };
}

function matchSegments(pattern: CompiledRoute['segments'], segments: readonly string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if ('literal' in p) {
      if (p.literal !== s) return null;
    } else {
      if (s.length === 0) return null;
      params[p.param] = s;
    }
  }
  return params;
}

// ---------------------------------------------------------------------------------------------------------
// Authorizer

type AuthResult = { ok: true; claims: Record<string, string>; scopes: string[] | null } | { ok: false; detail: string; challenge: string };

async function authorize(header: string | undefined, verifier: TokenVerifier): Promise<AuthResult> {
  if (!header || header.trim().length === 0) {
    return { ok: false, detail: 'an Authorization: Bearer token is required', challenge: 'Bearer' };
  }
  // The JWT authorizer accepts the token with or without the `Bearer ` prefix.
  const token = header.trim().replace(/^Bearer\s+/i, '');
  try {
    const raw = await verifier.verify(token);
    return { ok: true, claims: flattenClaims(raw), scopes: scopesOf(raw) };
  } catch (err) {
    // Say why (expired, bad signature…) but never echo the token.
    const why = err instanceof Error ? err.message : 'invalid token';
    return { ok: false, detail: `invalid token: ${why}`, challenge: `Bearer error="invalid_token", error_description="${why.replace(/["\\\r\n]/g, ' ')}"` };
  }
}

/**
 * Claims as the HTTP API JWT authorizer passes them to the integration: every value a string, numbers and
 * booleans in their JSON form, and arrays flattened to `[a b c]` (space-separated, in brackets). That is
 * what AWS does to `groups`, so handlers must parse that form — and locally they get exactly the same.
 */
export function flattenClaims(claims: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined) continue;
    out[name] = flattenClaim(value);
  }
  return out;
}

function flattenClaim(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ')}]`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function scopesOf(claims: Record<string, unknown>): string[] | null {
  const scope = claims.scope ?? claims.scp;
  if (typeof scope === 'string') return scope.split(' ').filter((s) => s.length > 0);
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string');
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Event

interface BuildEventInput {
  req: IncomingMessage;
  method: string;
  route: Pick<RouteDef, 'method' | 'path'>;
  rawPath: string;
  rawQueryString: string;
  pathParameters: Record<string, string>;
  body: Buffer;
  requestId: string;
  claims: Record<string, string> | null;
  scopes: string[] | null;
  options: LocalApiServerOptions;
}

function buildEvent(input: BuildEventInput): APIGatewayProxyEventV2WithJWTAuthorizer {
  const { req, method, route, rawPath, rawQueryString, pathParameters, body, requestId, claims, scopes, options } = input;
  const now = new Date();
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const { headers, cookies } = eventHeaders(req, sourceIp);
  const domainName = headers.host ?? 'localhost';
  const key = routeKey(route);
  const contentType = headers['content-type'];
  const text = body.length > 0 && isTextContentType(contentType);

  const requestContext = {
    accountId: options.accountId ?? '000000000000',
    apiId: options.apiId ?? 'local',
    domainName,
    domainPrefix: domainName.split('.')[0] ?? domainName,
    http: {
      method,
      path: rawPath,
      protocol: `HTTP/${req.httpVersion}`,
      sourceIp,
      userAgent: headers['user-agent'] ?? '',
    },
    requestId,
    routeKey: key,
    stage: '$default',
    time: clfTime(now),
    timeEpoch: now.getTime(),
  };
  const event = {
    version: '2.0',
    routeKey: key,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(rawQueryString.length > 0 ? { queryStringParameters: queryParameters(rawQueryString) } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
  if (claims !== null) {
    return { ...event, requestContext: { ...requestContext, authorizer: { jwt: { claims, scopes } } } };
  }
  return withoutAuthorizer(event, requestContext);
}

/**
 * Public routes have no authorizer, and API Gateway then sends no `requestContext.authorizer` at all. The
 * handler type is the authorised one (one type for every route group), so the absence is made explicit here,
 * once, rather than faked with empty claims.
 */
function withoutAuthorizer(
  event: Omit<APIGatewayProxyEventV2WithJWTAuthorizer, 'requestContext'>,
  requestContext: Omit<APIGatewayProxyEventV2WithJWTAuthorizer['requestContext'], 'authorizer'>,
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const unauthorised: Omit<APIGatewayProxyEventV2WithJWTAuthorizer, 'requestContext'> & { requestContext: typeof requestContext } = { ...event, requestContext };
  return unauthorised as APIGatewayProxyEventV2WithJWTAuthorizer;
}

/** Lower-cased names, repeated headers comma-joined; cookies moved to their own list; the X-Forwarded set added. */
function eventHeaders(req: IncomingMessage, sourceIp: string): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!values) continue;
    if (name === 'cookie') {
      for (const v of values) for (const c of v.split(';')) if (c.trim().length > 0) cookies.push(c.trim());
      continue;
    }
    headers[name] = values.join(',');
  }
  const forwarded = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwarded ? `${forwarded}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  return { headers, cookies };
}

/** Duplicates comma-joined, as payload 2.0 does (there is no multiValueQueryStringParameters). */
function queryParameters(rawQueryString: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) {
    out[k] = out[k] === undefined ? v : `${out[k]},${v}`;
  }
  return out;
}

const TEXT_TYPES = /^(text\/[^;]+|application\/([a-z0-9.+-]*\+)?(json|xml|javascript|x-www-form-urlencoded|yaml|x-yaml|graphql))\s*(;|$)/i;

/** Text bodies arrive as strings; anything else (or no Content-Type at all) base64-encoded. */
export function isTextContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && TEXT_TYPES.test(contentType.trim());
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `22/Nov/2026:02:45:00 +0000`, API Gateway's requestContext.time format. */
function clfTime(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

// ---------------------------------------------------------------------------------------------------------
// Body, answers

/** The body, or 'too-large' once more than `max` bytes arrive (stops reading; the connection is closed). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    return Promise.resolve('too-large');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) {
        done = true;
        chunks.length = 0;
        req.resume();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!done) reject(err);
    });
  });
}

/** Discards a body we will not read, so keep-alive connections stay usable. */
function drain(req: IncomingMessage): void {
  req.resume();
}

function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2, requestId: string): number {
  const status = result.statusCode ?? 200;
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  // Payload 2.0 has no multiValueHeaders; each entry of `cookies` becomes its own Set-Cookie header.
  if (result.cookies && result.cookies.length > 0) res.setHeader('set-cookie', result.cookies);
  res.setHeader('apigw-requestid', requestId);
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  res.setHeader('content-length', body.length);
  res.writeHead(status);
  res.end(body);
  return status;
}

function sendProblem(
  res: ServerResponse,
  status: number,
  type: string,
  title: string,
  detail: string,
  requestId: string,
  extraHeaders: Record<string, string> = {},
): void {
  const body = JSON.stringify({ type: `${PROBLEM_TYPE_BASE}${type}`, title, status, detail, instance: requestId });
  res.writeHead(status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'apigw-requestid': requestId,
    ...extraHeaders,
  });
  res.end(body);
}

class IntegrationTimeoutError extends Error {
  override readonly name = 'IntegrationTimeoutError';
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new IntegrationTimeoutError(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** API Gateway request ids look like `JKJaXmPLvHcESHA=`; any unique string does locally. */
function newRequestId(): string {
  return randomUUID();
}
