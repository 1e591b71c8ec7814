/**
 * How far an operation's workflow has got, from the step its cluster record shows. An interrupted execution
 * is started again from its first state (the local runtime after a restart, the sweep after a lost start), so
 * its early steps run again over a cluster that is further along: they converge on what exists, but what they
 * would record — `Provisioning` after `Pivoting`, a second `Updating` announcement — would take the record,
 * its history and the published phases backwards. Within one generation the record only moves forward.
 */
import type { Cluster } from '../domain/schemas.ts';

/**
 * Each operation's steps in the order its state machine runs them (statemachines/*.asl.json, failure path
 * aside; test/workflows/asl.test.ts keeps the two in step).
 */
export const WORKFLOW_STEPS: Readonly<Record<NonNullable<Cluster['operation']>, readonly string[]>> = {
  provision: [
    'begin-provisioning',
    'apply-cluster',
    'check-control-plane',
    'install-cni',
    'check-nodes',
    'install-providers',
    'check-providers',
    'pivot',
    'scale-out',
    'check-scale',
    'install-addons',
    'check-addons',
    'mark-ready',
  ],
  update: ['begin-update', 'apply-update', 'check-scale', 'install-addons', 'check-addons', 'mark-ready'],
  delete: ['begin-delete', 'check-move-back', 'move-back', 'delete-cluster', 'check-deleted', 'mark-deleted'],
};

/**
 * Whether recording `step` would take the cluster's record back: the generation's operation is over (Ready or
 * Failed: only a late or repeated invocation can still run), or the record already shows a later step of the
 * operation. A step missing from the order (or a record without one) makes no claim either way.
 */
export function isBehind(cluster: Pick<Cluster, 'operation' | 'step'>, step: string | null): boolean {
  if (cluster.operation === null) return true;
  const order = WORKFLOW_STEPS[cluster.operation];
  const current = cluster.step === null ? -1 : order.indexOf(cluster.step);
  const next = step === null ? -1 : order.indexOf(step);
  return current >= 0 && next >= 0 && next < current;
}
