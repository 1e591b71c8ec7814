/** Downloading components: TLS verification, redirects, limits, caching, URL rules and error naming. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentsUrl, createComponentsFetcher, PROVIDERS, CERT_MANAGER, ProviderComponentsFetchError, ProviderSourceError } from '../../../shared/capi/providers/index.ts';
import { startRepository, type TestRepository } from './fixtures.ts';

let repo: TestRepository;

beforeAll(async () => {
  repo = await startRepository({ 'a/v1/file.yaml': 'kind: A\n', 'big/v1/file.yaml': 'x'.repeat(4096) });
});

afterAll(async () => {
  await repo.close();
});

async function failure(p: Promise<unknown>): Promise<ProviderComponentsFetchError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderComponentsFetchError);
  return err as ProviderComponentsFetchError;
}

describe('createComponentsFetcher', () => {
  it('verifies the server certificate: refused without its CA, fetched with it', async () => {
    // Act
    const untrusted = await failure(createComponentsFetcher()(`${repo.url}/a/v1/file.yaml`));
    const text = await createComponentsFetcher({ ca: repo.ca })(`${repo.url}/a/v1/file.yaml`);
    // Assess
    expect(untrusted).toMatchObject({ name: 'ProviderComponentsFetchError', failure: 'tls', transient: false });
    expect(text).toBe('kind: A\n');
  });

  it('follows relative and absolute redirects, up to the limit', async () => {
    // Prepare
    repo.routes.set('/moved', (_req, res) => res.writeHead(302, { location: '/a/v1/file.yaml' }).end());
    repo.routes.set('/moved-twice', (_req, res) => res.writeHead(301, { location: `${repo.url}/moved` }).end());
    repo.routes.set('/loop', (_req, res) => res.writeHead(307, { location: '/loop' }).end());
    const fetcher = createComponentsFetcher({ ca: repo.ca, cache: false, maxRedirects: 3 });
    // Act
    const text = await fetcher(`${repo.url}/moved-twice`);
    const looping = await failure(fetcher(`${repo.url}/loop`));
    // Assess
    expect(text).toBe('kind: A\n');
    expect(looping).toMatchObject({ failure: 'redirects', transient: false });
    expect(repo.requests.filter((p) => p === '/loop')).toHaveLength(4);
  });

  it('refuses a redirect from https to http, and http to anything but this machine', async () => {
    // Prepare
    repo.routes.set('/downgrade', (_req, res) => res.writeHead(302, { location: 'http://127.0.0.1:1/x' }).end());
    const fetcher = createComponentsFetcher({ ca: repo.ca });
    // Act
    const downgrade = await failure(fetcher(`${repo.url}/downgrade`));
    const remote = await failure(fetcher('http://example.com/core-components.yaml'));
    const ftp = await failure(fetcher('ftp://127.0.0.1/x'));
    // Assess
    expect(downgrade.failure).toBe('insecure-url');
    expect(remote.failure).toBe('insecure-url');
    expect(ftp.failure).toBe('insecure-url');
  });

  it('accepts plain http to a loopback address (a local simulator)', async () => {
    // Prepare
    const server = createServer((_req, res) => res.writeHead(200).end('local'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      // Act
      const text = await createComponentsFetcher()(`http://127.0.0.1:${port}/x`);
      // Assess
      expect(text).toBe('local');
    } finally {
      server.close();
    }
  });

  it('names HTTP failures with the status, transient only for 5xx and 429, and never echoes credentials', async () => {
    // Prepare
    repo.routes.set('/unavailable', (_req, res) => res.writeHead(503).end());
    repo.routes.set('/throttled', (_req, res) => res.writeHead(429).end());
    const fetcher = createComponentsFetcher({ ca: repo.ca });
    const withSecrets = `https://user:s3cret@127.0.0.1:${new URL(repo.url).port}/missing.yaml?token=abc#frag`;
    // Act
    const missing = await failure(fetcher(withSecrets));
    const unavailable = await failure(fetcher(`${repo.url}/unavailable`));
    const throttled = await failure(fetcher(`${repo.url}/throttled`));
    // Assess
    expect(missing).toMatchObject({ failure: 'status', status: 404, transient: false, url: `${repo.url}/missing.yaml` });
    expect(missing.message).toBe(`fetching ${repo.url}/missing.yaml: HTTP 404`);
    expect(missing.message).not.toMatch(/s3cret|token|abc|user/);
    expect(unavailable).toMatchObject({ status: 503, transient: true });
    expect(throttled).toMatchObject({ status: 429, transient: true });
  });

  it('caps the size, whether the server declares it or streams it', async () => {
    // Prepare
    repo.routes.set('/streamed', (_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 8; i++) res.write('y'.repeat(1024));
      res.end();
    });
    const fetcher = createComponentsFetcher({ ca: repo.ca, maxBytes: 2048 });
    // Act
    const declared = await failure(fetcher(`${repo.url}/big/v1/file.yaml`));
    const streamed = await failure(fetcher(`${repo.url}/streamed`));
    const small = await fetcher(`${repo.url}/a/v1/file.yaml`);
    // Assess
    expect(declared).toMatchObject({ failure: 'too-large', transient: false });
    expect(streamed).toMatchObject({ failure: 'too-large' });
    expect(small).toBe('kind: A\n');
  });

  it('gives up at the deadline, a transient failure', async () => {
    // Prepare: headers sent, the body never ends
    repo.routes.set('/stalled', (_req, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    const fetcher = createComponentsFetcher({ ca: repo.ca, timeoutMs: 200 });
    // Act
    const started = Date.now();
    const stalled = await failure(fetcher(`${repo.url}/stalled`));
    // Assess
    expect(stalled).toMatchObject({ failure: 'timeout', transient: true });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('caches per URL, but not failures', async () => {
    // Prepare
    let answers = 0;
    repo.routes.set('/flaky', (_req, res) => {
      answers++;
      if (answers === 1) res.writeHead(502).end();
      else res.writeHead(200).end(`answer ${answers}`);
    });
    const fetcher = createComponentsFetcher({ ca: repo.ca });
    // Act
    const first = await failure(fetcher(`${repo.url}/flaky`));
    const second = await fetcher(`${repo.url}/flaky`);
    const third = await fetcher(`${repo.url}/flaky`);
    // Assess
    expect(first.status).toBe(502);
    expect(second).toBe('answer 2');
    expect(third).toBe('answer 2');
    expect(answers).toBe(2);
  });
});

describe('componentsUrl', () => {
  it("points at each provider's GitHub release asset by default", () => {
    expect(componentsUrl(PROVIDERS['cluster-api'])).toBe('https://github.com/kubernetes-sigs/cluster-api/releases/download/v1.14.0/core-components.yaml');
    expect(componentsUrl(PROVIDERS['bootstrap-kubeadm'])).toBe('https://github.com/kubernetes-sigs/cluster-api/releases/download/v1.14.0/bootstrap-components.yaml');
    expect(componentsUrl(PROVIDERS['control-plane-kubeadm'])).toBe('https://github.com/kubernetes-sigs/cluster-api/releases/download/v1.14.0/control-plane-components.yaml');
    expect(componentsUrl(PROVIDERS['infrastructure-aws'])).toBe('https://github.com/kubernetes-sigs/cluster-api-provider-aws/releases/download/v2.11.0/infrastructure-components.yaml');
    expect(componentsUrl(PROVIDERS['addon-helm'])).toBe('https://github.com/kubernetes-sigs/cluster-api-addon-provider-helm/releases/download/v0.6.0/addon-components.yaml');
    expect(componentsUrl(CERT_MANAGER)).toBe('https://github.com/cert-manager/cert-manager/releases/download/v1.16.2/cert-manager.yaml');
  });

  it("uses clusterctl's local-repository layout under a repository base URL", () => {
    expect(componentsUrl(PROVIDERS['infrastructure-sim'], 'https://sim.local:8443/releases/')).toBe('https://sim.local:8443/releases/infrastructure-sim/v0.1.0/infrastructure-components.yaml');
    expect(componentsUrl(CERT_MANAGER, 'https://mirror.example/capi')).toBe('https://mirror.example/capi/cert-manager/v1.16.2/cert-manager.yaml');
  });

  it('refuses the simulated provider without a repository, and a repository that is not an http(s) URL', () => {
    expect(() => componentsUrl(PROVIDERS['infrastructure-sim'])).toThrow(ProviderSourceError);
    expect(() => componentsUrl(CERT_MANAGER, 'file:///srv/repo')).toThrow(ProviderSourceError);
    expect(() => componentsUrl(CERT_MANAGER, 'https://mirror.example/x?token=1')).toThrow('must not have a query');
    expect(() => componentsUrl(CERT_MANAGER, 'not a url')).toThrow(ProviderSourceError);
  });
});
