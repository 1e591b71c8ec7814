/**
 * Named errors of the provider installer. Messages name the component set and a URL with any credentials,
 * query string or fragment removed (a mirror URL may carry a token; GitHub's redirects carry signatures).
 */

/** Why a download failed: an HTTP status, no (timely) answer, an unverifiable certificate, or a limit. */
export type FetchFailure = 'status' | 'timeout' | 'network' | 'tls' | 'too-large' | 'redirects' | 'insecure-url';

/** A components file could not be downloaded. `transient` failures (5xx, 429, timeouts, resets) may pass. */
export class ProviderComponentsFetchError extends Error {
  override readonly name = 'ProviderComponentsFetchError';
  readonly url: string;
  /** HTTP status, 0 when none came. */
  readonly status: number;
  readonly failure: FetchFailure;
  readonly transient: boolean;

  constructor(url: string, failure: FetchFailure, detail: string, opts: { status?: number; cause?: unknown } = {}) {
    const safe = redactUrl(url);
    const status = opts.status ?? 0;
    super(`fetching ${safe}: ${detail}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.url = safe;
    this.status = status;
    this.failure = failure;
    this.transient = failure === 'timeout' || failure === 'network' || (failure === 'status' && (status >= 500 || status === 429));
  }
}

/** A components file is not what clusterctl accepts: YAML, objects, one target namespace, valid `${…}`. */
export class ProviderComponentsInvalidError extends Error {
  override readonly name = 'ProviderComponentsInvalidError';
}

/** Variables a components file needs have no value and no default; every missing name is listed. */
export class ProviderVariablesMissingError extends Error {
  override readonly name = 'ProviderVariablesMissingError';
  constructor(
    readonly source: string,
    readonly missing: readonly string[],
  ) {
    super(`${source}: no value for variables ${missing.join(', ')} (pass them in the installer's variables)`);
  }
}

/** Where components come from is not usable (a bad repository URL, or no upstream release for a provider). */
export class ProviderSourceError extends Error {
  override readonly name = 'ProviderSourceError';
}

/** `https://user:secret@host/path?sig=…#x` → `https://host/path`. Unparseable input is not echoed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
