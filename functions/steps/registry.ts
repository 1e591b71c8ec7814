/**
 * The cluster workflows' step handlers by step name (`apply-cluster` for `${StepApplyClusterArn}`), built
 * over one set of dependencies: what the local runtime binds the ASL Tasks to. In AWS each is its own
 * function whose `handler` builds the same from the environment.
 */
import type { StepDeps } from '../../shared/steps/runtime.ts';
import { makeHandler as applyCluster } from './apply-cluster.ts';
import { makeHandler as applyUpdate } from './apply-update.ts';
import { makeHandler as beginDelete } from './begin-delete.ts';
import { makeHandler as beginProvisioning } from './begin-provisioning.ts';
import { makeHandler as beginUpdate } from './begin-update.ts';
import { makeHandler as checkAddons } from './check-addons.ts';
import { makeHandler as checkControlPlane } from './check-control-plane.ts';
import { makeHandler as checkDeleted } from './check-deleted.ts';
import { makeHandler as checkMoveBack } from './check-move-back.ts';
import { makeHandler as checkNodes } from './check-nodes.ts';
import { makeHandler as checkProviders } from './check-providers.ts';
import { makeHandler as checkScale } from './check-scale.ts';
import { makeHandler as deleteCluster } from './delete-cluster.ts';
import { makeHandler as installAddons } from './install-addons.ts';
import { makeHandler as installCni } from './install-cni.ts';
import { makeHandler as installProviders } from './install-providers.ts';
import { makeHandler as markDeleted } from './mark-deleted.ts';
import { makeHandler as markFailed } from './mark-failed.ts';
import { makeHandler as markReady } from './mark-ready.ts';
import { makeHandler as moveBack } from './move-back.ts';
import { makeHandler as pivot } from './pivot.ts';
import { makeHandler as scaleOut } from './scale-out.ts';

const CLUSTER_STEPS = {
  'begin-provisioning': beginProvisioning,
  'apply-cluster': applyCluster,
  'check-control-plane': checkControlPlane,
  'install-cni': installCni,
  'check-nodes': checkNodes,
  'install-providers': installProviders,
  'check-providers': checkProviders,
  pivot,
  'scale-out': scaleOut,
  'check-scale': checkScale,
  'install-addons': installAddons,
  'check-addons': checkAddons,
  'mark-ready': markReady,
  'mark-failed': markFailed,
  'begin-update': beginUpdate,
  'apply-update': applyUpdate,
  'begin-delete': beginDelete,
  'check-move-back': checkMoveBack,
  'move-back': moveBack,
  'delete-cluster': deleteCluster,
  'check-deleted': checkDeleted,
  'mark-deleted': markDeleted,
} as const;

export type ClusterStepName = keyof typeof CLUSTER_STEPS;

/** Each step has its own input type — the ASL is the contract — hence `never` for the event. */
export function buildClusterStepHandlers(deps: () => StepDeps): Record<ClusterStepName, (input: never) => Promise<unknown>> {
  const built = {} as Record<ClusterStepName, (input: never) => Promise<unknown>>;
  for (const [name, make] of Object.entries(CLUSTER_STEPS) as Array<[ClusterStepName, (d: () => StepDeps) => (input: never) => Promise<unknown>]>) {
    built[name] = make(deps);
  }
  return built;
}
