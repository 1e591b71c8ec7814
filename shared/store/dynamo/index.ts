/** The DynamoDB adapters of every store port, built once per process (Lambda container or local runtime). */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Stores } from '../ports.ts';
import { DynamoAuditStore } from './audit.ts';
import { DynamoClusterPlanStore } from './cluster-plans.ts';
import { DynamoClusterStore } from './clusters.ts';
import { DynamoCloudAccessStore, DynamoComputeTemplateStore, DynamoNetworkPlanStore, DynamoPolicyStore } from './collections.ts';
import type { DynamoContext } from './common.ts';
import { DynamoIdempotencyStore } from './idempotency.ts';
import { DynamoAccountStore, DynamoOnboardingRuleStore } from './onboarding.ts';
import { DynamoPackageStore } from './packages.ts';
import { DynamoRevocationStore } from './revocations.ts';
import { DynamoWorkspaceStore } from './workspaces.ts';

export interface DynamoStoresOptions {
  /**
   * A DocumentClient created with `marshallOptions: { removeUndefinedValues: true }` (optional fields of
   * entities are `undefined` when absent).
   */
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Clock override (tests). */
  now?: () => Date;
}

export function createDynamoStores(options: DynamoStoresOptions): Stores {
  const ctx: DynamoContext = { client: options.client, tableName: options.tableName, now: options.now ?? (() => new Date()) };
  return {
    cloudAccesses: new DynamoCloudAccessStore(ctx),
    networkPlans: new DynamoNetworkPlanStore(ctx),
    clusterPlans: new DynamoClusterPlanStore(ctx),
    computeTemplates: new DynamoComputeTemplateStore(ctx),
    packages: new DynamoPackageStore(ctx),
    policies: new DynamoPolicyStore(ctx),
    workspaces: new DynamoWorkspaceStore(ctx),
    clusters: new DynamoClusterStore(ctx),
    audit: new DynamoAuditStore(ctx),
    idempotency: new DynamoIdempotencyStore(ctx),
    onboardingRules: new DynamoOnboardingRuleStore(ctx),
    accounts: new DynamoAccountStore(ctx),
    revocations: new DynamoRevocationStore(ctx),
  };
}

export { DynamoAuditStore, DynamoClusterPlanStore, DynamoClusterStore, DynamoIdempotencyStore, DynamoPackageStore, DynamoWorkspaceStore };
export { DynamoCloudAccessStore, DynamoComputeTemplateStore, DynamoNetworkPlanStore, DynamoPolicyStore };
export { DynamoAccountStore, DynamoOnboardingRuleStore, DynamoRevocationStore };
