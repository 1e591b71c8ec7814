/** Builders for policy tests: a request that every rule in `permissivePolicy` accepts, tweaked per test. */
import type { PolicyRules } from '../../shared/domain/schemas.ts';
import type { PolicyInput, PolicyRequest } from '../../shared/policy/engine.ts';

export function aRequest(overrides: Partial<PolicyRequest> = {}): PolicyRequest {
  return {
    workspaceId: 'team-a',
    planId: 'standard',
    kubernetesVersion: 'v1.31.4',
    region: 'eu-west-1',
    controlPlane: { replicas: 3, instanceType: 'm6i.large' },
    nodePools: [{ name: 'workers', instanceType: 'm6i.large', desired: 3, max: 6, capacityType: 'on-demand' }],
    ttlHours: 72,
    costEstimate: { monthlyUsd: 469.39 },
    workspaceUsage: { clusters: 2, monthlyUsd: 1000 },
    isNewCluster: true,
    ...overrides,
  };
}

export function aPolicy(id: string, rules: PolicyRules, workspaceId: string | null = null): PolicyInput {
  return { id, workspaceId, rules };
}

/** Every rule set, each one satisfied by `aRequest()`. */
export const permissiveRules: PolicyRules = {
  allowedRegions: ['eu-west-1', 'eu-central-1'],
  allowedInstanceTypes: ['m6i.*', 'm7i.*'],
  deniedInstanceTypes: ['*.metal'],
  maxNodesPerCluster: 10,
  maxClustersPerWorkspace: 5,
  maxMonthlyCostPerClusterUsd: 1500,
  maxMonthlyCostPerWorkspaceUsd: 5000,
  allowedPlans: ['standard'],
  allowedKubernetesVersions: ['v1.31.*'],
  maxLifetimeHours: 720,
  allowSpot: false,
};
