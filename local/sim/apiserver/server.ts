/**
 * The HTTP face of the simulator: one node:http server hosting many virtual clusters under
 * `/clusters/<name>`, each a ClusterStore with its own bearer token, speaking the subset of the Kubernetes API
 * that `@kubernetes/client-node` (and kubectl) use — discovery, CRUD, list with selectors and paging, watch,
 * merge/JSON/apply patches, the status subresource — with the real `Status` error bodies.
 *
 * Authentication: each virtual cluster's own token is unrestricted (like `system:masters`); ServiceAccount
 * tokens from its TokenRequest API (`POST …/serviceaccounts/<name>/token`) are accepted until they expire or
 * their ServiceAccount goes, and their requests are authorized by the cluster's RBAC objects (rbac.ts).
 *
 * Admin endpoints (bearer `adminToken` when one is set): `GET /sim/counters`, `GET /sim/counters/<cluster>`,
 * `PUT /sim/faults/<cluster|*>` (body: Faults, `{}` clears).
 *
 * Static files (`addFileSource(prefix, source)`): `GET /<prefix>/<path…>` without authentication, e.g. the
 * provider release repository under `/releases`; an unknown file is a 404 `application/problem+json`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  ApiError,
  BadRequestError,
  InvalidError,
  MethodNotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
  type Status,
  successStatus,
  toStatus,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from './errors.ts';
import { FaultState, type Faults, type Verb } from './faults.ts';
import { isObject } from './json.ts';
import { apiVersionOf, defaultKinds, type KindInfo, type KindRegistry } from './kinds.ts';
import { authorize, defaultRbac, forbidden, requestAttributes, type UserInfo } from './rbac.ts';
import { type FieldSelector, type LabelSelector, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.ts';
import { ClusterStore, type DeleteOptions, type KubeObject, rfc3339, type WatchEvent } from './store.ts';
import type { TlsMaterial } from './tls.ts';
import { DEFAULT_ISSUER, ServiceAccountTokens } from './tokens.ts';

export type { Faults, Verb } from './faults.ts';

export interface ApiServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** When set, /sim/* needs `Authorization: Bearer <adminToken>`. */
  adminToken?: string;
  kinds?: KindRegistry;
  /** Delay of garbage collection and namespace cleanup after deletes, per store (default 0: synchronous). */
  gcDelayMs?: number;
  /** Events kept per cluster so a watch can resume from a recent resourceVersion (default 5000). */
  watchHistory?: number;
  /**
   * Serve HTTPS with this key and certificate (see tls.ts for a self-signed one). kubectl sends bearer tokens
   * only over TLS; client-node does over plain HTTP too (with skipTLSVerify on the cluster entry).
   */
  tls?: TlsMaterial;
  /** Clock of ServiceAccount tokens: when they are issued and when they expire (tests move it forward). */
  now?: () => Date;
}

export interface VirtualCluster {
  readonly name: string;
  readonly store: ClusterStore;
  readonly token: string;
  /** Server URL for a kubeconfig: `http://host:port/clusters/<name>`. */
  readonly url: string;
}

export interface RequestCounters {
  total: number;
  byVerb: Record<string, number>;
  byKind: Record<string, number>;
  /** `"<verb> <Kind>"` → count. */
  byVerbKind: Record<string, number>;
  /** HTTP status code → count of answers. */
  byCode: Record<string, number>;
}

export interface ClusterCounters {
  cluster: string;
  requests: RequestCounters;
  faults: { injectedErrors: number; droppedConnections: number; injectedLatencyMs: number };
  /** Server-side handling time of the last LATENCY_SAMPLES answered requests (watches excluded), in ms. */
  latencyMs: { samples: number; p50: number; p99: number; max: number };
  objects: number;
  /** Merged in from counter sources (e.g. the simulated cloud's instance counts). */
  [extra: string]: unknown;
}

/** A file served as is (`GET /<prefix>/<path…>`). */
export interface StaticFile {
  contentType: string;
  body: string;
}

/** Looks a file up by the path segments after the prefix; undefined answers 404. */
export type FileSource = (path: readonly string[]) => StaticFile | undefined;

/** Adds counters to a cluster's report (the façade plugs the simulated cloud's instance counts in here). */
export type CounterSource = (cluster: string) => Record<string, unknown>;

export interface ApiServer {
  /** `http://host:port` (or https) */
  readonly url: string;
  readonly port: number;
  /** base64 PEM of the CA to trust (the self-signed certificate) when serving HTTPS. */
  readonly caData: string | undefined;
  readonly server: Server;
  /** `crdGated`: serve custom kinds only once their CRDs exist in the cluster (see ClusterStoreOptions). */
  addCluster(name: string, opts?: { token?: string; crdGated?: boolean }): VirtualCluster;
  removeCluster(name: string): boolean;
  getCluster(name: string): VirtualCluster | undefined;
  clusters(): VirtualCluster[];
  /** Faults for one cluster, or `'*'` for all; `undefined` or `{}` clears. Per-cluster faults take precedence. */
  setFaults(cluster: string, faults: Faults | undefined): void;
  counters(cluster: string): ClusterCounters;
  allCounters(): Record<string, ClusterCounters>;
  resetCounters(cluster?: string): void;
  addCounterSource(source: CounterSource): void;
  /** Serves unauthenticated files under `/<prefix>/` (a prefix other than `clusters` and `sim`). */
  addFileSource(prefix: string, source: FileSource): void;
  close(): Promise<void>;
}

