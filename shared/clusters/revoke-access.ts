/**
 * The access-revocation processor (in AWS functions/events/revoke-kubeconfigs.ts on the sweep schedule;
 * locally the runtime's sweep timer). For every pending revocation — the outbox item a member removal or an
 * owner demotion wrote in its own transaction — and every cluster of the workspace that was not Deleted and
 * existed when the membership changed, it deletes the ServiceAccounts that held access through that
 * membership and their bindings (shared/capi/user-access.ts), audits `Cluster.kubeconfigRevoked` and records
 * the cluster as handled. The revocation is deleted only when every cluster was handled; a cluster that does
 * not answer leaves it pending for the next run. Read with one Query (no Scan); never logs a credential.
 */
import { connectKeptAccess } from '../capi/access.ts';
import type { KubeClient, KubeClientOptions } from '../capi/client.ts';
import { KubeconfigNotFoundError } from '../capi/errors.ts';
import { revokeMembershipAccess } from '../capi/user-access.ts';
import type { Cluster } from '../domain/schemas.ts';
import type { Logger } from '../log.ts';
import { listAll } from '../store/paging.ts';
import type { AccessRevocation, Stores } from '../store/ports.ts';

export const REVOCATION_ACTOR = 'system:revocation';

export interface RevokeAccessDeps {
  stores: Stores;
  management: () => Promise<KubeClient>;
  /** Client settings for the workload clusters (tests shorten the retries). */
  workloadClient?: KubeClientOptions;
  log?: Logger;
}

export interface RevocationRunResult {
  /** Ids of revocations every cluster of which is handled now (deleted from the outbox). */
  completed: string[];
  /** Ids of revocations left for the next run. */
  pending: string[];
  /** `<ws>/<cluster>` where a revocation was carried out in this run. */
  revokedIn: string[];
  /** `<ws>/<cluster>` that could not be handled in this run (retried next run). */
  failedIn: string[];
}

export async function processRevocations(deps: RevokeAccessDeps): Promise<RevocationRunResult> {
  const result: RevocationRunResult = { completed: [], pending: [], revokedIn: [], failedIn: [] };
  const revocations = await listAll((page) => deps.stores.revocations.listPending(page));
  if (revocations.length === 0) return result;
  const management = await deps.management();
  const clustersOf = new Map<string, Cluster[]>();
  for (const revocation of revocations) {
    let clusters = clustersOf.get(revocation.workspaceId);
    if (clusters === undefined) {
      clusters = await listAll((page) => deps.stores.clusters.list(revocation.workspaceId, page));
      clustersOf.set(revocation.workspaceId, clusters);
    }
    let left = false;
    for (const cluster of clusters) {
      // A cluster made after the change never gave that membership anything; a Deleted one took it along.
      if (cluster.phase === 'Deleted' || cluster.createdAt > revocation.at || revocation.doneClusters.includes(cluster.uid)) continue;
      const where = `${cluster.workspaceId}/${cluster.name}`;
      try {
        await revokeIn(deps, management, cluster, revocation);
        result.revokedIn.push(where);
      } catch (error) {
        left = true;
        result.failedIn.push(where);
        deps.log?.warn('revocation deferred', {
          revocation: revocation.id,
          cluster: where,
          error: error instanceof Error ? error.name : 'unknown',
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
    if (left) {
      result.pending.push(revocation.id);
    } else {
      await deps.stores.revocations.complete(revocation.id);
      result.completed.push(revocation.id);
    }
  }
  return result;
}

async function revokeIn(deps: RevokeAccessDeps, management: KubeClient, cluster: Cluster, revocation: AccessRevocation): Promise<void> {
  let workload: KubeClient;
  try {
    workload = (await connectKeptAccess(management, cluster, deps.workloadClient ?? {})).client;
  } catch (error) {
    // No access kept for this incarnation: Slipway never handed out a kubeconfig for it, nothing to take back.
    if (error instanceof KubeconfigNotFoundError) {
      await deps.stores.revocations.markClusterDone(revocation.id, cluster.uid);
      return;
    }
    throw error;
  }
  const revoked = await revokeMembershipAccess(workload, { principal: revocation.principal, scope: revocation.reason === 'owner-demoted' ? 'owner' : 'all' });
  // Audit before marking done: a crash in between repeats the (idempotent) revocation and its record, never loses it.
  await deps.stores.audit.append({
    actor: REVOCATION_ACTOR,
    action: 'Cluster.kubeconfigRevoked',
    resource: `workspaces/${cluster.workspaceId}/clusters/${cluster.name}`,
    detail: {
      clusterUid: cluster.uid,
      principal: revocation.principal,
      reason: revocation.reason,
      requestedBy: revocation.actor,
      revocationId: revocation.id,
      removedServiceAccounts: revoked.serviceAccounts,
      removedBindings: revoked.bindings,
    },
  });
  await deps.stores.revocations.markClusterDone(revocation.id, cluster.uid);
}
