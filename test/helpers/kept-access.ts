/**
 * A Ready Slipway cluster whose kept access is a simulated workload cluster's admin kubeconfig, without running
 * a workflow: what the kubeconfig and revocation tests need to exercise per-user access against the simulator.
 */
import { kubeconfigText } from '../../local/sim/apiserver/kubeconfig.ts';
import type { VirtualCluster } from '../../local/sim/apiserver/server.ts';
import { saveAccess } from '../../shared/capi/access.ts';
import { createKubeClient, type KubeClient } from '../../shared/capi/client.ts';
import { kubeconfigFromText } from '../../shared/capi/connect.ts';
import { workspaceNamespace } from '../../shared/capi/render.ts';
import type { ApiHarness } from './api.ts';

/** An admin client on a virtual cluster, with fast retries (`attempts` bounds them where unreachability is tested). */
export function simClient(vc: VirtualCluster, attempts?: number): KubeClient {
  const retry = attempts === undefined ? { initialMs: 1 } : { initialMs: 1, attempts };
  return createKubeClient(kubeconfigFromText(kubeconfigText({ name: vc.name, server: vc.url, token: vc.token })), {
    cluster: vc.name,
    retry: { read: retry, write: retry },
  });
}

/** A config item's body for POST …/revisions (the same body without its id). */
export function withoutId<T extends { id: string }>(item: T): Omit<T, 'id'> {
  const { id: _id, ...rest } = item;
  return rest;
}

/**
 * Marks the cluster `workspaceId/name` (generation 1, already requested) Ready and self-managed, writes CAPI's
 * kubeconfig Secret for `workload` into the management cluster and keeps it as Slipway does.
 */
export async function readyWithKeptAccess(api: ApiHarness, mgmt: KubeClient, workload: VirtualCluster, workspaceId: string, name: string): Promise<void> {
  const record = await api.stores.clusters.recordStatus(workspaceId, name, 1, { phase: 'Ready', operation: null, observedGeneration: 1, capiLocation: 'self' }, { principal: 'system:test' });
  await mgmt.ensureNamespace(workspaceNamespace(workspaceId));
  await mgmt.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${name}-kubeconfig`, namespace: workspaceNamespace(workspaceId) },
    data: { value: Buffer.from(kubeconfigText({ name: 'workload', server: workload.url, token: workload.token })).toString('base64') },
  });
  await saveAccess(mgmt, record);
}
