/**
 * The management EKS cluster (where CAPI and its providers run) and how Slipway's roles get into it — one
 * interface, two flavours:
 * - `ImportedManagementCluster`: an existing cluster, by name (docs/operations.md lists what its admin does);
 * - `CreatedManagementCluster` (infra/management-cluster-create.ts): VPC, EKS, nodes, CAPA's role and the CAPI
 *   providers, all in this stack.
 * Either way the steps reach it the same way: `eks:DescribeCluster` + an EKS access entry for their role
 * (authenticationMode API or API_AND_CONFIG_MAP), and the cluster's name in their environment.
 */
import { Aws, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { FunctionNetwork } from './function.ts';

export type ManagementClusterAccess = 'cluster-admin' | 'kubernetes-group';

/** What the rest of the stack sees of the management cluster, whichever flavour. */
export interface ManagementCluster {
  readonly clusterName: string;
  readonly clusterArn: string;
  /**
   * Where functions that call the cluster's API server must run: undefined when the endpoint is reachable
   * from outside a VPC (imported clusters, created ones with `public-and-private`).
   */
  readonly functionNetwork: FunctionNetwork | undefined;
  /** Lets the steps' `role` drive CAPI: DescribeCluster (endpoint + CA) and an access entry. */
  grantKubernetesAccess(role: iam.Role): eks.CfnAccessEntry;
  /** Lets the kubeconfig route's `role` read the access Slipway keeps in `namespace` (shared/capi/access.ts). */
  /** `id` names the access entry construct (one per role). */
  grantKeptAccessRead(role: iam.Role, namespace: string, id?: string): eks.CfnAccessEntry;
}

export interface ManagementClusterAccessProps {
  clusterName: string;
  /**
   * `cluster-admin`: AmazonEKSClusterAdminPolicy — CAPI's move and the providers' CRDs span namespaces and
   * cluster-scoped objects, so the namespaced EKS policies are too narrow. `kubernetes-group`: no EKS policy;
   * the role becomes a member of `kubernetesGroup`, bound by the admin to the ClusterRole in docs/operations.md.
   */
  access: ManagementClusterAccess;
  kubernetesGroup: string;
}

export const eksAccessPolicyArn = (name: string): string => `arn:${Aws.PARTITION}:eks::aws:cluster-access-policy/${name}`;

/** A cluster-admin access entry (the installer's role, admin principals). */
export function clusterAdminEntry(scope: Construct, id: string, clusterName: string, principalArn: string): eks.CfnAccessEntry {
  return new eks.CfnAccessEntry(scope, id, {
    clusterName,
    principalArn,
    type: 'STANDARD',
    accessPolicies: [{ policyArn: eksAccessPolicyArn('AmazonEKSClusterAdminPolicy'), accessScope: { type: 'cluster' } }],
  });
}

/**
 * The access-entry logic both flavours share. `entryClusterName` is what the entries name: the plain name for
 * an imported cluster, the created cluster's `Ref` (a dependency) otherwise.
 */
export abstract class ManagementClusterBase extends Construct implements ManagementCluster {
  readonly clusterName: string;
  readonly clusterArn: string;
  abstract readonly functionNetwork: FunctionNetwork | undefined;
  protected abstract readonly entryClusterName: string;
  protected readonly access: ManagementClusterAccessProps;

  constructor(scope: Construct, id: string, access: ManagementClusterAccessProps) {
    super(scope, id);
    this.access = access;
    this.clusterName = access.clusterName;
    this.clusterArn = Stack.of(this).formatArn({ service: 'eks', resource: 'cluster', resourceName: access.clusterName });
  }

  protected grantDescribe(role: iam.Role): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [this.clusterArn] }));
  }

  grantKubernetesAccess(role: iam.Role): eks.CfnAccessEntry {
    this.grantDescribe(role);
    const clusterAdmin = this.access.access === 'cluster-admin';
    return new eks.CfnAccessEntry(this, 'StepRoleAccess', {
      clusterName: this.entryClusterName,
      principalArn: role.roleArn,
      type: 'STANDARD',
      ...(clusterAdmin
        ? { accessPolicies: [{ policyArn: eksAccessPolicyArn('AmazonEKSClusterAdminPolicy'), accessScope: { type: 'cluster' } }] }
        : { kubernetesGroups: [this.access.kubernetesGroup] }),
    });
  }

  /**
   * AmazonEKSAdminViewPolicy (read-only, Secrets included) scoped to that one namespace; with
   * `kubernetes-group`, membership of `<group>-kubeconfig` for the admin to bind (docs/operations.md).
   */
  grantKeptAccessRead(role: iam.Role, namespace: string, id = 'KubeconfigReaderAccess'): eks.CfnAccessEntry {
    this.grantDescribe(role);
    const policies = this.access.access === 'cluster-admin';
    return new eks.CfnAccessEntry(this, id, {
      clusterName: this.entryClusterName,
      principalArn: role.roleArn,
      type: 'STANDARD',
      ...(policies
        ? {
            accessPolicies: [
              { policyArn: eksAccessPolicyArn('AmazonEKSAdminViewPolicy'), accessScope: { type: 'namespace', namespaces: [namespace] } },
            ],
          }
        : { kubernetesGroups: [`${this.access.kubernetesGroup}-kubeconfig`] }),
    });
  }
}

/**
 * An existing cluster, by name. Its endpoint must be reachable from Lambda outside a VPC (docs/operations.md).
 * Construct ids are those of the construct this replaced, so a deployed stack keeps its access entries.
 */
export class ImportedManagementCluster extends ManagementClusterBase {
  readonly functionNetwork = undefined;
  protected readonly entryClusterName: string;

  constructor(scope: Construct, id: string, props: ManagementClusterAccessProps) {
    super(scope, id, props);
    this.entryClusterName = props.clusterName;
  }
}
