import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { flattenClaims, isTextContentType, type LocalApiServer, PortInUseError, startLocalApiServer } from '../../local/http/server.ts';
import { LocalIssuer } from '../../local/issuer.ts';
import { ROUTES, type RouteGroup } from '../../shared/http/routes.ts';

interface Call {
  group: RouteGroup;
  event: APIGatewayProxyEventV2WithJWTAuthorizer;
  context: Context;
}

let dataDir: string;
let issuer: LocalIssuer;
let server: LocalApiServer;
let calls: Call[] = [];
let handlerErrors: unknown[] = [];
/** What the next handler call answers (or throws). */
let respond: (call: Call) => Promise<APIGatewayProxyStructuredResultV2> = async () => ({ statusCode: 200, body: '{}' });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'slipway-http-'));
  issuer = await LocalIssuer.open(dataDir);
  const groups = [...new Set(ROUTES.map((r) => r.group))];
  const handlers = Object.fromEntries(
    groups.map((group) => [
      group,
      async (event: APIGatewayProxyEventV2WithJWTAuthorizer, context: Context) => {
        const call = { group, event, context };
        calls.push(call);
        return respond(call);
      },
    ]),
  ) as Record<RouteGroup, (event: APIGatewayProxyEventV2WithJWTAuthorizer, context: Context) => Promise<APIGatewayProxyStructuredResultV2>>;
  server = await startLocalApiServer({ port: 0, handlers, verifier: issuer, onHandlerError: (err) => handlerErrors.push(err) });
});

afterAll(async () => {
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  calls = [];
  handlerErrors = [];
  respond = async () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: () => Record<string, unknown>;
}

/** node:http rather than fetch: repeated header lines and chunked bodies must reach the server as sent. */
function send(method: string, path: string, options: { headers?: OutgoingHttpHeaders; body?: Buffer | string; chunked?: boolean } = {}): Promise<Answer> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) as Record<string, unknown> });
      });
    });
    req.on('error', reject);
    if (options.body !== undefined) {
      if (options.chunked) {
        const buf = Buffer.from(options.body);
        const step = 256 * 1024;
        for (let i = 0; i < buf.length; i += step) req.write(buf.subarray(i, i + step));
      } else {
        req.setHeader('content-length', Buffer.byteLength(options.body));
        req.write(options.body);
      }
    }
    req.end();
  });
}

const bearer = async (groups: string[] = ['demo-devs', 'team-x']) => `Bearer ${await issuer.issue({ sub: 'dev', email: 'dev@example.test', groups })}`;

