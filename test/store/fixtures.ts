/** Valid entities for store tests: small, schema-conformant, overridable. */
import { randomUUID } from 'node:crypto';
import type { Cluster, ClusterPlanSpec } from '../../shared/domain/schemas.ts';
import type { NewCloudAccess, NewComputeTemplate, NewNetworkPlan, NewPolicy, NewWorkspace } from '../../shared/store/ports.ts';

export const admin = { principal: 'user:admin' };

export function networkPlan(id: string, overrides: Partial<NewNetworkPlan> = {}): NewNetworkPlan {
  return {
    id,
    vpcCidr: '10.0.0.0/16',
    podCidr: '192.168.0.0/16',
    serviceCidr: '10.96.0.0/12',
    cni: { name: 'cilium', version: '1.16.5' },
    endpointAccess: 'public',
    ...overrides,
  };
}

export function cloudAccess(id: string): NewCloudAccess {
  return {
    id,
    provider: 'sim',
    accountId: '123456789012',
    roleArn: 'arn:aws:iam::123456789012:role/SlipwayProvisioner',
    regions: ['eu-west-1'],
    verification: { status: 'Pending' },
  };
}

export function computeTemplate(id: string, desired = 3): NewComputeTemplate {
  return {
    id,
    nodePools: [{ name: 'workers', instanceType: 'm6i.large', min: 1, desired, max: 6, capacityType: 'on-demand', labels: {}, taints: [] }],
  };
}

export function policy(id: string, workspaceId: string | null, rules: NewPolicy['rules'] = { maxClustersPerWorkspace: 5 }): NewPolicy {
  return { id, workspaceId, rules };
}

export function planSpec(overrides: Partial<ClusterPlanSpec> = {}): ClusterPlanSpec {
  return {
    clusterClass: 'aws-ferrol-1-31-v2',
    kubernetesVersion: 'v1.31.4',
    networkPlanId: 'standard-net',
    controlPlane: { replicas: 3, instanceType: 'm6i.large' },
    packages: [{ name: 'metrics-server', version: '3.12.2' }],
    podSecurity: 'restricted',
    defaultDenyNetwork: true,
    access: [{ group: 'team-a-devs', role: 'edit' }],
    ...overrides,
  };
}

export function workspace(id: string, members: NewWorkspace['members'] = []): NewWorkspace {
  return { id, name: `Workspace ${id}`, members, cloudAccessIds: ['sandbox'] };
}

export function cluster(workspaceId: string, name: string, overrides: Partial<Cluster> = {}): Cluster {
  const now = new Date().toISOString();
  const monthlyUsd = overrides.costEstimate?.monthlyUsd ?? 100;
  return {
    uid: randomUUID(),
    workspaceId,
    name,
    plan: { id: 'standard', revision: 1 },
    clusterClass: 'aws-ferrol-1-31-v2',
    computeTemplateId: 'general',
    region: 'eu-west-1',
    cloudAccessId: 'sandbox',
    kubernetesVersion: 'v1.31.4',
    controlPlane: { replicas: 3, instanceType: 'm6i.large' },
    nodePools: [{ name: 'workers', instanceType: 'm6i.large', min: 1, desired: 3, max: 6, capacityType: 'on-demand', labels: {}, taints: [] }],
    phase: 'Requested',
    step: null,
    message: null,
    conditions: [],
    generation: 1,
    observedGeneration: 0,
    operation: 'provision',
    executionId: null,
    capiLocation: null,
    costEstimate: { monthlyUsd, currency: 'USD', hoursPerMonth: 730, region: 'eu-west-1', breakdown: [] },
    ttlHours: null,
    expiresAt: null,
    createdAt: now,
    createdBy: 'user:dev',
    updatedAt: now,
    ...overrides,
  };
}

/** Settles every promise and splits outcomes; rejections keep their error. */
export async function settle<T>(promises: Array<Promise<T>>): Promise<{ ok: T[]; errors: unknown[] }> {
  const results = await Promise.allSettled(promises);
  return {
    ok: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    errors: results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : [])),
  };
}

export function errorName(err: unknown): string {
  return err instanceof Error ? err.name : String(err);
}
