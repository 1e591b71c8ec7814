/** The four configuration collections built on DynamoConfigCollection. */
import type { CloudAccess, ComputeTemplate, NetworkPlan, ProvisioningPolicy } from '../../domain/schemas.ts';
import { keys } from '../keys.ts';
import type {
  CloudAccessStore,
  ComputeTemplateStore,
  NetworkPlanStore,
  NewCloudAccess,
  NewComputeTemplate,
  NewNetworkPlan,
  NewPolicy,
  PolicyStore,
} from '../ports.ts';
import type { DynamoContext } from './common.ts';
import { queryAll } from './common.ts';
import { DynamoConfigCollection } from './config-collection.ts';

export class DynamoCloudAccessStore extends DynamoConfigCollection<CloudAccess, NewCloudAccess> implements CloudAccessStore {
  constructor(ctx: DynamoContext) {
    super(ctx, {
      entity: 'CloudAccess',
      resource: 'cloud-accesses',
      label: 'cloud access',
      key: keys.cloudAccess,
      partition: keys.cloudAccesses,
      hasUpdatedAt: false,
    });
  }

  /** Written by the verification step, not by an admin: not audited. */
  setVerification(id: string, verification: CloudAccess['verification']): Promise<CloudAccess> {
    return this.updateFields(id, { verification });
  }
}

export class DynamoNetworkPlanStore extends DynamoConfigCollection<NetworkPlan, NewNetworkPlan> implements NetworkPlanStore {
  constructor(ctx: DynamoContext) {
    super(ctx, {
      entity: 'NetworkPlan',
      resource: 'network-plans',
      label: 'network plan',
      key: keys.networkPlan,
      partition: keys.networkPlans,
      hasUpdatedAt: true,
    });
  }
}

export class DynamoComputeTemplateStore extends DynamoConfigCollection<ComputeTemplate, NewComputeTemplate> implements ComputeTemplateStore {
  constructor(ctx: DynamoContext) {
    super(ctx, {
      entity: 'ComputeTemplate',
      resource: 'compute-templates',
      label: 'compute template',
      key: keys.computeTemplate,
      partition: keys.computeTemplates,
      hasUpdatedAt: true,
    });
  }
}

export class DynamoPolicyStore extends DynamoConfigCollection<ProvisioningPolicy, NewPolicy> implements PolicyStore {
  constructor(ctx: DynamoContext) {
    super(ctx, {
      entity: 'ProvisioningPolicy',
      resource: 'policies',
      label: 'policy',
      key: keys.policy,
      partition: keys.policies,
      hasUpdatedAt: true,
      // gsi1 by scope: a workspace's applicable policies are two Queries, whatever the number of policies.
      indexKeys: (p) => keys.policyScope(p.workspaceId, p.id),
    });
  }

  async applicableTo(workspaceId: string): Promise<ProvisioningPolicy[]> {
    const scopes = [keys.policiesInScope(null), keys.policiesInScope(workspaceId)];
    const results = await Promise.all(scopes.map((s) => queryAll(this.ctx, { index: 'gsi1', partition: { name: 'gsi1pk', value: s.gsi1pk } })));
    return results.flat().map((i) => this.fromItem(i));
  }
}
