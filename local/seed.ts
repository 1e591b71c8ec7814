/**
 * The demo setup a first `npm start` creates, so the five-minute tour works without typing any admin
 * configuration: a simulated cloud access, a network plan, two cluster plans on the simulator's
 * ClusterClasses, two compute templates, a package, a global policy the demo request satisfies, and the
 * workspace `demo` (owner `user:alice`, developers `user:dev` and group `demo-devs`).
 *
 * Everything goes through the request schemas (defaults applied, a bad seed fails loudly) and the stores
 * (audited like an admin's change). Each item is created only when absent, so seeding twice is harmless and
 * never overwrites what an admin changed since.
 */
import {
  type CreateClusterBody,
  CreateCloudAccessBody,
  CreateClusterPlanBody,
  CreateComputeTemplateBody,
  CreateNetworkPlanBody,
  CreatePackageBody,
  CreatePolicyBody,
  CreateWorkspaceBody,
} from '../shared/domain/schemas.ts';
import { AlreadyExistsError } from '../shared/errors.ts';
import type { Actor, Stores } from '../shared/store/ports.ts';

export const DEMO_WORKSPACE = 'demo';
export const DEMO_ADMIN = { sub: 'admin', groups: ['slipway-admins'] } as const;
export const DEMO_DEVELOPER = { sub: 'dev', groups: ['demo-devs'] } as const;
export const DEMO_OWNER = { sub: 'alice', groups: [] as string[] } as const;

const SEED_ACTOR: Actor = { principal: 'system:local-seed' };

/** A request the demo policy allows: the tour's first cluster. */
export const DEMO_CLUSTER_REQUEST: CreateClusterBody = {
  name: 'dev-1',
  plan: { id: 'standard' },
  computeTemplateId: 'small',
  region: 'eu-west-1',
  cloudAccessId: 'sim-sandbox',
  ttlHours: 72,
};

const cloudAccess = CreateCloudAccessBody.parse({
  id: 'sim-sandbox',
  description: 'Simulated AWS account served by the local CAPI simulator',
  provider: 'sim',
  accountId: '000000000000',
  roleArn: 'arn:aws:iam::000000000000:role/SlipwayProvisioner',
  externalId: 'slipway-local',
  regions: ['eu-west-1', 'eu-central-1'],
});

const networkPlan = CreateNetworkPlanBody.parse({
  id: 'standard-net',
  description: 'One VPC per cluster, Cilium, public API endpoint',
  vpcCidr: '10.0.0.0/16',
  podCidr: '192.168.0.0/16',
  serviceCidr: '10.96.0.0/12',
  cni: { name: 'cilium', version: '1.16.5' },
  endpointAccess: 'public',
});

const metricsServer = CreatePackageBody.parse({
  name: 'metrics-server',
  version: '3.12.2',
  description: 'Resource metrics for kubectl top and autoscalers',
  helm: { repoURL: 'https://kubernetes-sigs.github.io/metrics-server', chart: 'metrics-server', version: '3.12.2', values: {} },
});

const clusterPlans = [
  CreateClusterPlanBody.parse({
    id: 'standard',
    description: 'Kubernetes 1.31 on the simulated Ferrol stack, HA control plane',
    clusterClass: 'sim-ferrol-1-31-v1',
    kubernetesVersion: 'v1.31.4',
    networkPlanId: 'standard-net',
    controlPlane: { replicas: 3, instanceType: 'm6i.large' },
    packages: [{ name: 'metrics-server', version: '3.12.2' }],
    podSecurity: 'baseline',
    defaultDenyNetwork: true,
    access: [{ group: 'demo-devs', role: 'edit' }],
    maxLifetimeHours: 720,
  }),
  CreateClusterPlanBody.parse({
    id: 'next',
    description: 'Kubernetes 1.32 on the simulated Ferrol stack, for trying the next minor',
    clusterClass: 'sim-ferrol-1-32-v1',
    kubernetesVersion: 'v1.32.1',
    networkPlanId: 'standard-net',
    controlPlane: { replicas: 1, instanceType: 'm6i.large' },
    packages: [],
    podSecurity: 'restricted',
    defaultDenyNetwork: true,
    access: [{ group: 'demo-devs', role: 'edit' }],
    maxLifetimeHours: 168,
  }),
];