describe('event shape', () => {
  it('builds an API Gateway HTTP API payload 2.0 event for an authorised route', async () => {
    // Prepare
    const authorization = await bearer();
    const body = JSON.stringify({ name: 'dev-1' });

    // Act
    const res = await send('POST', '/v1/workspaces/team%20a/clusters?dryRun=true&x=1&x=2&flag', {
      headers: { authorization, 'content-type': 'application/json', 'x-dup': ['a', 'b'], cookie: ['c1=1; c2=2', 'c3=3'], 'user-agent': 'vitest' },
      body,
    });

    // Assess
    expect(res.status).toBe(200);
    expect(calls).toHaveLength(1);
    const { group, event, context } = calls[0]!;
    expect(group).toBe('clusters');
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /v1/workspaces/{ws}/clusters',
      rawPath: '/v1/workspaces/team a/clusters',
      rawQueryString: 'dryRun=true&x=1&x=2&flag',
      cookies: ['c1=1', 'c2=2', 'c3=3'],
      queryStringParameters: { dryRun: 'true', x: '1,2', flag: '' },
      pathParameters: { ws: 'team a' },
      body,
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({ 'x-dup': 'a,b', 'content-type': 'application/json', 'user-agent': 'vitest', 'x-forwarded-proto': 'http' });
    expect(event.headers.cookie).toBeUndefined();
    expect(Object.keys(event.headers).every((h) => h === h.toLowerCase())).toBe(true);
    const rc = event.requestContext;
    expect(rc).toMatchObject({
      accountId: '000000000000',
      apiId: 'local',
      routeKey: 'POST /v1/workspaces/{ws}/clusters',
      stage: '$default',
      http: { method: 'POST', path: '/v1/workspaces/team a/clusters', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
    });
    expect(rc.domainName).toBe(new URL(server.url).host);
    expect(rc.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(rc.timeEpoch - Date.now())).toBeLessThan(60_000);
    expect(res.headers['apigw-requestid']).toBe(rc.requestId);
    expect(context.functionName).toBe('slipway-api-clusters');
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('passes claims as the JWT authorizer does: strings, arrays flattened to [a b]', async () => {
    await send('GET', '/v1/me', { headers: { authorization: await bearer(['demo-devs', 'team-x']) } });

    const { claims, scopes } = calls[0]!.event.requestContext.authorizer.jwt;
    expect(claims).toMatchObject({ sub: 'dev', email: 'dev@example.test', groups: '[demo-devs team-x]', iss: 'slipway-local', aud: 'slipway' });
    expect(claims.exp).toMatch(/^\d+$/);
    expect(Object.values(claims).every((v) => typeof v === 'string')).toBe(true);
    expect(scopes).toBeNull();
  });

  it('flattens every claim kind to a string', () => {
    expect(flattenClaims({ groups: ['a', 'b', 'c'], none: [], n: 5, t: true, o: { x: 1 }, s: 'x y' })).toEqual({
      groups: '[a b c]',
      none: '[]',
      n: '5',
      t: 'true',
      o: '{"x":1}',
      s: 'x y',
    });
  });

  it('base64-encodes binary bodies and omits absent parts', async () => {
    const authorization = await bearer();
    const bytes = Buffer.from([0, 1, 2, 255, 254]);

    await send('POST', '/v1/cloud-accesses', { headers: { authorization, 'content-type': 'application/octet-stream' }, body: bytes });
    await send('GET', '/v1/cloud-accesses', { headers: { authorization } });

    const [binary, bare] = calls;
    expect(binary?.event.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary?.event.body ?? '', 'base64')).toEqual(bytes);
    expect(bare?.event.body).toBeUndefined();
    expect(bare?.event.isBase64Encoded).toBe(false);
    expect(bare?.event.queryStringParameters).toBeUndefined();
    expect(bare?.event.pathParameters).toBeUndefined();
    expect(bare?.event.cookies).toBeUndefined();
    expect(bare?.event.rawQueryString).toBe('');
  });

  it('decodes path parameters, keeping an encoded slash inside its parameter', async () => {
    await send('PUT', '/v1/workspaces/demo/members/group%3Ateam%2Fa', { headers: { authorization: await bearer(), 'content-type': 'application/json' }, body: '{}' });

    expect(calls[0]?.event.routeKey).toBe('PUT /v1/workspaces/{ws}/members/{principal}');
    expect(calls[0]?.event.pathParameters).toEqual({ ws: 'demo', principal: 'group:team/a' });
  });

  it('serves public routes without a token and without an authorizer context', async () => {
    const res = await send('GET', '/openapi.json');

    expect(res.status).toBe(200);
    expect(calls[0]?.group).toBe('openapi');
    expect(calls[0]?.event.requestContext.authorizer).toBeUndefined();
  });

  it('tells text from binary content types', () => {
    for (const t of ['application/json', 'application/problem+json', 'application/json; charset=utf-8', 'text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      expect(isTextContentType(t)).toBe(true);
    }
    for (const t of [undefined, 'application/octet-stream', 'image/png', 'application/jsonx']) expect(isTextContentType(t)).toBe(false);
  });
});

describe('authorizer and routing', () => {
  it('answers 401 problem+json with WWW-Authenticate before any handler runs', async () => {
    const expiredIssuer = await LocalIssuer.open(dataDir, { now: () => Date.now() - 3600_000 });
    const expired = await expiredIssuer.issue({ sub: 'dev', ttlSeconds: 60 });

    const missing = await send('GET', '/v1/me');
    const garbage = await send('GET', '/v1/me', { headers: { authorization: 'Bearer not.a.token' } });
    const stale = await send('GET', '/v1/me', { headers: { authorization: `Bearer ${expired}` } });
    const wrongScheme = await send('POST', '/v1/policies', { headers: { authorization: 'Basic dXNlcjpwdw==', 'content-type': 'application/json' }, body: '{}' });

    expect(calls).toHaveLength(0);
    for (const res of [missing, garbage, stale, wrongScheme]) {
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.json()).toMatchObject({ status: 401, title: 'Authentication required', type: 'https://slipway.dev/problems/unauthenticated' });
    }
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    expect(stale.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    expect(String(stale.json().detail)).toMatch(/expired/);
    expect(String(stale.json().detail)).not.toContain(expired);
  });

  it('answers 404 for unknown paths and 405 with Allow for known paths', async () => {
    const authorization = await bearer();

    const unknown = await send('GET', '/v1/nothing-here', { headers: { authorization } });
    const noAuthUnknown = await send('GET', '/v2/me');
    const wrongMethod = await send('PATCH', '/v1/me', { headers: { authorization } });
    const collection = await send('DELETE', '/v1/workspaces/demo/clusters', { headers: { authorization } });

    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toBe('application/problem+json');
    expect(noAuthUnknown.status).toBe(404);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET');
    expect(collection.status).toBe(405);
    expect(String(collection.headers.allow).split(', ').sort()).toEqual(['GET', 'POST']);
    expect(calls).toHaveLength(0);
  });

  it('answers 400 for a path that is not valid percent-encoding', async () => {
    const res = await send('GET', '/v1/workspaces/%E0%A4%A', { headers: { authorization: await bearer() } });

    expect(res.status).toBe(400);
    expect(calls).toHaveLength(0);
  });
});

describe('bodies and results', () => {
  it('passes bodies up to 6 MiB to the handler (the handler enforces its own limit)', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) });

    const res = await send('POST', '/v1/packages', { headers: { authorization: await bearer(), 'content-type': 'application/json' }, body: big, chunked: true });

    expect(res.status).toBe(200);
    expect(calls[0]?.event.body?.length).toBe(big.length);
  });

  it('answers 413 beyond 6 MiB, declared or streamed, without calling a handler', async () => {
    const authorization = await bearer();
    const huge = Buffer.alloc(6 * 1024 * 1024 + 1, 'a');

    const declared = await send('POST', '/v1/packages', { headers: { authorization, 'content-type': 'application/json' }, body: huge });
    const streamed = await send('POST', '/v1/packages', { headers: { authorization, 'content-type': 'application/json' }, body: huge, chunked: true });

    for (const res of [declared, streamed]) {
      expect(res.status).toBe(413);
      expect(res.json()).toMatchObject({ status: 413, type: 'https://slipway.dev/problems/payload-too-large' });
    }
    expect(calls).toHaveLength(0);
  });

  it('writes status, headers, cookies and base64 bodies from the handler result', async () => {
    respond = async () => ({
      statusCode: 201,
      headers: { 'content-type': 'application/octet-stream', 'x-count': 3, location: '/v1/packages/a/1' },
      cookies: ['a=1; Path=/', 'b=2; HttpOnly'],
      body: Buffer.from([1, 2, 3]).toString('base64'),
      isBase64Encoded: true,
    });

    const res = await send('POST', '/v1/packages', { headers: { authorization: await bearer(), 'content-type': 'application/json' }, body: '{}' });

    expect(res.status).toBe(201);
    expect(res.headers['x-count']).toBe('3');
    expect(res.headers.location).toBe('/v1/packages/a/1');
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(res.body).toEqual(Buffer.from([1, 2, 3]));
  });

  it('answers 500 problem+json when a handler throws', async () => {
    respond = async () => {
      throw new Error('kaput');
    };

    const res = await send('GET', '/v1/me', { headers: { authorization: await bearer() } });

    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body.toString()).not.toContain('kaput');
    expect(handlerErrors).toHaveLength(1);
  });
});

describe('start-up', () => {
  it('fails with a one-line PortInUseError when the port is taken', async () => {
    const port = Number(new URL(server.url).port);
    const handlers = Object.fromEntries(ROUTES.map((r) => [r.group, async () => ({ statusCode: 200 })])) as unknown as Parameters<typeof startLocalApiServer>[0]['handlers'];

    const err = await startLocalApiServer({ port, handlers, verifier: issuer }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as Error).message).toMatch(/port is already in use/);
    expect((err as Error).message).not.toContain('\n');
  });

  it('refuses to start without a handler for every route group', async () => {
    await expect(startLocalApiServer({ port: 0, handlers: {} as Parameters<typeof startLocalApiServer>[0]['handlers'], verifier: issuer })).rejects.toThrow(/no handler/);
  });
});
