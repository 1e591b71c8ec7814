/**
 * slipway:managementClusterMode=create: the template holds a working management cluster — VPC, EKS with access
 * entries only, logs and envelope encryption, nodes in the private subnets, CAPA's pod identity that may only
 * assume the cloud-access roles, the access entries the steps use, and the CAPI-providers custom resource.
 */
import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPI_PROVIDERS_IS_COMPLETE_HANDLER, CAPI_PROVIDERS_ON_EVENT_HANDLER, catalogVersions } from '../../infra/capi-providers.ts';
import { DEFAULT_MANAGEMENT_KUBERNETES_VERSION } from '../../infra/config.ts';
import { DEFAULT_PATHS } from '../../infra/stack.ts';
import { CAPA_NAMESPACE, CAPA_SERVICE_ACCOUNT, CreatedManagementCluster, isArmInstanceType } from '../../infra/management-cluster-create.ts';
import { ACCESS_NAMESPACE } from '../../shared/capi/access.ts';
import { CERT_MANAGER, PROVIDERS } from '../../shared/capi/providers/catalog.ts';
import { CapiProvidersProperties } from '../../shared/config/capi-providers.ts';
import { RouteGroup } from '../../shared/http/routes.ts';
import { type Built, policyStatements, referencedId, removeOutdirs, renderValue, resourcesOf, synthTemplate } from './helpers.ts';

afterAll(removeOutdirs);

const CREATE = { 'slipway:managementClusterMode': 'create' };
const ADMIN = 'arn:aws:iam::123456789012:role/PlatformAdmin';
const BREAK_GLASS = 'arn:aws:iam::123456789012:user/break-glass';

type Props = Record<string, unknown>;
type Resource = { Type: string; Properties?: Props; DependsOn?: string[] };

const logicalId = (built: Built, construct: IConstruct) => built.stack.getLogicalId(construct.node.defaultChild as CfnElement);
const created = (built: Built): CreatedManagementCluster => {
  const mc = built.stack.managementCluster;
  if (!(mc instanceof CreatedManagementCluster)) throw new Error('not a created management cluster');
  return mc;
};
const only = (built: Built, type: string): [string, Resource] => {
  const all = Object.entries(resourcesOf(built.template, type));
  expect(all, type).toHaveLength(1);
  return all[0] as [string, Resource];
};
const dependsOn = (r: Resource): string[] => [r.DependsOn ?? []].flat();