const computeTemplates = [
  CreateComputeTemplateBody.parse({
    id: 'small',
    description: 'Two general-purpose workers',
    nodePools: [{ name: 'workers', instanceType: 'm6i.large', min: 1, desired: 2, max: 4, capacityType: 'on-demand' }],
  }),
  CreateComputeTemplateBody.parse({
    id: 'general',
    description: 'General-purpose workers plus a tainted pool for batch jobs',
    nodePools: [
      { name: 'workers', instanceType: 'm6i.xlarge', min: 2, desired: 3, max: 6, capacityType: 'on-demand' },
      {
        name: 'batch',
        instanceType: 'c6i.xlarge',
        min: 0,
        desired: 1,
        max: 4,
        capacityType: 'on-demand',
        labels: { 'slipway.dev/pool': 'batch' },
        taints: [{ key: 'slipway.dev/batch', value: 'true', effect: 'NoSchedule' }],
      },
    ],
  }),
];

const policy = CreatePolicyBody.parse({
  id: 'demo-guardrails',
  description: 'Global guardrails of the local demo',
  workspaceId: null,
  rules: {
    allowedRegions: ['eu-west-1', 'eu-central-1'],
    allowedInstanceTypes: ['m6i.*', 'c6i.*', 't3.*'],
    deniedInstanceTypes: ['*.metal'],
    maxNodesPerCluster: 16,
    maxClustersPerWorkspace: 5,
    maxMonthlyCostPerClusterUsd: 3000,
    maxMonthlyCostPerWorkspaceUsd: 10000,
    allowedPlans: ['standard', 'next'],
    allowedKubernetesVersions: ['v1.31.*', 'v1.32.*'],
    maxLifetimeHours: 720,
    allowSpot: false,
  },
});

const workspace = CreateWorkspaceBody.parse({
  id: DEMO_WORKSPACE,
  name: 'Demo',
  description: 'The workspace of the local tour',
  members: [
    { principal: `user:${DEMO_OWNER.sub}`, role: 'owner' },
    { principal: `user:${DEMO_DEVELOPER.sub}`, role: 'member' },
    { principal: 'group:demo-devs', role: 'member' },
  ],
  cloudAccessIds: ['sim-sandbox'],
});

export interface SeedResult {
  /** `kind/id` of what was created now; what existed already is left alone. */
  created: string[];
  kept: string[];
}

/** Creates the demo setup, item by item, where absent. Dependencies first (a plan's network plan…). */
export async function seedDemo(stores: Stores, now: () => Date = () => new Date()): Promise<SeedResult> {
  const result: SeedResult = { created: [], kept: [] };
  const ensure = async (what: string, create: () => Promise<unknown>): Promise<void> => {
    try {
      await create();
      result.created.push(what);
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
      result.kept.push(what);
    }
  };

  await ensure(`cloud-access/${cloudAccess.id}`, () =>
    stores.cloudAccesses.create(
      { ...cloudAccess, verification: { status: 'Verified', lastVerifiedAt: now().toISOString(), message: 'simulated provider: nothing to assume' } },
      SEED_ACTOR,
    ),
  );
  await ensure(`network-plan/${networkPlan.id}`, () => stores.networkPlans.create(networkPlan, SEED_ACTOR));
  await ensure(`package/${metricsServer.name}@${metricsServer.version}`, () => stores.packages.create(metricsServer, SEED_ACTOR));
  for (const { id, ...spec } of clusterPlans) {
    await ensure(`cluster-plan/${id}`, () => stores.clusterPlans.create(id, spec, SEED_ACTOR));
  }
  for (const template of computeTemplates) {
    await ensure(`compute-template/${template.id}`, () => stores.computeTemplates.create(template, SEED_ACTOR));
  }
  await ensure(`policy/${policy.id}`, () => stores.policies.create(policy, SEED_ACTOR));
  await ensure(`workspace/${workspace.id}`, () => stores.workspaces.create(workspace, SEED_ACTOR));
  return result;
}
