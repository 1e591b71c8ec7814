import { requireMember } from '../auth/authorize.ts';
import type { Caller } from '../auth/caller.ts';
import type { Cluster } from '../domain/schemas.ts';
import { NotFoundError } from '../errors.ts';
import type { Stores } from '../store/ports.ts';

/**
 * A cluster the caller may see: member of its workspace, else the same 404 as for a cluster that does not
 * exist. Deleted clusters stay readable (their history) unless `live` is asked for.
 */
export async function visibleCluster(caller: Caller, stores: Stores, workspaceId: string, name: string, opts: { live?: boolean } = {}): Promise<Cluster> {
  const [, cluster] = await Promise.all([requireMember(caller, workspaceId, stores.workspaces), stores.clusters.get(workspaceId, name)]);
  if (!cluster || (opts.live && cluster.phase === 'Deleted')) throw new NotFoundError(`cluster ${name} not found in workspace ${workspaceId}`);
  return cluster;
}