describe('create mode: the EKS cluster', () => {
  let built: Built;
  let cluster: [string, Resource];
  beforeAll(() => {
    built = synthTemplate({ context: { ...CREATE, 'slipway:managementClusterName': 'capi-mgmt' } });
    cluster = only(built, 'AWS::EKS::Cluster');
  });

  it('authenticates by access entries only, with no implicit admin for whoever deploys', () => {
    expect(cluster[1].Properties?.Name).toBe('capi-mgmt');
    expect(cluster[1].Properties?.AccessConfig).toEqual({ AuthenticationMode: 'API', BootstrapClusterCreatorAdminPermissions: false });
    expect(cluster[1].Properties?.Version).toBe(DEFAULT_MANAGEMENT_KUBERNETES_VERSION);
    expect(cluster[1].Properties?.UpgradePolicy).toEqual({ SupportType: 'STANDARD' });
  });

  it('exports every control-plane log type, into a log group with a retention', () => {
    const types = (cluster[1].Properties!.Logging as { ClusterLogging: { EnabledTypes: { Type: string }[] } }).ClusterLogging.EnabledTypes.map((t) => t.Type);
    expect(types.sort()).toEqual(['api', 'audit', 'authenticator', 'controllerManager', 'scheduler']);
    const logs = Object.entries(resourcesOf(built.template, 'AWS::Logs::LogGroup')).find(([, g]) => g.Properties?.LogGroupName === '/aws/eks/capi-mgmt/cluster');
    expect(logs?.[1].Properties?.RetentionInDays).toBe(90);
    expect(dependsOn(cluster[1])).toContain(logs?.[0]);
  });

  it('envelope-encrypts Secrets with a customer-managed key that rotates, whose policy has no kms:*', () => {
    const [config] = cluster[1].Properties!.EncryptionConfig as { Provider: { KeyArn: unknown }; Resources: string[] }[];
    expect(config?.Resources).toEqual(['secrets']);
    const keyId = referencedId(config?.Provider.KeyArn);
    const key = resourcesOf(built.template, 'AWS::KMS::Key')[keyId ?? ''];
    expect(key?.Properties?.EnableKeyRotation).toBe(true);
    const actions = policyStatements({ Type: 'x', Properties: { PolicyDocument: key?.Properties?.KeyPolicy } }).flatMap((s) => [s.Action ?? []].flat());
    expect(actions).toContain('kms:Decrypt');
    for (const a of actions) expect(a).not.toContain('*');
    // The cluster role may use it (EKS creates a grant for the control plane).
    const roleId = referencedId(cluster[1].Properties?.RoleArn);
    const uses = Object.values(resourcesOf(built.template, 'AWS::IAM::Policy'))
      .filter((p) => ((p.Properties?.Roles as unknown[]) ?? []).map(referencedId).includes(roleId))
      .flatMap(policyStatements)
      .filter((s) => referencedId(s.Resource) === keyId)
      .flatMap((s) => [s.Action ?? []].flat());
    expect(uses.sort()).toEqual(['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ListGrants']);
  });

  it('keeps the control plane in the private subnets; public endpoint on by default (IAM-authenticated)', () => {
    const vpc = cluster[1].Properties?.ResourcesVpcConfig as Props;
    const privateIds = created(built).vpc.privateSubnets.map((s) => logicalId(built, s));
    expect((vpc.SubnetIds as unknown[]).map(referencedId).sort()).toEqual(privateIds.sort());
    expect(vpc).toMatchObject({ EndpointPrivateAccess: true, EndpointPublicAccess: true });
  });

  it('gives the cluster role the AWS-managed EKS cluster policy only', () => {
    const role = resourcesOf(built.template, 'AWS::IAM::Role')[referencedId(cluster[1].Properties?.RoleArn) ?? ''];
    expect((role!.Properties!.ManagedPolicyArns as unknown[]).map(renderValue)).toEqual(['arn:<AWS::Partition>:iam::aws:policy/AmazonEKSClusterPolicy']);
  });

  it('builds a VPC with flow logs, one NAT gateway by default, public and private subnets, a DynamoDB gateway endpoint', () => {
    expect(Object.keys(resourcesOf(built.template, 'AWS::EC2::VPC'))).toHaveLength(1);
    expect(Object.keys(resourcesOf(built.template, 'AWS::EC2::NatGateway'))).toHaveLength(1);
    const flow = only(built, 'AWS::EC2::FlowLog')[1];
    expect(flow.Properties).toMatchObject({ TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    const mc = created(built);
    expect(mc.vpc.publicSubnets.length).toBeGreaterThanOrEqual(2);
    expect(mc.vpc.privateSubnets.length).toBe(mc.vpc.publicSubnets.length);
    const endpoint = only(built, 'AWS::EC2::VPCEndpoint')[1];
    expect(renderValue(endpoint.Properties?.ServiceName)).toContain('dynamodb');
  });

  it('adds the EKS Pod Identity agent once the nodes exist', () => {
    const [, addon] = only(built, 'AWS::EKS::Addon');
    expect(addon.Properties?.AddonName).toBe('eks-pod-identity-agent');
    expect(referencedId(addon.Properties?.ClusterName)).toBe(cluster[0]);
    expect(dependsOn(addon)).toContain(built.stack.getLogicalId(created(built).nodegroup));
  });

  it('outputs the cluster name and CAPA role', () => {
    const outputs = built.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ManagementClusterName?.Value).toBe('capi-mgmt');
    expect(referencedId(outputs.CapaControllerRoleArn?.Value)).toBe(logicalId(built, created(built).capaRole));
  });
});

describe('create mode: nodes', () => {
  it('runs one AL2023 managed node group in the private subnets, sized and typed from context, IMDSv2 hop limit 1', () => {
    const built = synthTemplate({ context: { ...CREATE, 'slipway:managementNodeInstanceType': 'm6i.xlarge', 'slipway:managementNodeCount': '3' } });
    const [, group] = only(built, 'AWS::EKS::Nodegroup');
    expect(group.Properties).toMatchObject({
      AmiType: 'AL2023_x86_64_STANDARD',
      InstanceTypes: ['m6i.xlarge'],
      ScalingConfig: { MinSize: 3, DesiredSize: 3, MaxSize: 3 },
      Version: DEFAULT_MANAGEMENT_KUBERNETES_VERSION,
    });
    const privateIds = created(built).vpc.privateSubnets.map((s) => logicalId(built, s));
    expect((group.Properties!.Subnets as unknown[]).map(referencedId).sort()).toEqual(privateIds.sort());
    // Booted only once the private subnets route out through the NAT gateway (image pulls).
    const routes = Object.entries(resourcesOf(built.template, 'AWS::EC2::Route'))
      .filter(([, r]) => r.Properties?.NatGatewayId !== undefined)
      .map(([id]) => id);
    expect(routes.length).toBe(privateIds.length);
    expect(dependsOn(group)).toEqual(expect.arrayContaining(routes));
    expect(referencedId(group.Properties?.ClusterName)).toBe(only(built, 'AWS::EKS::Cluster')[0]);

    const template = resourcesOf(built.template, 'AWS::EC2::LaunchTemplate')[referencedId((group.Properties!.LaunchTemplate as Props).Id) ?? ''];
    const data = template?.Properties?.LaunchTemplateData as { MetadataOptions: Props; BlockDeviceMappings: { Ebs: Props }[] };
    expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect(data.BlockDeviceMappings[0]?.Ebs.Encrypted).toBe(true);

    const nodeRole = resourcesOf(built.template, 'AWS::IAM::Role')[referencedId(group.Properties?.NodeRole) ?? ''];
    expect((nodeRole!.Properties!.ManagedPolicyArns as unknown[]).map(renderValue).sort()).toEqual(
      ['AmazonEC2ContainerRegistryPullOnly', 'AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy'].map((p) => `arn:<AWS::Partition>:iam::aws:policy/${p}`),
    );
  });

  it('picks the arm64 image for Graviton instance types', () => {
    expect(['m7g.large', 't4g.medium', 'c6gn.xlarge', 'r8gd.2xlarge'].every(isArmInstanceType)).toBe(true);
    expect(['m6i.large', 'm7i-flex.large', 'g5.xlarge', 'inf2.xlarge', 'm6in.large'].some(isArmInstanceType)).toBe(false);
    const built = synthTemplate({ context: { ...CREATE, 'slipway:managementNodeInstanceType': 'm7g.large' } });
    expect(only(built, 'AWS::EKS::Nodegroup')[1].Properties?.AmiType).toBe('AL2023_ARM_64_STANDARD');
  });
});

describe("create mode: CAPA's credentials", () => {
  let built: Built;
  beforeAll(() => {
    built = synthTemplate({ context: { ...CREATE, 'slipway:cloudAccessRoleName': 'SlipwayProvisioner,OrgVendingAccess' } });
  });

  it('associates the CAPA controller service account with its role through EKS Pod Identity', () => {
    const [, association] = only(built, 'AWS::EKS::PodIdentityAssociation');
    expect(association.Properties).toMatchObject({ Namespace: CAPA_NAMESPACE, ServiceAccount: CAPA_SERVICE_ACCOUNT });
    expect(CAPA_NAMESPACE).toBe(PROVIDERS['infrastructure-aws'].namespace);
    expect(referencedId(association.Properties?.ClusterName)).toBe(only(built, 'AWS::EKS::Cluster')[0]);
    expect(referencedId(association.Properties?.RoleArn)).toBe(logicalId(built, created(built).capaRole));
  });

  it('lets only EKS Pod Identity assume the role, and the role only assume the configured cloud-access roles', () => {
    const roleId = logicalId(built, created(built).capaRole);
    const role = resourcesOf(built.template, 'AWS::IAM::Role')[roleId];
    expect(role?.Properties?.RoleName).toBe('Slipway-capa-controller');
    expect(role?.Properties?.ManagedPolicyArns).toBeUndefined();
    const trust = policyStatements({ Type: 'x', Properties: { PolicyDocument: role?.Properties?.AssumeRolePolicyDocument } });
    expect(trust).toEqual([{ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Principal: { Service: 'pods.eks.amazonaws.com' } }]);

    const statements = Object.values(resourcesOf(built.template, 'AWS::IAM::Policy'))
      .filter((p) => ((p.Properties?.Roles as unknown[]) ?? []).map(referencedId).includes(roleId))
      .flatMap(policyStatements);
    expect(statements).toHaveLength(1);
    expect(statements[0]?.Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    expect([statements[0]?.Resource].flat().map(renderValue)).toEqual([
      'arn:<AWS::Partition>:iam::*:role/SlipwayProvisioner',
      'arn:<AWS::Partition>:iam::*:role/OrgVendingAccess',
    ]);
  });
});

describe('create mode: access entries', () => {
  let built: Built;
  let clusterId: string;
  let entries: Map<string, Resource>;
  beforeAll(() => {
    built = synthTemplate({ context: { ...CREATE, 'slipway:managementAdminPrincipalArns': `${ADMIN},${BREAK_GLASS}` } });
    clusterId = only(built, 'AWS::EKS::Cluster')[0];
    entries = new Map(
      Object.values(resourcesOf(built.template, 'AWS::EKS::AccessEntry')).map((e) => [renderValue(e.Properties?.PrincipalArn), e as Resource]),
    );
  });

  const policies = (e: Resource | undefined) =>
    (e?.Properties?.AccessPolicies as { PolicyArn: unknown; AccessScope: unknown }[] | undefined)?.map((p) => [renderValue(p.PolicyArn), p.AccessScope]);
  const CLUSTER_ADMIN = [['arn:<AWS::Partition>:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy', { Type: 'cluster' }]];
  const roleEntry = (construct: IConstruct) => entries.get(`<${logicalId(built, construct)}.Arn>`);

  it('maps the step role, the kubeconfig reader and the installer, each naming the created cluster (so depending on it)', () => {
    const mc = created(built);
    const steps = roleEntry(built.stack.workflows.clusterStepsRole);
    const reader = roleEntry(built.stack.api.functions.get(RouteGroup.kubeconfig)!.role);
    const installer = roleEntry(mc.providers.role);
    expect(policies(steps)).toEqual(CLUSTER_ADMIN);
    expect(policies(reader)).toEqual([
      ['arn:<AWS::Partition>:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy', { Type: 'namespace', Namespaces: [ACCESS_NAMESPACE] }],
    ]);
    expect(policies(installer)).toEqual(CLUSTER_ADMIN);
    for (const e of [steps, reader, installer]) expect(referencedId(e?.Properties?.ClusterName)).toBe(clusterId);
  });

  it('gives each configured admin principal a cluster-admin entry, and nobody else', () => {
    expect(policies(entries.get(ADMIN))).toEqual(CLUSTER_ADMIN);
    expect(policies(entries.get(BREAK_GLASS))).toEqual(CLUSTER_ADMIN);
    expect(referencedId(entries.get(ADMIN)?.Properties?.ClusterName)).toBe(clusterId);
    // Steps, kubeconfig route, access revoker, installer, and the two admins.
    expect(entries.size).toBe(6);
    expect(policies(roleEntry(built.stack.revoker!.role))).toEqual([
      ['arn:<AWS::Partition>:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy', { Type: 'namespace', Namespaces: [ACCESS_NAMESPACE] }],
    ]);
  });

  it('keeps an admin entry when the list is reordered (named after the ARN, not its position)', () => {
    const reordered = synthTemplate({ context: { ...CREATE, 'slipway:managementAdminPrincipalArns': `${BREAK_GLASS},${ADMIN}` } });
    const idOf = (b: Built, arn: string) =>
      Object.entries(resourcesOf(b.template, 'AWS::EKS::AccessEntry')).find(([, e]) => e.Properties?.PrincipalArn === arn)?.[0];
    expect(idOf(reordered, ADMIN)).toBe(idOf(built, ADMIN));
    expect(idOf(reordered, BREAK_GLASS)).toBe(idOf(built, BREAK_GLASS));
  });

  it('lets the installer describe only this cluster', () => {
    const roleId = logicalId(built, created(built).providers.role);
    const describe = Object.values(resourcesOf(built.template, 'AWS::IAM::Policy'))
      .filter((p) => ((p.Properties?.Roles as unknown[]) ?? []).map(referencedId).includes(roleId))
      .flatMap(policyStatements)
      .filter((s) => s.Action === 'eks:DescribeCluster');
    expect(describe.map((s) => renderValue(s.Resource))).toEqual(['arn:<AWS::Partition>:eks:<AWS::Region>:<AWS::AccountId>:cluster/slipway-management']);
  });
});

describe('create mode: the CAPI providers custom resource', () => {
  let built: Built;
  let resource: [string, Resource];
  beforeAll(() => {
    built = synthTemplate({ context: { ...CREATE, 'slipway:providerRepository': 'https://mirror.example.com/capi' } });
    resource = only(built, 'Custom::SlipwayCapiProviders');
  });

  it('carries properties the handlers accept: aws, CAAPH, the mirror, the catalog versions', () => {
    const { ServiceToken, ServiceTimeout, ...props } = resource[1].Properties ?? {};
    expect(props).toEqual({ Infrastructure: 'aws', AddonHelm: 'true', ProviderRepository: 'https://mirror.example.com/capi', Versions: catalogVersions(true) });
    expect(CapiProvidersProperties.parse(props)).toMatchObject({ Infrastructure: 'aws', AddonHelm: true, ProviderRepository: 'https://mirror.example.com/capi' });
    const versions = JSON.parse(String(props.Versions)) as Record<string, string>;
    expect(versions).toMatchObject({ 'cert-manager': CERT_MANAGER.version, 'cluster-api': PROVIDERS['cluster-api'].version, 'infrastructure-aws': PROVIDERS['infrastructure-aws'].version, 'addon-helm': PROVIDERS['addon-helm'].version });
    // Longer than the framework's 30 minutes, so the framework's own verdict arrives first.
    expect(Number(ServiceTimeout)).toBeGreaterThan(30 * 60);
    expect(referencedId(ServiceToken)).toMatch(/Providerframework/);
  });

  it('omits the mirror unless configured', () => {
    const plain = only(synthTemplate({ context: CREATE }), 'Custom::SlipwayCapiProviders')[1];
    expect(plain.Properties?.ProviderRepository).toBeUndefined();
  });

  it('waits for the nodes, the Pod Identity agent, CAPA pod identity and its own access entry', () => {
    const mc = created(built);
    expect(dependsOn(resource[1]).sort()).toEqual(
      [mc.nodegroup, mc.podIdentityAgent, mc.capaPodIdentity, mc.providers.accessEntry].map((c) => built.stack.getLogicalId(c)).sort(),
    );
  });

  it('runs onEvent and isComplete from functions/custom-resources on Node 24, with the cluster name in their environment', () => {
    const mc = created(built);
    for (const [fn, handler] of [
      [mc.providers.onEvent, CAPI_PROVIDERS_ON_EVENT_HANDLER],
      [mc.providers.isComplete, CAPI_PROVIDERS_IS_COMPLETE_HANDLER],
    ] as const) {
      const props = resourcesOf(built.template, 'AWS::Lambda::Function')[logicalId(built, fn.fn)]?.Properties;
      expect(props?.Runtime, handler).toBe('nodejs24.x');
      expect((props!.Environment as { Variables: Props }).Variables.SLIPWAY_MANAGEMENT_CLUSTER_NAME).toBe('slipway-management');
      expect(referencedId(props?.Role)).toBe(logicalId(built, mc.providers.role));
      expect(props?.VpcConfig).toBeUndefined();
    }
    // The provider framework polls isComplete from a waiter state machine.
    const machines = Object.values(resourcesOf(built.template, 'AWS::StepFunctions::StateMachine')).map((m) => JSON.stringify(m.Properties?.DefinitionString));
    expect(machines.some((d) => d.includes('framework-isComplete-task'))).toBe(true);
  });

  it('registers the handlers with the stack bundler (one esbuild pass for every function)', () => {
    const registered = (built.stack.bundler as unknown as { registered: Set<string> }).registered;
    for (const h of [CAPI_PROVIDERS_ON_EVENT_HANDLER, CAPI_PROVIDERS_IS_COMPLETE_HANDLER]) {
      expect([...registered].some((e) => e.endsWith(`functions/custom-resources/${h}.ts`)), h).toBe(true);
    }
  });
});

describe('create mode with a private endpoint: the functions that call Kubernetes run in the VPC', () => {
  let built: Built;
  beforeAll(() => {
    built = synthTemplate({ context: { ...CREATE, 'slipway:managementEndpointAccess': 'private', 'slipway:managementNatGateways': '2' } });
  });

  it('closes the public endpoint', () => {
    expect(only(built, 'AWS::EKS::Cluster')[1].Properties?.ResourcesVpcConfig).toMatchObject({ EndpointPublicAccess: false, EndpointPrivateAccess: true });
    expect(Object.keys(resourcesOf(built.template, 'AWS::EC2::NatGateway'))).toHaveLength(2);
  });

  it('puts the cluster steps, the kubeconfig route, the access revoker and the installer in the private subnets, nothing else', () => {
    const mc = created(built);
    const sg = logicalId(built, mc.functionNetwork!.securityGroup);
    const privateIds = mc.vpc.privateSubnets.map((s) => logicalId(built, s)).sort();
    const inVpc = new Map<string, Props>();
    for (const [id, fn] of Object.entries(resourcesOf(built.template, 'AWS::Lambda::Function'))) {
      const vpc = fn.Properties?.VpcConfig as Props | undefined;
      if (vpc) inVpc.set(id, vpc);
    }
    const expected = [
      ...[...built.stack.workflows.steps.values()].filter((s) => s.role === built.stack.workflows.clusterStepsRole).map((s) => s.fn),
      built.stack.api.functions.get(RouteGroup.kubeconfig)!.fn,
      built.stack.revoker!.fn,
      mc.providers.onEvent.fn,
      mc.providers.isComplete.fn,
    ].map((fn) => logicalId(built, fn));
    expect(expected.length).toBeGreaterThan(4);
    expect([...inVpc.keys()].sort()).toEqual(expected.sort());
    for (const vpc of inVpc.values()) {
      expect((vpc.SecurityGroupIds as unknown[]).map(referencedId)).toEqual([sg]);
      expect((vpc.SubnetIds as unknown[]).map(referencedId).sort()).toEqual(privateIds);
    }
  });

  it('lets that security group, and only it, into the API server on 443, before the providers are installed', () => {
    const [ingressId, ingress] = only(built, 'AWS::EC2::SecurityGroupIngress');
    expect(dependsOn(only(built, 'Custom::SlipwayCapiProviders')[1])).toContain(ingressId);
    expect(ingress.Properties).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
    expect(renderValue(ingress.Properties?.GroupId)).toBe(`<${only(built, 'AWS::EKS::Cluster')[0]}.ClusterSecurityGroupId>`);
    expect(referencedId(ingress.Properties?.SourceSecurityGroupId)).toBe(logicalId(built, created(built).functionNetwork!.securityGroup));
  });

  it("grants Lambda's network-interface rights to those functions' roles only, without the managed VPC policy", () => {
    const roles = Object.entries(resourcesOf(built.template, 'AWS::IAM::Policy'))
      .filter(([, p]) => policyStatements(p).some((s) => s.Action === 'ec2:CreateNetworkInterface'))
      .flatMap(([, p]) => ((p.Properties?.Roles as unknown[]) ?? []).map(referencedId));
    const mc = created(built);
    expect(roles.sort()).toEqual(
      [built.stack.workflows.clusterStepsRole, built.stack.api.functions.get(RouteGroup.kubeconfig)!.role, built.stack.revoker!.role, mc.providers.role]
        .map((r) => logicalId(built, r))
        .sort(),
    );
    for (const role of Object.values(resourcesOf(built.template, 'AWS::IAM::Role'))) {
      expect(JSON.stringify(role.Properties?.ManagedPolicyArns ?? [])).not.toContain('AWSLambdaVPCAccessExecutionRole');
    }
  });
});

describe('create mode in an existing VPC', () => {
  const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
  it('creates no network, and puts the control plane, the nodes and the in-VPC functions in the given subnets', () => {
    const built = synthTemplate({
      context: {
        ...CREATE,
        'slipway:managementVpcId': 'vpc-0123456789abcdef0',
        'slipway:managementSubnetIds': SUBNETS.join(','),
        'slipway:managementEndpointAccess': 'private',
      },
    });
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::NatGateway', 'AWS::EC2::FlowLog', 'AWS::EC2::VPCEndpoint']) {
      expect(Object.keys(resourcesOf(built.template, type)), type).toHaveLength(0);
    }
    expect((only(built, 'AWS::EKS::Cluster')[1].Properties!.ResourcesVpcConfig as Props).SubnetIds).toEqual(SUBNETS);
    expect(only(built, 'AWS::EKS::Nodegroup')[1].Properties?.Subnets).toEqual(SUBNETS);
    const sg = resourcesOf(built.template, 'AWS::EC2::SecurityGroup')[logicalId(built, created(built).functionNetwork!.securityGroup)];
    expect(sg?.Properties?.VpcId).toBe('vpc-0123456789abcdef0');
    const installer = resourcesOf(built.template, 'AWS::Lambda::Function')[logicalId(built, created(built).providers.onEvent.fn)];
    expect((installer!.Properties!.VpcConfig as Props).SubnetIds).toEqual(SUBNETS);
  });
});

describe('create mode: CloudFormation limits', () => {
  it("keeps the repository's stack with a created cluster well under 500 resources", () => {
    const { template } = synthTemplate({ paths: DEFAULT_PATHS, context: { ...CREATE, 'slipway:managementEndpointAccess': 'private' } });
    // The cluster adds about 60 resources to import mode's (under 400, test/infra/monitoring.test.ts).
    expect(Object.keys((template.toJSON() as { Resources: object }).Resources).length).toBeLessThan(460);
  });
});

describe('import mode builds no cluster', () => {
  it('has no VPC, EKS cluster, node group or custom resource', () => {
    const built = synthTemplate();
    for (const type of ['AWS::EC2::VPC', 'AWS::EKS::Cluster', 'AWS::EKS::Nodegroup', 'AWS::EKS::PodIdentityAssociation', 'Custom::SlipwayCapiProviders', 'AWS::KMS::Key']) {
      expect(Object.keys(resourcesOf(built.template, type)), type).toHaveLength(0);
    }
    for (const fn of Object.values(resourcesOf(built.template, 'AWS::Lambda::Function'))) expect(fn.Properties?.VpcConfig).toBeUndefined();
    expect((built.template.toJSON().Outputs as Record<string, unknown>).CapaControllerRoleArn).toBeUndefined();
  });
});
