/**
 * Downloads components files: HTTPS with certificate verification (an extra CA may be trusted besides the
 * system roots — the simulator's self-signed one locally), redirects followed (GitHub sends release assets
 * to its object storage), one deadline for the whole download, a size cap, and an in-memory cache per URL
 * that a warm Lambda container keeps between invocations. Plain `http:` is accepted only for a loopback host
 * (a simulator on this machine); a redirect never goes from `https:` to `http:`.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { ProviderComponentsFetchError } from './errors.ts';

/** Returns a components file's text. */
export type ComponentsFetcher = (url: string) => Promise<string>;

export interface ComponentsFetcherOptions {
  /** PEM certificate(s) to trust in addition to the system roots. */
  ca?: string | readonly string[];
  /** Deadline for one download, redirects included. Default 60 s. */
  timeoutMs?: number;
  /** Largest file accepted. Default 32 MiB (CAPA's components, CRDs included, are a few MiB). */
  maxBytes?: number;
  /** Default 5. */
  maxRedirects?: number;
  /** Keep downloaded files in memory per URL. Default true. */
  cache?: boolean;
}

export const DEFAULT_FETCH_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_COMPONENTS_BYTES = 32 * 1024 * 1024;
const DEFAULT_MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/;

export function createComponentsFetcher(opts: ComponentsFetcherOptions = {}): ComponentsFetcher {
  const extra = opts.ca === undefined ? [] : typeof opts.ca === 'string' ? [opts.ca] : [...opts.ca];
  // `ca` replaces Node's trust store: keep the public roots so upstream URLs still verify.
  const ca = extra.length === 0 ? undefined : [...rootCertificates, ...extra];
  const limits = {
    ca,
    timeoutMs: opts.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
    maxBytes: opts.maxBytes ?? DEFAULT_MAX_COMPONENTS_BYTES,
    maxRedirects: opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS,
  };
  const cache = new Map<string, Promise<string>>();
  return (url) => {
    if (opts.cache === false) return download(url, limits);
    let pending = cache.get(url);
    if (pending === undefined) {
      pending = download(url, limits);
      // A failure must be retried by the next call, not remembered.
      pending.catch(() => cache.delete(url));
      cache.set(url, pending);
    }
    return pending;
  };
}

let shared: ComponentsFetcher | undefined;

/** One fetcher (and cache) per process for the default settings: what a Lambda container reuses. */
export function defaultComponentsFetcher(): ComponentsFetcher {
  shared ??= createComponentsFetcher();
  return shared;
}

interface Limits {
  ca: string[] | undefined;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
}

async function download(start: string, limits: Limits): Promise<string> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), limits.timeoutMs);
  try {
    let url = checkedUrl(start, start);
    for (let hops = 0; ; hops++) {
      const res = await get(url, limits, abort.signal, start);
      const status = res.statusCode ?? 0;
      if (REDIRECTS.has(status)) {
        res.resume();
        const location = res.headers.location;
        if (location === undefined) throw new ProviderComponentsFetchError(start, 'status', `HTTP ${status} without a Location`, { status });
        if (hops >= limits.maxRedirects) throw new ProviderComponentsFetchError(start, 'redirects', `more than ${limits.maxRedirects} redirects`);
        const next = checkedUrl(new URL(location, url).href, start);
        if (url.protocol === 'https:' && next.protocol !== 'https:') throw new ProviderComponentsFetchError(start, 'insecure-url', 'redirected from https to http');
        url = next;
        continue;
      }
      if (status < 200 || status > 299) {
        res.resume();
        throw new ProviderComponentsFetchError(start, 'status', `HTTP ${status}`, { status });
      }
      return await body(res, limits.maxBytes, start);
    }
  } catch (err) {
    if (err instanceof ProviderComponentsFetchError) throw err;
    if (abort.signal.aborted) throw new ProviderComponentsFetchError(start, 'timeout', `no complete answer within ${limits.timeoutMs} ms`, { cause: err });
    const code = (err as { code?: unknown }).code;
    const text = typeof code === 'string' ? code : 'connection failed';
    // A certificate that does not verify will not verify on a retry either.
    const failure = TLS_CODE.test(text) ? 'tls' : 'network';
    throw new ProviderComponentsFetchError(start, failure, failure === 'tls' ? `certificate not trusted (${text})` : text, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

function checkedUrl(text: string, start: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ProviderComponentsFetchError(start, 'insecure-url', 'not a URL');
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return url;
  throw new ProviderComponentsFetchError(start, 'insecure-url', `${url.protocol} is not accepted (https, or http to this machine only)`);
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

function get(url: URL, limits: Limits, signal: AbortSignal, start: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers = { accept: 'application/octet-stream, application/yaml, */*', 'user-agent': 'slipway-provider-installer' };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(url, { method: 'GET', headers, signal, rejectUnauthorized: true, ...(limits.ca === undefined ? {} : { ca: limits.ca }) })
        : httpRequest(url, { method: 'GET', headers, signal });
    req.on('response', (res) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxBytes) {
        // Settle first: destroying the response makes the request fail too.
        reject(new ProviderComponentsFetchError(start, 'too-large', `${declared} bytes, more than ${limits.maxBytes}`));
        res.destroy();
        return;
      }
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

function body(res: IncomingMessage, maxBytes: number, start: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new ProviderComponentsFetchError(start, 'too-large', `more than ${maxBytes} bytes`));
        res.destroy();
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('response aborted')));
  });
}
