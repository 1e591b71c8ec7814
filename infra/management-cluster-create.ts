/**
 * CreatedManagementCluster (`slipway:managementClusterMode=create`): a management EKS cluster built by the
 * stack, reached by the steps exactly like an imported one (access entries, DescribeCluster, its name).
 *
 * - Network: a VPC over up to three AZs — private subnets (nodes, control-plane interfaces, functions in
 *   `private` mode) leaving through `natGateways` NAT gateways, public subnets for the NATs and load
 *   balancers — with flow logs, and a DynamoDB gateway endpoint (free; the in-VPC functions use the table).
 * - EKS as L1 resources (`CfnCluster` etc.): the L2 `eks.Cluster` brings a kubectl Lambda layer, its own
 *   custom-resource provider and a creation role; Slipway talks to Kubernetes with its own client instead.
 *   Access entries only (authenticationMode API, no implicit admin for the deploying principal), every
 *   control-plane log type, Secrets envelope-encrypted with a rotating KMS key (the cluster stores workload
 *   kubeconfigs), standard support only (no extended-support surcharge).
 * - Endpoint: `public-and-private` keeps the functions outside the VPC and relies on IAM authentication
 *   (a presigned STS token mapped by an access entry); `private` closes the public endpoint and runs the
 *   functions that call Kubernetes in the private subnets, allowed in by the cluster security group.
 * - One managed node group (AL2023, private subnets, IMDSv2 with hop limit 1 so pods cannot borrow the node
 *   role) and the EKS Pod Identity agent add-on.
 * - CAPA's controller role (EKS Pod Identity) that may only assume the configured cloud-access roles.
 * - The CAPI providers, installed by a custom resource (infra/capi-providers.ts).
 */
import { createHash } from 'node:crypto';
import { Fn, RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct, IDependable } from 'constructs';
import type { CapiProvidersPropertiesInput } from '../shared/config/capi-providers.ts';
import type { FunctionBundler } from './bundling.ts';
import { CapiProviders } from './capi-providers.ts';
import type { FunctionNetwork } from './function.ts';
import { clusterAdminEntry, type ManagementClusterAccessProps, ManagementClusterBase } from './management-cluster.ts';
import {
  acknowledgeWildcard,
  cloudAccessRoleArn,
  cloudAccessRoleFinding,
  networkInterfacesArn,
  networkInterfacesFinding,
  WILDCARD_REASONS,
} from './wildcards.ts';

export type EndpointAccess = 'public-and-private' | 'private';

/** Where CAPA's controller runs (its kustomize `namePrefix` + the `controller-manager` service account). */
export const CAPA_NAMESPACE = 'capa-system';
export const CAPA_SERVICE_ACCOUNT = 'capa-controller-manager';

/** Every EKS control-plane log type. */
export const CONTROL_PLANE_LOG_TYPES = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'] as const;

export interface CreatedManagementClusterProps extends ManagementClusterAccessProps {
  kubernetesVersion: string;
  nodeInstanceType: string;
  nodeCount: number;
  natGateways: number;
  endpointAccess: EndpointAccess;
  /** Use this VPC and these private subnets instead of creating a VPC. */
  existingVpc?: ExistingVpc;
  /** IAM roles/users given cluster-admin access entries. */
  adminPrincipalArns: readonly string[];
  /** Role names CAPA may assume in target accounts (AWSClusterRoleIdentity). */
  cloudAccessRoleNames: readonly string[];
  /** Fixed name of CAPA's role: target accounts' trust policies name it before the stack exists. */
  capaRoleName: string;
  logRetention: logs.RetentionDays;
  providers: {
    customResourcesDir: string;
    bundler: FunctionBundler;
    properties: CapiProvidersPropertiesInput;
  };
}

interface Network {
  vpc: ec2.IVpc;
  privateSubnets: ec2.ISubnet[];
  /** A created VPC's NAT routes (an existing VPC's are its owner's business). */
  internetConnectivity?: IDependable[];
}

export interface ExistingVpc {
  vpcId: string;
  /** Private subnets (two AZs at least) with a route out (NAT): nodes pull images, functions reach AWS APIs. */
  subnetIds: readonly string[];
}

