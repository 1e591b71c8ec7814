import { requireMember } from '../auth/authorize.ts';
import type { Caller } from '../auth/caller.ts';
import type { Cluster, Member } from '../domain/schemas.ts';
import { NotFoundError } from '../errors.ts';
import type { Stores } from '../store/ports.ts';

/**
 * A cluster the caller may see: member of its workspace, else the same 404 as for a cluster that does not
 * exist. Deleted clusters stay readable (their history) unless `live` is asked for.
 */
export async function visibleCluster(caller: Caller, stores: Stores, workspaceId: string, name: string, opts: { live?: boolean } = {}): Promise<Cluster> {
  return (await visibleClusterAndRole(caller, stores, workspaceId, name, opts)).cluster;
}

/** The same, with the caller's strongest role in the cluster's workspace. */
export async function visibleClusterAndRole(
  caller: Caller,
  stores: Stores,
  workspaceId: string,
  name: string,
  opts: { live?: boolean } = {},
): Promise<{ cluster: Cluster; role: Member['role'] }> {
  const [role, cluster] = await Promise.all([requireMember(caller, workspaceId, stores.workspaces), stores.clusters.get(workspaceId, name)]);
  if (!cluster || (opts.live && cluster.phase === 'Deleted')) throw new NotFoundError(`cluster ${name} not found in workspace ${workspaceId}`);
  return { cluster, role };
}
