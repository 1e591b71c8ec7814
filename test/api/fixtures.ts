/** The configuration most API suites start from, created through the API itself as an admin would. */
import type { ApiHarness } from '../helpers/api.ts';

export const cloudAccess = {
  id: 'sandbox',
  provider: 'sim',
  accountId: '123456789012',
  roleArn: 'arn:aws:iam::123456789012:role/SlipwayProvisioner',
  externalId: 'slipway-test',
  regions: ['eu-west-1', 'eu-central-1'],
};

export const networkPlan = {
  id: 'standard-net',
  vpcCidr: '10.0.0.0/16',
  podCidr: '192.168.0.0/16',
  serviceCidr: '10.96.0.0/12',
  cni: { name: 'cilium', version: '1.16.5' },
  endpointAccess: 'public',
};

export const pkg = {
  name: 'metrics-server',
  version: '3.12.2',
  helm: { repoURL: 'https://kubernetes-sigs.github.io/metrics-server', chart: 'metrics-server', version: '3.12.2', values: {} },
};

export const clusterPlan = {
  id: 'standard',
  description: 'General purpose',
  clusterClass: 'sim-ferrol-1-31-v1',
  kubernetesVersion: 'v1.31.4',
  networkPlanId: 'standard-net',
  controlPlane: { replicas: 3, instanceType: 'm6i.large' },
  packages: [{ name: 'metrics-server', version: '3.12.2' }],
  podSecurity: 'restricted',
  defaultDenyNetwork: true,
  access: [{ group: 'team-a-devs', role: 'edit' }],
  maxLifetimeHours: 720,
};

export const computeTemplate = {
  id: 'general',
  nodePools: [
    { name: 'workers', instanceType: 'm6i.large', min: 1, desired: 3, max: 6, capacityType: 'on-demand', labels: {}, taints: [] },
  ],
};

export const policy = {
  id: 'guardrails',
  workspaceId: null,
  rules: {
    allowedRegions: ['eu-west-1', 'eu-central-1'],
    allowedInstanceTypes: ['m6i.*', 'm7i.*'],
    deniedInstanceTypes: [],
    maxNodesPerCluster: 20,
    maxClustersPerWorkspace: 5,
    maxMonthlyCostPerClusterUsd: 3000,
    maxMonthlyCostPerWorkspaceUsd: 10000,
    allowedPlans: ['standard'],
    allowedKubernetesVersions: ['v1.31.*'],
    maxLifetimeHours: 720,
    allowSpot: true,
  },
};

/** Principals the suites act as. */
export const people = {
  admin: { sub: 'root', groups: ['slipway-admins'] },
  owner: { sub: 'alice', groups: [] },
  member: { sub: 'bob', groups: ['team-a-devs'] },
  other: { sub: 'carol', groups: [] },
} as const;

export const workspaceA = {
  id: 'team-a',
  name: 'Team A',
  members: [
    { principal: 'user:alice', role: 'owner' },
    { principal: 'group:team-a-devs', role: 'member' },
  ],
  cloudAccessIds: ['sandbox'],
};

export const workspaceB = {
  id: 'team-b',
  name: 'Team B',
  members: [{ principal: 'user:carol', role: 'owner' }],
  cloudAccessIds: ['sandbox'],
};

export const clusterRequest = {
  name: 'dev-1',
  plan: { id: 'standard' },
  computeTemplateId: 'general',
  region: 'eu-west-1',
  cloudAccessId: 'sandbox',
  nodePools: [{ name: 'workers', desired: 4 }],
  ttlHours: 72,
};

export const onboardingRule = {
  id: 'sandbox-accounts',
  priority: 10,
  match: { organizationalUnits: ['Sandbox'], accountName: 'team-*' },
  access: { provider: 'aws', roleName: 'SlipwayProvisioner', externalId: 'slipway-ext-1', regions: ['eu-west-1'] },
  workspace: { idTemplate: 'acct-{accountName}', owners: [{ fromEmail: true }], members: ['group:team-a-devs'] },
  baseline: { name: 'baseline', plan: { id: 'standard' }, computeTemplateId: 'general', region: 'eu-west-1' },
};

/** Creates the whole fixture configuration as the admin; fails the test on any non-2xx. */
export async function seedConfig(api: ApiHarness): Promise<void> {
  const admin = await api.token(people.admin);
  const steps: Array<[string, unknown]> = [
    ['/v1/cloud-accesses', cloudAccess],
    ['/v1/network-plans', networkPlan],
    ['/v1/packages', pkg],
    ['/v1/cluster-plans', clusterPlan],
    ['/v1/compute-templates', computeTemplate],
    ['/v1/policies', policy],
    ['/v1/workspaces', workspaceA],
    ['/v1/workspaces', workspaceB],
  ];
  for (const [path, body] of steps) {
    const res = await api.call('POST', path, { token: admin, body });
    if (res.status !== 201) throw new Error(`seeding ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
}
