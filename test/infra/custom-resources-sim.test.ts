/**
 * The CAPI-providers custom resource's handlers, unchanged, against the simulator: onEvent and then isComplete
 * until ready, through a kubeconfig-connected KubeClient, with the real installer (shared/capi/providers)
 * downloading from the simulator's release repository over HTTPS. The only difference from AWS: the cluster
 * is a simulated one reached by kubeconfig instead of connectEks, the infrastructure provider is `sim`, and
 * the fetcher trusts the simulator's certificate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHandler as makeIsComplete } from '../../functions/custom-resources/capi-providers-complete.ts';
import { makeHandler as makeOnEvent } from '../../functions/custom-resources/capi-providers.ts';
import type { CapiProvidersDeps, IsCompleteRequest, IsCompleteResponse, OnEventRequest } from '../../functions/custom-resources/deps.ts';
import { type Simulator, startSimulator } from '../../local/sim/index.ts';
import type { KubeClient } from '../../shared/capi/client.ts';
import { connectKubeconfig, connectWorkload } from '../../shared/capi/connect.ts';
import { createComponentsFetcher, PROVIDERS, providerSet, reconcileProviders } from '../../shared/capi/providers/index.ts';
import { deploymentAvailable } from '../../shared/capi/status.ts';
import type { KubeObject } from '../../shared/capi/types.ts';
import { CAPI_PROVIDERS_RESOURCE_TYPE } from '../../shared/config/capi-providers.ts';
import { createLogger } from '../../shared/log.ts';
import { clientsFor, ensureNamespace, getCluster, installCni, isTrue, nodeReady, topologyCluster, waitFor, workloadClients } from '../sim/behaviour/helpers.ts';

const NS = 'cr';
const NAME = 'mgmt-1';

/** CloudFormation's request, as the provider framework hands it to onEvent (and, merged, to isComplete). */
function request(type: OnEventRequest['RequestType'], properties: Record<string, unknown>, physicalId?: string): OnEventRequest {
  return {
    RequestType: type,
    LogicalResourceId: 'ManagementClusterProviders583F6FCA',
    RequestId: `req-${type}`,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Slipway/1',
    ResourceType: CAPI_PROVIDERS_RESOURCE_TYPE,
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:framework', ...properties },
    ...(physicalId === undefined ? {} : { PhysicalResourceId: physicalId }),
  };
}