/** Thrown for an admin call naming a cluster the server does not host. */
export class UnknownClusterError extends Error {
  override name = 'UnknownClusterError';
}

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Ring of recent request durations kept per cluster for the latency percentiles. */
const LATENCY_SAMPLES = 4096;
const MAX_BODY = 3 * 1024 * 1024;
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'] as const;
const BUILTIN_PATCH_TYPES = [...PATCH_TYPES, 'application/strategic-merge-patch+json'] as const;
const TOKEN_REQUEST_API = 'authentication.k8s.io/v1';
/** A TokenRequest's default lifetime, and the bounds a real server validates. */
const DEFAULT_TOKEN_SECONDS = 3600;
const MIN_TOKEN_SECONDS = 600;
const MAX_TOKEN_SECONDS = 2 ** 32;

function isServiceAccount(info: KindInfo): boolean {
  return info.group === '' && info.kind === 'ServiceAccount';
}

interface ClusterState extends VirtualCluster {
  counters: { requests: RequestCounters; faults: ClusterCounters['faults']; latencies: Float64Array; latencyCount: number };
  faults: FaultState | undefined;
  history: WatchEvent[];
  watches: Set<ServerResponse>;
  unsubscribe: () => void;
}

/** A parsed resource path. */
interface ResourceRoute {
  info: KindInfo;
  version: string;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

type Route = { type: 'discovery'; path: string[] } | { type: 'resource'; route: ResourceRoute };

function emptyRequests(): RequestCounters {
  return { total: 0, byVerb: {}, byKind: {}, byVerbKind: {}, byCode: {} };
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

function sendStatus(res: ServerResponse, status: Status): void {
  send(res, status.code, status);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(
          new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Request entity too large', reason: 'RequestEntityTooLarge', code: 413 }),
        );
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string, what = 'the request body'): unknown {
  if (text.trim() === '') throw BadRequestError.of(`${what} is empty`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw BadRequestError.of(`error decoding ${what}: ${(err as Error).message}`);
  }
}

function percentiles(ring: Float64Array, n: number): ClusterCounters['latencyMs'] {
  if (n === 0) return { samples: 0, p50: 0, p99: 0, max: 0 };
  const sorted = ring.slice(0, n).sort();
  const at = (q: number) => Math.round((sorted[Math.min(n - 1, Math.floor(q * n))] ?? 0) * 1000) / 1000;
  return { samples: n, p50: at(0.5), p99: at(0.99), max: at(1) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function byNamespaceThenName(a: KubeObject, b: KubeObject): number {
  const na = a.metadata.namespace ?? '';
  const nb = b.metadata.namespace ?? '';
  if (na !== nb) return na < nb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** Kubernetes' priority order of versions (GA > beta > alpha, higher numbers first), for preferredVersion. */
function versionRank(v: string): number {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
  if (!m) return 0;
  const major = Number(m[1]);
  const stage = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
  return stage * 1e6 + major * 1e3 + Number(m[3] ?? 0);
}

export async function createApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const kinds = opts.kinds ?? defaultKinds;
  const host = opts.host ?? '127.0.0.1';
  const historySize = opts.watchHistory ?? 5000;
  const clusters = new Map<string, ClusterState>();
  const counterSources: CounterSource[] = [];
  const fileSources = new Map<string, FileSource>();
  let globalFaults: FaultState | undefined;
  let baseUrl = '';

  const discoveryCache = new Map<string, string>();
  const tokens = new ServiceAccountTokens();
  const now = opts.now ?? (() => new Date());

  // ── discovery ────────────────────────────────────────────────────────────────────────────────────────────

  function resourceList(group: string, version: string, served: (info: KindInfo) => boolean): unknown {
    const infos = kinds.inGroupVersion(group, version)?.filter(served);
    if (infos === undefined || infos.length === 0) throw NotFoundError.path();
    const resources: unknown[] = [];
    for (const info of infos) {
      const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
      const main: Record<string, unknown> = { name: info.plural, singularName: info.singular, namespaced: info.namespaced, kind: info.kind, verbs };
      if (info.shortNames) main.shortNames = info.shortNames;
      if (info.custom) main.categories = group.endsWith('cluster.x-k8s.io') ? ['cluster-api'] : [];
      // The main resource must come before its subresource: client-node takes the first entry of a kind.
      resources.push(main);
      if (info.statusSubresource) {
        resources.push({ name: `${info.plural}/status`, singularName: '', namespaced: info.namespaced, kind: info.kind, verbs: ['get', 'patch', 'update'] });
      }
      if (isServiceAccount(info)) {
        resources.push({ name: 'serviceaccounts/token', singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] });
      }
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources };
  }

  function groupEntry(name: string, versions: string[]): unknown {
    const sorted = [...versions].sort((a, b) => versionRank(b) - versionRank(a));
    const list = sorted.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
    return { name, versions: list, preferredVersion: list[0] };
  }

  /** Served groups with their served versions (all of the registry, or what a CRD-gated store has installed). */
  function servedGroups(served: (info: KindInfo) => boolean): { name: string; versions: string[] }[] {
    return kinds
      .groups()
      .map((g) => ({ name: g.name, versions: g.versions.filter((v) => kinds.inGroupVersion(g.name, v)?.some(served)) }))
      .filter((g) => g.versions.length > 0);
  }

  function discovery(path: string[], store: ClusterStore): unknown {
    const key = path.join('/');
    // Discovery is the same for every cluster unless kinds come and go with CRDs.
    const cacheable = !store.crdGated;
    const cached = cacheable ? discoveryCache.get(key) : undefined;
    if (cached !== undefined) return JSON.parse(cached);
    const served = (info: KindInfo) => store.serves(info);
    let body: unknown;
    const [root, group, version] = path;
    if (key === 'api') body = { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] };
    else if (key === 'api/v1') body = resourceList('', 'v1', served);
    else if (key === 'apis') body = { kind: 'APIGroupList', apiVersion: 'v1', groups: servedGroups(served).map((g) => groupEntry(g.name, g.versions)) };
    else if (root === 'apis' && path.length === 2) {
      const g = servedGroups(served).find((x) => x.name === group);
      if (g === undefined) throw NotFoundError.path();
      body = { kind: 'APIGroup', apiVersion: 'v1', ...(groupEntry(g.name, g.versions) as object) };
    } else if (root === 'apis' && path.length === 3 && group !== undefined && version !== undefined) body = resourceList(group, version, served);
    else if (key === 'version') {
      body = { major: '1', minor: '32', gitVersion: 'v1.32.0-slipway-sim', platform: 'linux/amd64', goVersion: 'n/a', compiler: 'n/a' };
    } else throw NotFoundError.path();
    if (cacheable) discoveryCache.set(key, JSON.stringify(body));
    return body;
  }

  // ── routing ──────────────────────────────────────────────────────────────────────────────────────────────

  function route(path: string[], store: ClusterStore): Route {
    const isDiscovery =
      (path[0] === 'api' && path.length <= 2) ||
      (path[0] === 'apis' && path.length <= 3) ||
      (path[0] === 'version' && path.length === 1);
    if (isDiscovery) return { type: 'discovery', path };
    let group: string;
    let version: string;
    let rest: string[];
    if (path[0] === 'api' && path[1] === 'v1') {
      group = '';
      version = 'v1';
      rest = path.slice(2);
    } else if (path[0] === 'apis' && path.length >= 4) {
      group = path[1] ?? '';
      version = path[2] ?? '';
      rest = path.slice(3);
    } else throw NotFoundError.path();
    let namespace: string | undefined;
    // `/namespaces/<ns>/<plural>…` is a namespaced resource, but `/namespaces/<ns>[/status]` is a Namespace.
    if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, subresource, ...extra] = rest;
    if (plural === undefined || extra.length > 0) throw NotFoundError.path();
    const info = kinds.forPlural(group, version, plural);
    if (info === undefined || !store.serves(info)) throw NotFoundError.path();
    if (namespace !== undefined && !info.namespaced) throw NotFoundError.path();
    const servedSubresource = (subresource === 'status' && info.statusSubresource) || (subresource === 'token' && isServiceAccount(info));
    if (subresource !== undefined && !servedSubresource) throw NotFoundError.path();
    if (info.namespaced && namespace === undefined && name !== undefined) throw NotFoundError.path();
    return { type: 'resource', route: { info, version, namespace, name, subresource } };
  }

  function verbOf(method: string, r: Route, query: URLSearchParams): Verb {
    if (r.type === 'discovery') return 'discovery';
    const item = r.route.name !== undefined;
    switch (method) {
      case 'GET':
        return item ? 'get' : query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
      case 'POST':
        return 'create';
      case 'PUT':
        return 'update';
      case 'PATCH':
        return 'patch';
      case 'DELETE':
        return item ? 'delete' : 'deletecollection';
      case 'HEAD':
        // Nothing is served to HEAD; answer like an unknown path.
        throw NotFoundError.path();
      default:
        throw MethodNotAllowedError.of(method);
    }
  }

  // ── resource handlers ────────────────────────────────────────────────────────────────────────────────────

  /** JSON only: protobuf and CBOR bodies get 415, as from a server that does not serve those encodings. */
  function requireJson(req: IncomingMessage): void {
    const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim() ?? '';
    if (type !== 'application/json' && type !== '' && type !== '*/*') throw UnsupportedMediaTypeError.of(type, ['application/json', 'application/yaml']);
  }

  function checkBody(body: unknown, r: ResourceRoute): KubeObject {
    if (!isObject(body)) throw BadRequestError.of('the request body must be a JSON object');
    const apiVersion = apiVersionOf(r.info.group, r.version);
    if (body.apiVersion === undefined) body.apiVersion = apiVersion;
    if (body.kind === undefined) body.kind = r.info.kind;
    if (body.apiVersion !== apiVersion || body.kind !== r.info.kind) {
      throw BadRequestError.of(
        `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion}) or kind ${String(body.kind)} is not ${r.info.kind}`,
      );
    }
    if (!isObject(body.metadata)) body.metadata = {};
    const meta = body.metadata as Record<string, unknown>;
    if (r.info.namespaced) {
      if (meta.namespace === undefined || meta.namespace === '') meta.namespace = r.namespace;
      else if (meta.namespace !== r.namespace) {
        throw BadRequestError.of('the namespace of the provided object does not match the namespace sent on the request');
      }
    }
    if (r.name !== undefined) {
      if (meta.name === undefined || meta.name === '') meta.name = r.name;
      else if (meta.name !== r.name) throw BadRequestError.of(`the name of the object (${String(meta.name)}) does not match the name on the URL (${r.name})`);
    }
    return body as unknown as KubeObject;
  }

  function list(c: ClusterState, r: ResourceRoute, query: URLSearchParams): unknown {
    const apiVersion = apiVersionOf(r.info.group, r.version);
    const items = c.store.list({
      apiVersion,
      kind: r.info.kind,
      namespace: r.namespace,
      labelSelector: query.get('labelSelector') ?? undefined,
      fieldSelector: query.get('fieldSelector') ?? undefined,
    });
    items.sort(byNamespaceThenName);
    const metadata: Record<string, unknown> = { resourceVersion: c.store.resourceVersion };
    const limit = Number(query.get('limit') ?? 0);
    const cont = query.get('continue');
    let page = items;
    if (cont) {
      let after: { ns: string; name: string };
      try {
        after = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { ns: string; name: string };
      } catch {
        throw BadRequestError.of('continue key is not valid');
      }
      const probe = { metadata: { name: after.name, namespace: after.ns } } as KubeObject;
      page = page.filter((o) => byNamespaceThenName(o, probe) > 0);
    }
    if (limit > 0 && page.length > limit) {
      const last = page[limit - 1]!;
      metadata.remainingItemCount = page.length - limit;
      metadata.continue = Buffer.from(JSON.stringify({ ns: last.metadata.namespace ?? '', name: last.metadata.name })).toString('base64url');
      page = page.slice(0, limit);
    }
    return { kind: `${r.info.kind}List`, apiVersion, metadata, items: page };
  }

  function deleteOptions(body: string, query: URLSearchParams): DeleteOptions {
    const out: DeleteOptions = {};
    const parsed = body.trim() === '' ? {} : parseJson(body, 'the DeleteOptions');
    if (!isObject(parsed)) throw BadRequestError.of('DeleteOptions must be a JSON object');
    const policy = query.get('propagationPolicy') ?? parsed.propagationPolicy;
    if (policy !== undefined && policy !== null) {
      if (policy !== 'Background' && policy !== 'Foreground' && policy !== 'Orphan') {
        throw BadRequestError.of(`propagationPolicy must be one of Background, Foreground, Orphan; got ${String(policy)}`);
      }
      out.propagationPolicy = policy;
    }
    if (query.get('orphanDependents') === 'true' || parsed.orphanDependents === true) out.propagationPolicy = 'Orphan';
    if (isObject(parsed.preconditions)) {
      const p = parsed.preconditions;
      out.preconditions = {};
      if (typeof p.uid === 'string') out.preconditions.uid = p.uid;
      if (typeof p.resourceVersion === 'string') out.preconditions.resourceVersion = p.resourceVersion;
    }
    return out;
  }

  async function handleResource(c: ClusterState, verb: Verb, r: ResourceRoute, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    if (r.subresource === 'token') {
      if (verb !== 'create') throw MethodNotAllowedError.of(req.method ?? '');
      return tokenRequest(c, r, req, res);
    }
    const store = c.store;
    const apiVersion = apiVersionOf(r.info.group, r.version);
    const ref = { apiVersion, kind: r.info.kind, name: r.name ?? '', namespace: r.namespace };
    const status = r.subresource === 'status' ? ('status' as const) : undefined;
    const dryRun = query.getAll('dryRun');
    if (dryRun.some((v) => v !== 'All')) {
      throw InvalidError.of({ group: 'meta.k8s.io', plural: '', kind: 'CreateOptions' }, '', [
        { field: 'dryRun', type: 'FieldValueNotSupported', value: dryRun, detail: 'supported values: "All"' },
      ]);
    }
    // Dry-run writes are checked and answered but leave the store untouched.
    const write = <T>(fn: () => T): T => (dryRun.length > 0 ? store.dryRun(fn) : fn());
    const fieldManager = query.get('fieldManager') ?? undefined;
    switch (verb) {
      case 'get':
        return send(res, 200, store.load(ref));
      case 'list':
        return send(res, 200, list(c, r, query));
      case 'watch':
        return watch(c, r, query, req, res);
      case 'create': {
        if (r.namespace !== undefined && r.info.namespaced && store.get({ apiVersion: 'v1', kind: 'Namespace', name: r.namespace }) === undefined) {
          // The real server checks the namespace before decoding the body.
          throw NotFoundError.of({ group: '', plural: 'namespaces', kind: 'Namespace' }, r.namespace);
        }
        requireJson(req);
        const body = checkBody(parseJson(await readBody(req)), r);
        return send(res, 201, write(() => store.create(body, { fieldManager: fieldManager ?? managerFromAgent(req) })));
      }
      case 'update': {
        requireJson(req);
        const body = checkBody(parseJson(await readBody(req)), r);
        const opts = { fieldManager: fieldManager ?? managerFromAgent(req) };
        return send(res, 200, write(() => (status ? store.updateStatus(body, opts) : store.update(body, opts))));
      }
      case 'patch': {
        const text = await readBody(req);
        const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
        const accepted = r.info.custom ? PATCH_TYPES : BUILTIN_PATCH_TYPES;
        if (!(accepted as readonly string[]).includes(type)) throw UnsupportedMediaTypeError.of(type, accepted);
        if (type === 'application/apply-patch+yaml') {
          const manager = query.get('fieldManager');
          const body = checkBody(parseJson(text, 'the apply configuration (JSON is the YAML subset the simulator reads)'), r);
          const existed = store.get(ref) !== undefined;
          const applied = write(() => store.apply(body, { fieldManager: manager ?? '', force: query.get('force') === 'true', subresource: status }));
          return send(res, existed ? 200 : 201, applied);
        }
        const patch = parseJson(text, 'the patch');
        const opts = { fieldManager: fieldManager ?? managerFromAgent(req), subresource: status };
        const out = write(() =>
          type === 'application/json-patch+json'
            ? store.jsonPatch(ref, patch, opts)
            : type === 'application/strategic-merge-patch+json'
              ? store.strategicMergePatch(ref, patch, opts)
              : store.mergePatch(ref, patch, opts),
        );
        return send(res, 200, out);
      }
      case 'delete': {
        const options = deleteOptions(await readBody(req), query);
        const result = write(() => store.delete(ref, options));
        // A real Namespace always goes through Terminating (its `kubernetes` finalizer), so the answer is the object.
        if (!result.deleted || (r.info.group === '' && r.info.kind === 'Namespace')) return send(res, 200, result.object);
        return send(res, 200, successStatus({ group: r.info.group, plural: r.info.plural, kind: r.info.kind }, result.object.metadata.name, result.object.metadata.uid ?? ''));
      }
      case 'deletecollection': {
        const opts = deleteOptions(await readBody(req), query);
        const items = store.list({
          apiVersion,
          kind: r.info.kind,
          namespace: r.namespace,
          labelSelector: query.get('labelSelector') ?? undefined,
          fieldSelector: query.get('fieldSelector') ?? undefined,
        });
        const deleted: KubeObject[] = [];
        write(() => {
          for (const item of items) if (store.get(item) !== undefined) deleted.push(store.delete(item, opts).object);
        });
        // Like the real registry, the answer is the list of what was deleted (or marked for deletion).
        return send(res, 200, { kind: `${r.info.kind}List`, apiVersion, metadata: { resourceVersion: store.resourceVersion }, items: deleted });
      }
      default:
        throw MethodNotAllowedError.of(req.method ?? '');
    }
  }

  /**
   * `POST …/serviceaccounts/<name>/token`: a TokenRequest answered with a token for that ServiceAccount
   * (`status.token`, `status.expirationTimestamp`). Validation as a real server's: at least 10 minutes.
   */
  async function tokenRequest(c: ClusterState, r: ResourceRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const name = r.name ?? '';
    const namespace = r.namespace ?? '';
    const account = c.store.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace, name });
    if (account === undefined) throw NotFoundError.of({ group: '', plural: 'serviceaccounts', kind: 'ServiceAccount' }, name);
    requireJson(req);
    const body = parseJson(await readBody(req));
    if (!isObject(body)) throw BadRequestError.of('the request body must be a JSON object');
    if ((body.apiVersion !== undefined && body.apiVersion !== TOKEN_REQUEST_API) || (body.kind !== undefined && body.kind !== 'TokenRequest')) {
      throw BadRequestError.of(`the body must be a TokenRequest (${TOKEN_REQUEST_API}), got ${String(body.kind)} (${String(body.apiVersion)})`);
    }
    const spec = isObject(body.spec) ? body.spec : {};
    const seconds = spec.expirationSeconds ?? DEFAULT_TOKEN_SECONDS;
    const invalid = (detail: string) =>
      InvalidError.of({ group: 'authentication.k8s.io', plural: 'tokenrequests', kind: 'TokenRequest' }, name, [
        { field: 'spec.expirationSeconds', type: 'FieldValueInvalid', value: seconds, detail },
      ]);
    if (typeof seconds !== 'number' || !Number.isInteger(seconds)) throw invalid('must be an integer number of seconds');
    if (seconds < MIN_TOKEN_SECONDS) throw invalid('may not specify a duration less than 10 minutes');
    if (seconds > MAX_TOKEN_SECONDS) throw invalid('may not specify a duration larger than 2^32 seconds');
    const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : [DEFAULT_ISSUER];
    const issued = tokens.issue(c.name, { namespace, name, uid: account.metadata.uid ?? '' }, { audiences, now: now(), expirationSeconds: seconds });
    send(res, 201, {
      kind: 'TokenRequest',
      apiVersion: TOKEN_REQUEST_API,
      metadata: { name, namespace, creationTimestamp: null },
      spec: { audiences, expirationSeconds: seconds, boundObjectRef: null },
      status: { token: issued.token, expirationTimestamp: rfc3339(issued.expiresAt) },
    });
  }

  /**
   * Who a bearer token is: undefined for the cluster's own token (unrestricted), the ServiceAccount's user for
   * a valid token of this cluster whose ServiceAccount still exists (same uid, not being deleted), else 401.
   */
  function authenticate(c: ClusterState, header: string | undefined): UserInfo | undefined {
    if (header === `Bearer ${c.token}`) return undefined;
    const sa = header?.startsWith('Bearer ') ? tokens.verify(c.name, header.slice(7).trim(), now()) : undefined;
    if (sa === undefined) throw UnauthorizedError.of();
    const live = c.store.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: sa.namespace, name: sa.name });
    if (live === undefined || live.metadata.uid !== sa.uid || live.metadata.deletionTimestamp !== undefined) throw UnauthorizedError.of();
    return {
      name: `system:serviceaccount:${sa.namespace}:${sa.name}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`, 'system:authenticated'],
    };
  }

  /** Streams watch events as newline-delimited JSON, resuming from `resourceVersion` when history allows. */
  function watch(c: ClusterState, r: ResourceRoute, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const apiVersion = apiVersionOf(r.info.group, r.version);
    const labelSelector = query.get('labelSelector') ?? undefined;
    const fieldSelector = query.get('fieldSelector') ?? undefined;
    let labels: LabelSelector;
    let fields: FieldSelector;
    try {
      labels = parseLabelSelector(labelSelector);
      fields = parseFieldSelector(fieldSelector, r.info.selectableFields);
    } catch (err) {
      // A bad selector is a 400, not a broken stream.
      if (err instanceof SelectorError) throw BadRequestError.of(err.message);
      throw err;
    }
    const selected = (e: WatchEvent) => {
      const o = e.object;
      if (r.namespace !== undefined && o.metadata.namespace !== r.namespace) return false;
      if (fields.length > 0 && !matchesFields(fields, o)) return false;
      return labels.length === 0 || matchesLabels(labels, o.metadata.labels);
    };
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    // Clients wait for the headers before they start reading events.
    res.flushHeaders();
    const write = (e: WatchEvent) => {
      if (!res.destroyed) res.write(`${JSON.stringify(e)}\n`);
    };
    // With a selector, an object that starts matching arrives as ADDED and one that stops as DELETED, as from
    // the real watch cache; `inView` holds the uids the client currently sees.
    const filtered = labels.length > 0 || fields.length > 0;
    const current = c.store.list({ apiVersion, kind: r.info.kind, namespace: r.namespace, labelSelector, fieldSelector });
    const inView = new Set(current.map((o) => o.metadata.uid ?? ''));
    const deliver = (e: WatchEvent) => {
      if (!filtered) {
        if (selected(e)) write(e);
        return;
      }
      const uid = e.object.metadata.uid ?? '';
      const was = inView.has(uid);
      if (e.type === 'DELETED') {
        if (was) write(e);
        inView.delete(uid);
      } else if (selected(e)) {
        inView.add(uid);
        write(was ? e : { type: 'ADDED', object: e.object });
      } else if (was) {
        inView.delete(uid);
        write({ type: 'DELETED', object: e.object });
      }
    };
    const rv = query.get('resourceVersion');
    if (rv === null || rv === '' || rv === '0') {
      for (const o of current) write({ type: 'ADDED', object: o });
    } else {
      const from = Number(rv);
      const oldest = c.history.length > 0 ? Number(c.history[0]!.object.metadata.resourceVersion) : Number(c.store.resourceVersion) + 1;
      if (!Number.isFinite(from) || (from < oldest - 1 && from < Number(c.store.resourceVersion))) {
        const gone: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${rv}`, reason: 'Expired', code: 410 };
        res.end(`${JSON.stringify({ type: 'ERROR', object: gone })}\n`);
        return;
      }
      for (const e of c.history) {
        if (e.object.kind === r.info.kind && e.object.apiVersion === apiVersion && Number(e.object.metadata.resourceVersion) > from) deliver(e);
      }
    }
    const unsubscribe = c.store.subscribe(deliver, { group: r.info.group, kind: r.info.kind });
    c.watches.add(res);
    const timeout = Number(query.get('timeoutSeconds') ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    const done = () => {
      unsubscribe();
      c.watches.delete(res);
      if (timer) clearTimeout(timer);
    };
    res.on('close', done);
    req.on('close', done);
  }

  function managerFromAgent(req: IncomingMessage): string {
    // Like the real server: the user agent's program name is the default field manager for non-apply writes.
    const agent = req.headers['user-agent'];
    return agent ? (agent.split('/')[0] ?? 'unknown').slice(0, 128) : 'unknown';
  }

  // ── admin ────────────────────────────────────────────────────────────────────────────────────────────────

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string[]): Promise<void> {
    if (opts.adminToken !== undefined && req.headers.authorization !== `Bearer ${opts.adminToken}`) throw UnauthorizedError.of();
    if (path[1] === 'counters' && req.method === 'GET') {
      if (path.length === 2) return send(res, 200, { clusters: api.allCounters() });
      const name = path[2] ?? '';
      if (!clusters.has(name)) throw NotFoundError.path();
      return send(res, 200, api.counters(name));
    }
    if (path[1] === 'faults' && req.method === 'PUT' && path.length === 3) {
      const name = path[2] ?? '';
      if (name !== '*' && !clusters.has(name)) throw NotFoundError.path();
      const body = parseJson(await readBody(req));
      if (!isObject(body)) throw BadRequestError.of('faults must be a JSON object');
      api.setFaults(name, body as Faults);
      return send(res, 200, { cluster: name, faults: body });
    }
    throw NotFoundError.path();
  }

  // ── static files ─────────────────────────────────────────────────────────────────────────────────────────

  function sendProblem(res: ServerResponse, status: number, title: string, detail: string): void {
    const text = JSON.stringify({ type: 'about:blank', title, status, detail });
    res.writeHead(status, { 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  function serveFile(req: IncomingMessage, res: ServerResponse, source: FileSource, path: string[], pathname: string): void {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      sendProblem(res, 405, 'Method Not Allowed', `${req.method ?? ''} is not allowed on ${pathname}`);
      return;
    }
    const file = source(path);
    if (file === undefined) {
      sendProblem(res, 404, 'Not Found', `no file at ${pathname}`);
      return;
    }
    res.writeHead(200, { 'Content-Type': file.contentType, 'Content-Length': Buffer.byteLength(file.body), 'Cache-Control': 'public, max-age=300' });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  }

  // ── request entry point ──────────────────────────────────────────────────────────────────────────────────

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    let path: string[];
    try {
      path = pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
    } catch {
      throw BadRequestError.of(`malformed request path: ${pathname}`);
    }
    if (path[0] === 'sim') return handleAdmin(req, res, path);
    const files = fileSources.get(path[0] ?? '');
    if (files !== undefined) {
      serveFile(req, res, files, path.slice(1), pathname);
      return;
    }
    if (path[0] !== 'clusters' || path.length < 2) throw NotFoundError.path();
    const c = clusters.get(path[1] ?? '');
    if (c === undefined) throw NotFoundError.path();
    const rest = path.slice(2);
    if (rest.length === 1 && (rest[0] === 'healthz' || rest[0] === 'readyz' || rest[0] === 'livez')) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    let user: UserInfo | undefined;
    try {
      user = authenticate(c, req.headers.authorization);
    } catch (err) {
      bump(c.counters.requests.byCode, '401');
      throw err;
    }
    if (user !== undefined) {
      // Before the path is resolved, as a real server's filter chain does: no kind leaks to the unauthorized.
      const attrs = requestAttributes(req.method ?? 'GET', rest, query);
      const decision = authorize(c.store, user, attrs);
      if (!decision.allowed) {
        bump(c.counters.requests.byCode, '403');
        throw forbidden(attrs, user, decision.reason);
      }
    }
    const counters = c.counters;
    const started = performance.now();
    let kind = 'discovery';
    let verb: Verb = 'discovery';
    try {
      const r = route(rest, c.store);
      verb = verbOf(req.method ?? 'GET', r, query);
      if (r.type === 'resource') kind = r.route.info.kind;
      const req_ = counters.requests;
      req_.total++;
      bump(req_.byVerb, verb);
      bump(req_.byKind, kind);
      bump(req_.byVerbKind, `${verb} ${kind}`);
      const faults = c.faults ?? globalFaults;
      if (faults !== undefined) {
        const decision = faults.decide(verb);
        if (decision.delayMs > 0) {
          counters.faults.injectedLatencyMs += decision.delayMs;
          await sleep(decision.delayMs);
        }
        if (decision.action === 'drop') {
          counters.faults.droppedConnections++;
          req.socket.destroy();
          return;
        }
        if (decision.action === 'error') {
          counters.faults.injectedErrors++;
          throw ServiceUnavailableError.of();
        }
      }
      if (r.type === 'discovery') {
        if (req.method !== 'GET') throw MethodNotAllowedError.of(req.method ?? '');
        send(res, 200, discovery(r.path, c.store));
      } else await handleResource(c, verb, r.route, req, res, query);
      bump(counters.requests.byCode, String(res.statusCode));
      if (verb !== 'watch') {
        counters.latencies[counters.latencyCount % LATENCY_SAMPLES] = performance.now() - started;
        counters.latencyCount++;
      }
    } catch (err) {
      const status = toStatus(err);
      bump(counters.requests.byCode, String(status.code));
      throw err;
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (!(err instanceof ApiError)) console.error('[sim apiserver] request failed', err);
      // Drain an unread body so keep-alive connections stay usable.
      req.resume();
      sendStatus(res, toStatus(err));
    });
  };
  const server: Server = opts.tls === undefined ? createServer(listener) : createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }, listener);
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `${opts.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const api: ApiServer = {
    url: baseUrl,
    port,
    server,
    caData: opts.tls === undefined ? undefined : Buffer.from(opts.tls.cert).toString('base64'),
    addCluster(name, o = {}) {
      if (!CLUSTER_NAME.test(name)) throw new UnknownClusterError(`invalid virtual cluster name "${name}"`);
      if (clusters.has(name)) throw new UnknownClusterError(`virtual cluster "${name}" already exists`);
      const store = new ClusterStore({ name, kinds, crdGated: o.crdGated ?? false, gcDelayMs: opts.gcDelayMs ?? 0 });
      const history: WatchEvent[] = [];
      const unsubscribe = store.subscribe((e) => {
        history.push(e);
        if (history.length > historySize) history.splice(0, history.length - historySize);
      });
      // Like a fresh kubeadm cluster: the namespaces every client expects, the default roles users are bound to.
      for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      for (const obj of defaultRbac()) store.create(obj, { fieldManager: 'kube-apiserver' });
      const state: ClusterState = {
        name,
        store,
        token: o.token ?? randomBytes(24).toString('base64url'),
        url: `${baseUrl}/clusters/${name}`,
        counters: {
          requests: emptyRequests(),
          faults: { injectedErrors: 0, droppedConnections: 0, injectedLatencyMs: 0 },
          latencies: new Float64Array(LATENCY_SAMPLES),
          latencyCount: 0,
        },
        faults: undefined,
        history,
        watches: new Set(),
        unsubscribe,
      };
      clusters.set(name, state);
      return { name, store, token: state.token, url: state.url };
    },
    removeCluster(name) {
      const c = clusters.get(name);
      if (c === undefined) return false;
      for (const w of c.watches) w.end();
      c.unsubscribe();
      c.store.close();
      clusters.delete(name);
      return true;
    },
    getCluster(name) {
      const c = clusters.get(name);
      return c === undefined ? undefined : { name: c.name, store: c.store, token: c.token, url: c.url };
    },
    clusters() {
      return [...clusters.values()].map((c) => ({ name: c.name, store: c.store, token: c.token, url: c.url }));
    },
    setFaults(name, faults) {
      const state = faults === undefined || Object.keys(faults).length === 0 ? undefined : new FaultState(faults);
      if (name === '*') {
        globalFaults = state;
        return;
      }
      const c = clusters.get(name);
      if (c === undefined) throw new UnknownClusterError(`no virtual cluster "${name}"`);
      c.faults = state;
    },
    counters(name) {
      const c = clusters.get(name);
      if (c === undefined) throw new UnknownClusterError(`no virtual cluster "${name}"`);
      const out: ClusterCounters = {
        cluster: name,
        requests: structuredClone(c.counters.requests),
        faults: { ...c.counters.faults },
        latencyMs: percentiles(c.counters.latencies, Math.min(c.counters.latencyCount, LATENCY_SAMPLES)),
        objects: c.store.size,
      };
      for (const source of counterSources) Object.assign(out, source(name));
      return out;
    },
    allCounters() {
      const out: Record<string, ClusterCounters> = {};
      for (const name of clusters.keys()) out[name] = api.counters(name);
      return out;
    },
    resetCounters(name) {
      for (const c of clusters.values()) {
        if (name !== undefined && c.name !== name) continue;
        c.counters.requests = emptyRequests();
        c.counters.latencyCount = 0;
        c.counters.faults = { injectedErrors: 0, droppedConnections: 0, injectedLatencyMs: 0 };
      }
    },
    addCounterSource(source) {
      counterSources.push(source);
    },
    addFileSource(prefix, source) {
      if (prefix === 'clusters' || prefix === 'sim' || prefix.includes('/') || prefix === '') throw new RangeError(`cannot serve files under "/${prefix}"`);
      fileSources.set(prefix, source);
    },
    async close() {
      for (const name of [...clusters.keys()]) api.removeCluster(name);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}
