/**
 * The management EKS cluster (where CAPI and its providers run), imported by name, and how the step role
 * gets into it: an EKS access entry (the cluster's authenticationMode must be API or API_AND_CONFIG_MAP).
 */
import { Aws, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export type ManagementClusterAccess = 'cluster-admin' | 'kubernetes-group';

export interface ManagementClusterProps {
  clusterName: string;
  /**
   * `cluster-admin`: AmazonEKSClusterAdminPolicy — CAPI's move and the providers' CRDs span namespaces and
   * cluster-scoped objects, so the namespaced EKS policies are too narrow. `kubernetes-group`: no EKS policy;
   * the role becomes a member of `kubernetesGroup`, bound by the admin to the ClusterRole in docs/operations.md.
   */
  access: ManagementClusterAccess;
  kubernetesGroup: string;
}

export class ManagementCluster extends Construct {
  readonly clusterName: string;
  readonly clusterArn: string;
  private readonly props: ManagementClusterProps;

  constructor(scope: Construct, id: string, props: ManagementClusterProps) {
    super(scope, id);
    this.props = props;
    this.clusterName = props.clusterName;
    this.clusterArn = Stack.of(this).formatArn({ service: 'eks', resource: 'cluster', resourceName: props.clusterName });
  }

  private grantDescribe(role: iam.Role): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [this.clusterArn] }));
  }

  /** Lets the steps' `role` drive CAPI: DescribeCluster (endpoint + CA) and an access entry. */
  grantKubernetesAccess(role: iam.Role): eks.CfnAccessEntry {
    this.grantDescribe(role);
    const clusterAdmin = this.props.access === 'cluster-admin';
    return new eks.CfnAccessEntry(this, 'StepRoleAccess', {
      clusterName: this.clusterName,
      principalArn: role.roleArn,
      type: 'STANDARD',
      ...(clusterAdmin
        ? {
            accessPolicies: [
              {
                policyArn: `arn:${Aws.PARTITION}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
                accessScope: { type: 'cluster' },
              },
            ],
          }
        : { kubernetesGroups: [this.props.kubernetesGroup] }),
    });
  }

  /**
   * Lets the kubeconfig route's `role` read the access Slipway keeps in `namespace` (shared/capi/access.ts):
   * AmazonEKSAdminViewPolicy (read-only, Secrets included) scoped to that one namespace; with
   * `kubernetes-group`, membership of `<group>-kubeconfig` for the admin to bind (docs/operations.md).
   */
  grantKeptAccessRead(role: iam.Role, namespace: string): eks.CfnAccessEntry {
    this.grantDescribe(role);
    const policies = this.props.access === 'cluster-admin';
    return new eks.CfnAccessEntry(this, 'KubeconfigReaderAccess', {
      clusterName: this.clusterName,
      principalArn: role.roleArn,
      type: 'STANDARD',
      ...(policies
        ? {
            accessPolicies: [
              {
                policyArn: `arn:${Aws.PARTITION}:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy`,
                accessScope: { type: 'namespace', namespaces: [namespace] },
              },
            ],
          }
        : { kubernetesGroups: [`${this.props.kubernetesGroup}-kubeconfig`] }),
    });
  }
}
