/**
 * Policies are checked again when a workflow starts: configuration may have changed since the request was
 * accepted (a region withdrawn, a plan no longer allowed). Quotas are not re-checked here — they were
 * reserved atomically with the request and are still held.
 */
import { checkPolicies } from '../clusters/requests.ts';
import type { Cluster } from '../domain/schemas.ts';
import { PolicyViolationError } from '../errors.ts';
import type { StepDeps } from './runtime.ts';

export async function recheckPolicies(deps: StepDeps, cluster: Cluster): Promise<void> {
  const { violations } = await checkPolicies(deps.stores, {
    workspaceId: cluster.workspaceId,
    planId: cluster.plan.id,
    kubernetesVersion: cluster.kubernetesVersion,
    region: cluster.region,
    controlPlane: cluster.controlPlane,
    nodePools: cluster.nodePools,
    ttlHours: cluster.ttlHours,
    costEstimate: cluster.costEstimate,
    current: cluster,
  });
  if (violations.length > 0) {
    const summary = violations.map((v) => `${v.code} (${v.policyId}): ${v.message}`).join('; ');
    throw new PolicyViolationError(`the cluster no longer satisfies policy: ${summary}`, { errors: violations });
  }
}