/** Graviton families (m7g, c6gn, r8gd, t4g, ...): a `g` among the letters after the generation digit. */
export function isArmInstanceType(instanceType: string): boolean {
  const family = instanceType.split('.')[0] ?? '';
  return /^[a-z]+\d+[a-z]*g[a-z]*$/.test(family);
}

const AWS_MANAGED = (name: string) => iam.ManagedPolicy.fromAwsManagedPolicyName(name);
const managedFinding = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`;

export class CreatedManagementCluster extends ManagementClusterBase {
  readonly functionNetwork: FunctionNetwork | undefined;
  protected readonly entryClusterName: string;
  readonly vpc: ec2.IVpc;
  /** Where the nodes, the control-plane interfaces and in-VPC functions go. */
  readonly privateSubnets: ec2.ISubnet[];
  readonly cluster: eks.CfnCluster;
  readonly secretsKey: kms.Key;
  readonly nodegroup: eks.CfnNodegroup;
  readonly podIdentityAgent: eks.CfnAddon;
  readonly capaRole: iam.Role;
  readonly capaPodIdentity: eks.CfnPodIdentityAssociation;
  readonly adminEntries: eks.CfnAccessEntry[] = [];
  readonly providers: CapiProviders;
  /** `private` mode: the functions' security group allowed into the API server. */
  private apiServerIngress: ec2.CfnSecurityGroupIngress | undefined;

  constructor(scope: Construct, id: string, props: CreatedManagementClusterProps) {
    super(scope, id, props);
    const network = props.existingVpc ? this.existingNetwork(props.existingVpc) : this.network(props);
    this.vpc = network.vpc;
    this.privateSubnets = network.privateSubnets;
    const privateSubnets = this.vpc.selectSubnets({ subnets: this.privateSubnets });

    this.secretsKey = this.secretsEncryptionKey();
    const clusterRole = new iam.Role(this, 'ClusterRole', {
      assumedBy: new iam.ServicePrincipal('eks.amazonaws.com'),
      description: `EKS control plane of ${props.clusterName}`,
      managedPolicies: [AWS_MANAGED('AmazonEKSClusterPolicy')],
    });
    Validations.of(clusterRole).acknowledge({
      id: managedFinding('AmazonEKSClusterPolicy'),
      reason: 'EKS requires this AWS-managed policy on the cluster role; AWS maintains it as the control plane gains features.',
    });
    // What EKS needs to envelope-encrypt Secrets with the key (it creates a grant for the control plane).
    this.secretsKey.grant(clusterRole, 'kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey', 'kms:ListGrants', 'kms:CreateGrant');

    // EKS writes control-plane logs to this fixed name; created here so it has a retention (EKS's own never expires).
    const controlPlaneLogs = new logs.LogGroup(this, 'ControlPlaneLogs', {
      logGroupName: `/aws/eks/${props.clusterName}/cluster`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const isPrivate = props.endpointAccess === 'private';
    this.cluster = new eks.CfnCluster(this, 'Cluster', {
      name: props.clusterName,
      version: props.kubernetesVersion,
      roleArn: clusterRole.roleArn,
      resourcesVpcConfig: {
        subnetIds: privateSubnets.subnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess: !isPrivate,
      },
      accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: false },
      logging: { clusterLogging: { enabledTypes: CONTROL_PLANE_LOG_TYPES.map((type) => ({ type })) } },
      encryptionConfig: [{ provider: { keyArn: this.secretsKey.keyArn }, resources: ['secrets'] }],
      // Standard support only: when it ends, EKS upgrades the control plane rather than billing extended support.
      upgradePolicy: { supportType: 'STANDARD' },
    });
    Validations.of(this.cluster).acknowledge({
      id: 'CloudFormation-Validate::W9009',
      reason:
        "The resource schema marks EncryptionConfig.Resources deprecated, but the EKS API still documents it; 'secrets' is kept " +
        'explicit so that what is encrypted never depends on a default.',
    });
    this.cluster.node.addDependency(controlPlaneLogs);
    // The role's policy (KMS grant) must exist before EKS validates the key.
    const clusterRolePolicy = clusterRole.node.tryFindChild('DefaultPolicy');
    if (clusterRolePolicy) this.cluster.node.addDependency(clusterRolePolicy);
    if (!isPrivate) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-EKS1',
        reason:
          'slipway:managementEndpointAccess=public-and-private: the step functions run outside a VPC and reach the API server on its ' +
          'public endpoint; every request must carry an IAM-signed token of a principal with an access entry (authenticationMode API, ' +
          'no aws-auth ConfigMap, no anonymous access). Nodes use the private endpoint. Set it to private to close the public endpoint.',
      });
    }
    // The Ref of CfnCluster is its name: access entries naming it depend on the cluster.
    this.entryClusterName = this.cluster.ref;
    this.functionNetwork = isPrivate ? this.privateFunctionNetwork(privateSubnets) : undefined;

    this.nodegroup = this.nodes(props, privateSubnets);
    // Nodes pull their images through the NAT: a created VPC's routes out must exist before they boot.
    if (network.internetConnectivity) this.nodegroup.node.addDependency(...network.internetConnectivity);
    this.podIdentityAgent = new eks.CfnAddon(this, 'PodIdentityAgent', {
      clusterName: this.cluster.ref,
      addonName: 'eks-pod-identity-agent',
      resolveConflicts: 'OVERWRITE',
    });
    // A DaemonSet: without nodes the add-on never becomes ACTIVE.
    this.podIdentityAgent.node.addDependency(this.nodegroup);

    this.capaRole = this.capaControllerRole(props);
    this.capaPodIdentity = new eks.CfnPodIdentityAssociation(this, 'CapaPodIdentity', {
      clusterName: this.cluster.ref,
      namespace: CAPA_NAMESPACE,
      serviceAccount: CAPA_SERVICE_ACCOUNT,
      roleArn: this.capaRole.roleArn,
    });

    for (const arn of props.adminPrincipalArns) {
      // Named after the ARN, not its position: reordering the list must not replace (and so collide with) entries.
      const idSuffix = createHash('sha256').update(arn).digest('hex').slice(0, 8);
      this.adminEntries.push(clusterAdminEntry(this, `AdminAccess${idSuffix}`, this.cluster.ref, arn));
    }

    this.providers = new CapiProviders(this, 'Providers', {
      customResourcesDir: props.providers.customResourcesDir,
      bundler: props.providers.bundler,
      clusterName: props.clusterName,
      clusterArn: this.clusterArn,
      grantClusterAdmin: (entryId, role) => clusterAdminEntry(this, entryId, this.cluster.ref, role.roleArn),
      network: this.functionNetwork,
      properties: props.providers.properties,
      logRetention: props.logRetention,
      // In `private` mode the handlers also need their way into the API server.
      dependsOn: [this.nodegroup, this.podIdentityAgent, this.capaPodIdentity, ...(this.apiServerIngress ? [this.apiServerIngress] : [])],
    });
  }

  /**
   * An existing VPC, by id, with the private subnets to use: nothing is created in it but the cluster's and
   * functions' interfaces (and a security group). Its routes (NAT), flow logs and subnet tags are its owner's.
   */
  private existingNetwork(existing: ExistingVpc): Network {
    // No lookup (synth stays offline): the subnets are named, so the VPC's AZ list is never consulted.
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: existing.vpcId, availabilityZones: Fn.getAzs() });
    const privateSubnets = existing.subnetIds.map((id) => ec2.Subnet.fromSubnetId(this, `Subnet-${id}`, id));
    return { vpc, privateSubnets };
  }

  /** The VPC: private subnets with NAT, public subnets for NAT and load balancers, flow logs. */
  private network(props: CreatedManagementClusterProps): Network {
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
      // Three where the region is known at synth; an environment-agnostic synth gets two.
      maxAzs: 3,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        // /19: pods take VPC addresses (VPC CNI), so the private subnets are the big ones.
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
      ],
      // Restricting the default security group takes a CDK-internal Lambda custom resource (with the broad
      // AWSLambdaBasicExecutionRole); nothing here uses the default group, every resource has its own.
      restrictDefaultSecurityGroup: false,
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL } },
      gatewayEndpoints: { DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } },
    });
    // Subnet discovery for load balancers (AWS Load Balancer Controller, in-tree service controller).
    for (const s of vpc.publicSubnets) Tags.of(s).add('kubernetes.io/role/elb', '1');
    for (const s of vpc.privateSubnets) Tags.of(s).add('kubernetes.io/role/internal-elb', '1');
    // Each private subnet's connectivity is its default route to a NAT gateway.
    return { vpc, privateSubnets: vpc.privateSubnets, internetConnectivity: vpc.privateSubnets.map((s) => s.internetConnectivityEstablished) };
  }

  /**
   * A customer-managed key with yearly rotation. Its policy delegates to the account's IAM policies (as
   * the default key policy does) but action by action: no `kms:*`.
   */
  private secretsEncryptionKey(): kms.Key {
    const accountRoot = new iam.AccountRootPrincipal();
    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'KeyAdministrationThroughIam',
          principals: [accountRoot],
          actions: [
            'kms:DescribeKey',
            'kms:GetKeyPolicy',
            'kms:PutKeyPolicy',
            'kms:GetKeyRotationStatus',
            'kms:EnableKeyRotation',
            'kms:ListKeyPolicies',
            'kms:ListResourceTags',
            'kms:TagResource',
            'kms:UntagResource',
            'kms:UpdateKeyDescription',
            'kms:EnableKey',
            'kms:DisableKey',
            'kms:ScheduleKeyDeletion',
            'kms:CancelKeyDeletion',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'KeyUseThroughIam',
          principals: [accountRoot],
          actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ListGrants', 'kms:CreateGrant', 'kms:RevokeGrant', 'kms:RetireGrant'],
          resources: ['*'],
        }),
      ],
    });
    return new kms.Key(this, 'SecretsKey', {
      description: 'Envelope encryption of the Slipway management cluster Secrets (workload kubeconfigs)',
      enableKeyRotation: true,
      policy,
      // The key protects only the cluster's Secrets, which go with the cluster; 30 days to change one's mind.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** Functions that call the private endpoint: a security group the cluster lets in on 443, ENI rights. */
  private privateFunctionNetwork(privateSubnets: ec2.SelectedSubnets): FunctionNetwork {
    const securityGroup = new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', {
      vpc: this.vpc,
      description: 'Slipway functions that call the management cluster API server (egress: API server, AWS APIs, workload clusters)',
      allowAllOutbound: true,
    });
    this.apiServerIngress = new ec2.CfnSecurityGroupIngress(this, 'ApiServerFromFunctions', {
      groupId: this.cluster.attrClusterSecurityGroupId,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      sourceSecurityGroupId: securityGroup.securityGroupId,
      description: 'Slipway functions to the Kubernetes API server',
    });
    const stack = Stack.of(this);
    const subnetArns = privateSubnets.subnetIds.map((id) => stack.formatArn({ service: 'ec2', resource: 'subnet', resourceName: id }));
    const groupArn = stack.formatArn({ service: 'ec2', resource: 'security-group', resourceName: securityGroup.securityGroupId });
    const granted = new WeakSet<iam.Role>();
    return {
      vpc: this.vpc,
      subnets: { subnets: privateSubnets.subnets },
      securityGroup,
      grantNetworkInterfaces: (role) => {
        if (granted.has(role)) return;
        granted.add(role);
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
            // Describe calls accept no resource-level permissions.
            resources: ['*'],
          }),
        );
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['ec2:CreateNetworkInterface'], resources: [networkInterfacesArn(), ...subnetArns, groupArn] }),
        );
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
            resources: [networkInterfacesArn()],
          }),
        );
        acknowledgeWildcard(role, '*', `${WILDCARD_REASONS.describeNetworkInterfaces} ${WILDCARD_REASONS.xray}`);
        acknowledgeWildcard(role, networkInterfacesFinding, WILDCARD_REASONS.networkInterfaces);
      },
    };
  }

  /** One managed node group in the private subnets, AL2023, launch template for IMDSv2 and an encrypted disk. */
  private nodes(props: CreatedManagementClusterProps, privateSubnets: ec2.SelectedSubnets): eks.CfnNodegroup {
    const nodeRole = new iam.Role(this, 'NodeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Nodes of ${props.clusterName}`,
      managedPolicies: ['AmazonEKSWorkerNodePolicy', 'AmazonEC2ContainerRegistryPullOnly', 'AmazonEKS_CNI_Policy'].map(AWS_MANAGED),
    });
    const reasons: Record<string, string> = {
      AmazonEKSWorkerNodePolicy: 'EKS requires it on node roles: the kubelet describes its instance and joins the cluster.',
      AmazonEC2ContainerRegistryPullOnly: 'Nodes pull the EKS add-on images (VPC CNI, CoreDNS, Pod Identity agent) from AWS ECR; pull-only, the narrowest ECR policy.',
      AmazonEKS_CNI_Policy:
        'The VPC CNI (installed with the cluster, running on the host network) assigns pod addresses with the node role; it has no Pod Identity association before the cluster exists.',
    };
    for (const [name, reason] of Object.entries(reasons)) Validations.of(nodeRole).acknowledge({ id: managedFinding(name), reason });

    const launchTemplate = new ec2.CfnLaunchTemplate(this, 'NodeLaunchTemplate', {
      launchTemplateData: {
        // Hop limit 1: pods (not on the host network) cannot reach IMDS, so never the node role's credentials —
        // CAPA gets its own through EKS Pod Identity.
        metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1, httpEndpoint: 'enabled' },
        blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: 40, volumeType: 'gp3', encrypted: true, deleteOnTermination: true } }],
      },
    });
    const arm = isArmInstanceType(props.nodeInstanceType);
    const nodegroup = new eks.CfnNodegroup(this, 'Nodes', {
      clusterName: this.cluster.ref,
      nodeRole: nodeRole.roleArn,
      subnets: privateSubnets.subnetIds,
      instanceTypes: [props.nodeInstanceType],
      amiType: arm ? 'AL2023_ARM_64_STANDARD' : 'AL2023_x86_64_STANDARD',
      capacityType: 'ON_DEMAND',
      // Follows the control plane: a version bump upgrades the cluster first (the node group depends on it).
      version: props.kubernetesVersion,
      // No autoscaler on the management cluster; an MNG update surges above maxSize on its own.
      scalingConfig: { minSize: props.nodeCount, desiredSize: props.nodeCount, maxSize: props.nodeCount },
      updateConfig: { maxUnavailable: 1 },
      launchTemplate: { id: launchTemplate.ref, version: launchTemplate.attrLatestVersionNumber },
      labels: { 'slipway.dev/role': 'management' },
    });
    return nodegroup;
  }

  /**
   * CAPA's controller role, assumed through EKS Pod Identity by `capa-system/capa-controller-manager`. Slipway's
   * cloud accesses are roles in target accounts named in AWSClusterRoleIdentity objects; CAPA builds its AWS
   * clients from those identities (an AssumeRole with the identity's role ARN, external id and session name,
   * chained on its own credentials), so the controller's own role needs nothing but the AssumeRole. Its own
   * account is never called: a cluster naming the controller identity directly would get AccessDenied on every
   * EC2 call, which is the intent.
   */
  private capaControllerRole(props: CreatedManagementClusterProps): iam.Role {
    const role = new iam.Role(this, 'CapaControllerRole', {
      roleName: props.capaRoleName,
      // EKS Pod Identity: pods.eks.amazonaws.com with sts:AssumeRole and sts:TagSession (it sets session tags).
      assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal('pods.eks.amazonaws.com')),
      description: `CAPA controller of ${props.clusterName}: may only assume the cloud-access roles`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // TagSession: the Pod Identity session tags are transitive, so every AssumeRole CAPA makes carries them.
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: props.cloudAccessRoleNames.map(cloudAccessRoleArn),
      }),
    );
    for (const name of props.cloudAccessRoleNames) acknowledgeWildcard(role, cloudAccessRoleFinding(name), WILDCARD_REASONS.capaAssumeCloudAccess);
    return role;
  }
}
