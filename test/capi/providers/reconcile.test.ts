/**
 * reconcileProviders against an in-memory API server (fake-kube.ts) with components downloaded from a local
 * HTTPS repository: stage order, CRDs before their kinds, the cert-manager proof, resumption, upgrades, and
 * the cost of a poll once everything is applied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ComponentsFetcher,
  createComponentsFetcher,
  ProviderComponentsFetchError,
  type ProviderInstallOptions,
  ProviderSourceError,
  type ProviderStatus,
  providerStatus,
  reconcileProviders,
} from '../../../shared/capi/providers/index.ts';
import { KubeTransientError } from '../../../shared/capi/errors.ts';
import { FakeKube } from './fake-kube.ts';
import { repositoryFiles, startRepository, type TestRepository } from './fixtures.ts';

let repo: TestRepository;
let fetcher: ComponentsFetcher;

beforeAll(async () => {
  repo = await startRepository();
  fetcher = createComponentsFetcher({ ca: repo.ca });
});

afterAll(async () => {
  await repo.close();
});

const instant = async () => undefined;

function options(extra: Partial<ProviderInstallOptions> = {}): ProviderInstallOptions {
  return { infrastructure: 'sim', repository: `${repo.url}/`, fetcher, sleep: instant, wait: { timeoutMs: 30, intervalMs: 10 }, ...extra };
}

/** Polls like the state machine, with Deployments turning Available between polls (their controllers). */
async function untilReady(kube: FakeKube, opts: ProviderInstallOptions, maxCalls = 20): Promise<ProviderStatus[]> {
  const seen: ProviderStatus[] = [];
  for (let i = 0; i < maxCalls; i++) {
    const status = await reconcileProviders(kube, opts);
    seen.push(status);
    if (status.ready) return seen;
    kube.makeAvailable();
  }
  throw new Error(`not ready after ${maxCalls} calls: ${JSON.stringify(seen.at(-1))}`);
}

