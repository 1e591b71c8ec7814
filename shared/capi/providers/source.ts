/**
 * Where a component set's file is downloaded from.
 *
 * - Default: the provider's GitHub release asset,
 *   `https://github.com/<org>/<repo>/releases/download/<version>/<file>` (GitHub answers with a redirect).
 * - A repository: one base URL laid out as clusterctl's local repository, `<base>/<label>/<version>/<file>`
 *   (cert-manager under `cert-manager/<version>/cert-manager.yaml`) — a mirror for air-gapped or pinned
 *   installs; the simulator serves one at `<simulator>/releases`.
 */
import type { ComponentSetSpec } from './catalog.ts';
import { ProviderSourceError, redactUrl } from './errors.ts';
import type { ComponentsFetcher } from './fetch.ts';

/** Where a deployment takes components from: what step dependencies carry (plain data and a fetcher). */
export interface ProviderSource {
  /** Base URL of a clusterctl local-repository layout; absent: each provider's GitHub release. */
  repository?: string;
  /** Default: the shared HTTPS fetcher (system roots only). */
  fetcher?: ComponentsFetcher;
}

/** The URL of a component set's file: in `repository` when given, else upstream. */
export function componentsUrl(spec: ComponentSetSpec, repository?: string): string {
  if (repository !== undefined) {
    const base = repositoryBase(repository);
    return `${base}/${encodeURIComponent(spec.label)}/${encodeURIComponent(spec.version)}/${encodeURIComponent(spec.file)}`;
  }
  if (spec.upstream === undefined) {
    throw new ProviderSourceError(`${spec.label} ${spec.version} has no upstream release: give a repository (the simulator serves one at <simulator>/releases)`);
  }
  const { org, repo } = spec.upstream;
  return `https://github.com/${org}/${repo}/releases/download/${encodeURIComponent(spec.version)}/${encodeURIComponent(spec.file)}`;
}

/** A repository base URL, validated, without a trailing slash. */
export function repositoryBase(repository: string): string {
  let url: URL;
  try {
    url = new URL(repository);
  } catch {
    throw new ProviderSourceError(`the provider repository ${redactUrl(repository)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ProviderSourceError(`the provider repository ${redactUrl(repository)} must be an https URL`);
  if (url.search !== '' || url.hash !== '') throw new ProviderSourceError(`the provider repository ${redactUrl(repository)} must not have a query or fragment`);
  return repository.replace(/\/+$/, '');
}