describe('the CAPI providers custom resource against the simulator', () => {
  let sim: Simulator;
  let cluster: KubeClient;
  let deps: () => CapiProvidersDeps;
  let properties: Record<string, unknown>;

  beforeAll(async () => {
    // A cluster to install into: a simulated one with CRD-gated kinds (like a fresh EKS cluster), a worker
    // node (EKS nodes carry no control-plane taint) and a CNI.
    sim = await startSimulator({ profile: 'fast', seed: 71, tls: true, crdGatedWorkloads: true });
    const mgmt = clientsFor(sim.managementKubeconfig());
    await ensureNamespace(mgmt, NS);
    await mgmt.objects.create(topologyCluster(NS, NAME, { workers: 1 }));
    await waitFor('ControlPlaneInitialized', async () => isTrue(await getCluster(mgmt, NS, NAME), 'ControlPlaneInitialized'), 60_000);
    await installCni(await workloadClients(mgmt, NS, NAME));
    cluster = await connectWorkload(await connectKubeconfig({ object: sim.managementKubeconfig() }), NS, NAME);
    await waitFor(
      'two nodes Ready',
      async () => {
        const nodes = await cluster.list('v1', 'Node');
        return nodes.length === 2 && nodes.every((n) => nodeReady(n as Parameters<typeof nodeReady>[0]));
      },
      60_000,
    );

    const fetcher = createComponentsFetcher({ ca: Buffer.from(sim.server.caData ?? '', 'base64').toString('utf8') });
    deps = () => ({
      clusterName: 'sim-management',
      management: () => cluster,
      // The production reconcile; only the fetcher (trusting the simulator's certificate) is added.
      reconcile: (client, opts) => reconcileProviders(client, { ...opts, fetcher, wait: { timeoutMs: 5_000, intervalMs: 20 } }),
      log: createLogger({ component: 'capi-providers-test' }, 'warn'),
    });
    properties = { Infrastructure: 'sim', AddonHelm: 'true', ProviderRepository: `${sim.releasesUrl}/`, Versions: '{}' };
  }, 180_000);
  afterAll(async () => {
    await sim?.stop();
  });

  /**
   * The provider framework's loop: isComplete every interval (here 50 ms) until complete, or the total timeout
   * (generous: the suite shares two cores with the synth tests).
   */
  async function poll(isComplete: (e: IsCompleteRequest) => Promise<IsCompleteResponse>, event: IsCompleteRequest, timeoutMs = 90_000): Promise<{ answer: IsCompleteResponse; polls: number }> {
    const deadline = Date.now() + timeoutMs;
    for (let polls = 1; Date.now() < deadline; polls++) {
      const answer = await isComplete(event);
      if (answer.IsComplete) return { answer, polls };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`not complete after ${timeoutMs} ms`);
  }

  const deploymentsOf = async () => (await cluster.list('apps/v1', 'Deployment')) as KubeObject[];

  it('Create: onEvent makes the first pass, isComplete polls until every provider Deployment is Available', async () => {
    // Act
    const created = await makeOnEvent(deps)(request('Create', properties));
    const { answer, polls } = await poll(makeIsComplete(deps), { ...request('Create', properties), ...created } as IsCompleteRequest);
    // Assess
    expect(created.PhysicalResourceId).toBe('capi-providers/sim-management');
    expect(answer).toEqual({ IsComplete: true, Data: { Stage: 'ready' } });
    expect(polls).toBeGreaterThan(1);
    const deployments = await deploymentsOf();
    for (const spec of providerSet('sim', { addonHelm: true })) {
      const own = deployments.filter((d) => d.metadata.namespace === spec.namespace);
      expect(own.length, spec.label).toBeGreaterThan(0);
      expect(own.every((d) => deploymentAvailable(d)), spec.label).toBe(true);
    }
    expect(deployments.filter((d) => d.metadata.namespace === 'cert-manager').every((d) => deploymentAvailable(d))).toBe(true);
    // ClusterTopology on in the core controller, and the inventory clusterctl would leave.
    const core = deployments.find((d) => d.metadata.namespace === PROVIDERS['cluster-api'].namespace);
    expect(JSON.stringify(core?.spec)).toContain('ClusterTopology=true');
    const inventory = await cluster.list('clusterctl.cluster.x-k8s.io/v1alpha3', 'Provider');
    expect(inventory.map((p) => `${p.metadata.name} ${(p as { version?: string }).version}`).sort()).toEqual(
      providerSet('sim', { addonHelm: true }).map((s) => `${s.label} ${s.version}`).sort(),
    );
  }, 180_000);

  it('Update with the same catalog: the first isComplete is already complete (nothing re-applied)', async () => {
    // Prepare
    const before = (await deploymentsOf()).map((d) => `${d.metadata.namespace}/${d.metadata.name}@${d.metadata.resourceVersion}`).sort();
    // Act
    const updated = await makeOnEvent(deps)(request('Update', properties, 'capi-providers/sim-management'));
    const { answer, polls } = await poll(makeIsComplete(deps), { ...request('Update', properties), ...updated } as IsCompleteRequest);
    // Assess
    expect(updated.PhysicalResourceId).toBe('capi-providers/sim-management');
    expect(answer.IsComplete).toBe(true);
    expect(polls).toBe(1);
    expect((await deploymentsOf()).map((d) => `${d.metadata.namespace}/${d.metadata.name}@${d.metadata.resourceVersion}`).sort()).toEqual(before);
  });

  it('Delete: leaves the providers where they are', async () => {
    // Act
    const deleted = await makeOnEvent(deps)(request('Delete', properties, 'capi-providers/sim-management'));
    const answer = await makeIsComplete(deps)({ ...request('Delete', properties), ...deleted } as IsCompleteRequest);
    // Assess
    expect(answer).toEqual({ IsComplete: true });
    expect((await cluster.list('clusterctl.cluster.x-k8s.io/v1alpha3', 'Provider')).length).toBe(providerSet('sim').length);
  });
});
