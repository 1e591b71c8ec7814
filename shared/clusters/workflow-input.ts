/** The input every cluster workflow receives: steps load the rest from the store. */
import type { Cluster } from '../domain/schemas.ts';

export interface ClusterWorkflowInput {
  workspaceId: string;
  name: string;
  uid: string;
  generation: number;
}

/**
 * Step Functions execution names are unique per state machine for 90 days, so the name carries the
 * cluster incarnation (uid) and generation: a re-created cluster of the same name, or the next operation on
 * it, gets a new name; a retried start of the same operation gets the same one (exactly once).
 * ≤ 80 characters of [A-Za-z0-9-_].
 */
export function clusterExecutionName(c: Pick<Cluster, 'workspaceId' | 'name' | 'uid' | 'generation'>): string {
  const suffix = `--${c.uid.replaceAll('-', '').slice(0, 12)}--g${c.generation}`;
  const head = `${c.workspaceId}--${c.name}`.slice(0, 80 - suffix.length);
  return `${head}${suffix}`;
}