describe('reconcileProviders', () => {
  it('installs cert-manager, proves it, then each provider in order, one set per call, CRDs first', async () => {
    // Prepare
    const kube = new FakeKube();
    // Act
    const statuses = await untilReady(kube, options());
    // Assess: one set per call, in clusterctl's order
    expect(statuses.map((s) => [s.stage, s.applied])).toEqual([
      ['cert-manager', ['cert-manager v1.16.2']],
      ['cluster-api', ['cluster-api v1.14.0']],
      ['bootstrap-kubeadm', ['bootstrap-kubeadm v1.14.0']],
      ['control-plane-kubeadm', ['control-plane-kubeadm v1.14.0']],
      ['infrastructure-sim', ['infrastructure-sim v0.1.0']],
      ['addon-helm', ['addon-helm v0.6.0']],
      ['ready', []],
    ]);
    expect(statuses[0]?.waitingFor).toEqual([
      'Deployment cert-manager/cert-manager-cainjector to be Available',
      'Deployment cert-manager/cert-manager to be Available',
      'Deployment cert-manager/cert-manager-webhook to be Available',
    ]);
    expect(statuses[1]?.waitingFor).toContain('bootstrap-kubeadm v1.14.0 to be installed');
    // The test Certificate proved cert-manager before the first provider, and was removed.
    const applies = kube.calls.filter((c) => c.verb === 'apply').map((c) => c.what);
    expect(applies.indexOf('Certificate cert-manager-test/selfsigned-cert')).toBeLessThan(applies.indexOf('CustomResourceDefinition clusters.cluster.x-k8s.io'));
    expect(kube.calls).toContainEqual({ verb: 'delete', what: 'Namespace cert-manager-test' });
    expect(kube.peek({ apiVersion: 'v1', kind: 'Namespace', name: 'cert-manager-test' })).toBeUndefined();
    // Inventory: one Provider per provider, after its components
    expect(kube.all('Provider').map((p) => [p.metadata.namespace, p.metadata.name, p.version])).toEqual([
      ['capi-system', 'cluster-api', 'v1.14.0'],
      ['capi-kubeadm-bootstrap-system', 'bootstrap-kubeadm', 'v1.14.0'],
      ['capi-kubeadm-control-plane-system', 'control-plane-kubeadm', 'v1.14.0'],
      ['capi-sim-system', 'infrastructure-sim', 'v0.1.0'],
      ['caaph-system', 'addon-helm', 'v0.6.0'],
    ]);
    expect(applies.indexOf('Provider capi-system/cluster-api')).toBe(applies.indexOf('Deployment capi-system/capi-controller-manager') + 1);
    // What controllers will run with: topology on, tolerating the control plane
    const core = kube.peek({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'capi-controller-manager', namespace: 'capi-system' });
    expect(JSON.stringify(core?.spec)).toContain('ClusterTopology=true');
    expect(JSON.stringify(core?.spec)).toContain('"key":"node-role.kubernetes.io/control-plane"');
    expect(core?.metadata.labels).toMatchObject({ 'clusterctl.cluster.x-k8s.io': '', 'cluster.x-k8s.io/provider': 'cluster-api' });
  });

  it('costs two LISTs and no download per poll once every set is applied', async () => {
    // Prepare
    const kube = new FakeKube();
    await untilReady(kube, options());
    const mark = kube.mark();
    const requests = repo.requests.length;
    const uncached = createComponentsFetcher({ ca: repo.ca, cache: false });
    // Act
    const status = await reconcileProviders(kube, options({ fetcher: uncached }));
    // Assess
    expect(status).toEqual({ ready: true, stage: 'ready', waitingFor: [], applied: [] });
    expect(kube.since(mark)).toEqual([
      { verb: 'list', what: 'Provider' },
      { verb: 'list', what: 'Deployment' },
    ]);
    expect(repo.requests.length).toBe(requests);
  });

  it('waits for unavailable Deployments without applying anything again', async () => {
    // Prepare: everything applied, nothing Available yet
    const kube = new FakeKube();
    await untilReady(kube, options());
    for (const d of kube.all('Deployment')) kube.setCondition(d, 'Available', 'False', 'MinimumReplicasUnavailable');
    const fresh = new FakeKube();
    for (let i = 0; i < 6; i++) {
      await reconcileProviders(fresh, options());
      fresh.makeAvailable((d) => d.metadata.namespace === 'cert-manager');
    }
    const mark = fresh.mark();
    // Act
    const status = await reconcileProviders(fresh, options());
    // Assess
    expect(status.stage).toBe('deployments');
    expect(status.waitingFor).toEqual([
      'Deployment capi-system/capi-controller-manager to be Available',
      'Deployment capi-kubeadm-bootstrap-system/capi-kubeadm-bootstrap-controller-manager to be Available',
      'Deployment capi-kubeadm-control-plane-system/capi-kubeadm-control-plane-controller-manager to be Available',
      'Deployment capi-sim-system/capi-sim-controller-manager to be Available',
      'Deployment caaph-system/caaph-controller-manager to be Available',
    ]);
    expect(fresh.since(mark).filter((c) => c.verb !== 'list')).toEqual([]);
  });

  it('holds the providers until cert-manager answers: webhook refusals and an unissued test Certificate are waits', async () => {
    // Prepare: cert-manager applied, its webhook not Available yet
    const kube = new FakeKube();
    kube.issueCertificates = false;
    await reconcileProviders(kube, options());
    kube.makeAvailable((d) => d.metadata.name !== 'cert-manager-webhook');
    // Act
    const notAvailable = await reconcileProviders(kube, options());
    kube.makeAvailable();
    const notIssued = await reconcileProviders(kube, options());
    kube.issueCertificates = true;
    const proven = await reconcileProviders(kube, options());
    // Assess
    expect(notAvailable).toMatchObject({ stage: 'cert-manager', waitingFor: ['Deployment cert-manager/cert-manager-webhook to be Available'], applied: [] });
    expect(notIssued).toMatchObject({ stage: 'cert-manager', applied: [] });
    expect(notIssued.waitingFor).toEqual(['cert-manager to issue the test Certificate cert-manager-test/selfsigned-cert (not reported yet)']);
    expect(proven).toMatchObject({ stage: 'cluster-api', applied: ['cluster-api v1.14.0'] });
  });

  it('reports a webhook that refuses the test objects as a wait', async () => {
    // Prepare: cert-manager's Deployments report Available but its webhook still refuses (after the client's retries)
    const kube = new FakeKube();
    await reconcileProviders(kube, options());
    kube.makeAvailable();
    kube.beforeApply = (obj) => {
      if (obj.kind === 'Issuer') throw new KubeTransientError('Internal error occurred: failed calling webhook', { verb: 'apply', code: 500 });
    };
    // Act
    const refused = await reconcileProviders(kube, options());
    // Assess
    expect(refused).toMatchObject({ stage: 'cert-manager', applied: [] });
    expect(refused.waitingFor).toEqual(['cert-manager to accept a test Certificate (apply: Internal error occurred: failed calling webhook)']);
    expect(kube.all('Provider')).toEqual([]);
  });

  it('waits for CRDs to be Established, within the call and then across calls', async () => {
    // Prepare: CRDs report Established only on the 5th look
    const kube = new FakeKube();
    kube.crdEstablishAfterGets = 4;
    // Act
    const first = await reconcileProviders(kube, options({ wait: { timeoutMs: 20, intervalMs: 10 } }));
    const namespaceAfterFirst = kube.peek({ apiVersion: 'v1', kind: 'Namespace', name: 'cert-manager' });
    const second = await reconcileProviders(kube, options({ wait: { timeoutMs: 20, intervalMs: 10 } }));
    // Assess: nothing namespaced was written before the CRDs were Established
    expect(first).toMatchObject({ stage: 'cert-manager', applied: [] });
    expect(first.waitingFor).toEqual([
      'CustomResourceDefinition certificates.cert-manager.io to be Established',
      'CustomResourceDefinition issuers.cert-manager.io to be Established',
    ]);
    expect(namespaceAfterFirst).toBeUndefined();
    expect(second.applied).toEqual(['cert-manager v1.16.2']);
    expect(second.waitingFor).toEqual([
      'Deployment cert-manager/cert-manager-cainjector to be Available',
      'Deployment cert-manager/cert-manager to be Available',
      'Deployment cert-manager/cert-manager-webhook to be Available',
    ]);
  });

  it('resumes a set that failed part-way, and writes the inventory only once the set is complete', async () => {
    // Prepare: cert-manager done; the core's Deployment apply fails once (a Lambda timeout, a lost connection)
    const kube = new FakeKube();
    await reconcileProviders(kube, options());
    kube.makeAvailable();
    let failures = 0;
    kube.beforeApply = (obj) => {
      if (obj.kind === 'Deployment' && obj.metadata.name === 'capi-controller-manager' && failures++ === 0) throw new Error('connection reset');
    };
    // Act
    const crashed = await reconcileProviders(kube, options()).catch((err: unknown) => err);
    const inventoryAfterCrash = kube.all('Provider');
    const resumed = await reconcileProviders(kube, options());
    // Assess
    expect(crashed).toBeInstanceOf(Error);
    expect(inventoryAfterCrash).toEqual([]);
    expect(resumed).toMatchObject({ stage: 'cluster-api', applied: ['cluster-api v1.14.0'] });
    expect(kube.all('Provider').map((p) => p.metadata.name)).toEqual(['cluster-api']);
  });

  it('re-applies a provider recorded at an older version (an upgrade), never one at a newer version', async () => {
    // Prepare
    const kube = new FakeKube();
    await untilReady(kube, options());
    const core = kube.all('Provider').find((p) => p.metadata.name === 'cluster-api');
    const addon = kube.all('Provider').find((p) => p.metadata.name === 'addon-helm');
    if (core === undefined || addon === undefined) throw new Error('inventory missing');
    await kube.apply({ ...core, version: 'v1.13.2' });
    await kube.apply({ ...addon, version: 'v0.7.0' });
    // Act
    const read = await providerStatus(kube, options());
    const upgraded = await reconcileProviders(kube, options());
    kube.makeAvailable();
    const after = await reconcileProviders(kube, options());
    // Assess
    expect(read).toMatchObject({ stage: 'cluster-api', waitingFor: ['cluster-api v1.14.0 to be installed (v1.13.2 is)'] });
    expect(upgraded).toMatchObject({ stage: 'cluster-api', applied: ['cluster-api v1.14.0'] });
    expect(kube.all('Provider').find((p) => p.metadata.name === 'cluster-api')?.version).toBe('v1.14.0');
    expect(kube.all('Provider').find((p) => p.metadata.name === 'addon-helm')?.version).toBe('v0.7.0');
    expect(after.ready).toBe(true);
  });

  it('re-applies a provider whose Deployments are gone although its inventory stayed', async () => {
    // Prepare
    const kube = new FakeKube();
    await untilReady(kube, options());
    await kube.delete({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'caaph-controller-manager', namespace: 'caaph-system' });
    // Act
    const status = await reconcileProviders(kube, options());
    // Assess
    expect(status).toMatchObject({ stage: 'addon-helm', applied: ['addon-helm v0.6.0'] });
  });

  it('installs CAPA with no static credentials and without CAAPH when asked', async () => {
    // Prepare
    const kube = new FakeKube();
    // Act
    const statuses = await untilReady(kube, options({ infrastructure: 'aws', addonHelm: false }));
    // Assess
    expect(statuses.flatMap((s) => s.applied)).toEqual(['cert-manager v1.16.2', 'cluster-api v1.14.0', 'bootstrap-kubeadm v1.14.0', 'control-plane-kubeadm v1.14.0', 'infrastructure-aws v2.11.0']);
    expect(kube.peek({ apiVersion: 'v1', kind: 'Secret', name: 'capa-manager-bootstrap-credentials', namespace: 'capa-system' })?.data).toEqual({ credentials: 'Cg==' });
  });

  it('throws named errors for a missing file and a provider without any source', async () => {
    // Prepare
    const files = repositoryFiles();
    delete files['cluster-api/v1.14.0/core-components.yaml'];
    const empty = await startRepository(files);
    const kube = new FakeKube();
    const opts = options({ repository: empty.url, fetcher: createComponentsFetcher({ ca: empty.ca }) });
    try {
      // Act: cert-manager goes in; the core's file is missing
      await reconcileProviders(kube, opts);
      kube.makeAvailable();
      const missing = await reconcileProviders(kube, opts).catch((err: unknown) => err);
      const noSource = await reconcileProviders(new FakeKube(), { infrastructure: 'sim' }).catch((err: unknown) => err);
      // Assess
      expect(missing).toBeInstanceOf(ProviderComponentsFetchError);
      expect(missing).toMatchObject({ status: 404, transient: false, url: `${empty.url}/cluster-api/v1.14.0/core-components.yaml` });
      expect(noSource).toBeInstanceOf(ProviderSourceError);
    } finally {
      await empty.close();
    }
  });
});

describe('providerStatus', () => {
  it('reports the whole plan of a fresh cluster without writing or downloading', async () => {
    // Prepare
    const kube = new FakeKube();
    const requests = repo.requests.length;
    // Act
    const status = await providerStatus(kube, options());
    // Assess
    expect(status).toEqual({
      ready: false,
      stage: 'cert-manager',
      waitingFor: [
        'cert-manager v1.16.2 to be installed',
        'cluster-api v1.14.0 to be installed',
        'bootstrap-kubeadm v1.14.0 to be installed',
        'control-plane-kubeadm v1.14.0 to be installed',
        'infrastructure-sim v0.1.0 to be installed',
        'addon-helm v0.6.0 to be installed',
      ],
      applied: [],
    });
    expect(kube.calls.every((c) => c.verb === 'list')).toBe(true);
    expect(repo.requests.length).toBe(requests);
  });
});
