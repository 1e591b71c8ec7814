/**
 * Every wildcard resource the stack grants, why AWS allows nothing narrower, and the matching cdk-nag
 * acknowledgement. The IAM test checks each wildcard in the template against this list.
 */
import { Aws, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export const WILDCARD_REASONS = {
  xray: 'X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* accept no resource-level permissions (resource must be *).',
  logDelivery:
    'Step Functions log delivery (logs:CreateLogDelivery, PutResourcePolicy, DescribeLogGroups, ...) accepts no resource-level permissions (resource must be *).',
  executions:
    'Execution names are chosen at run time (deterministic per cluster/account); the grant is limited to the executions of one named state machine.',
  assumeCloudAccess:
    'Vended accounts are not known at deploy time; the grant is limited to the one role name Slipway uses in every account.',
  capaAssumeCloudAccess:
    'CAPA reaches each target account through an AWSClusterRoleIdentity, and target accounts are not known at deploy time; ' +
    'the grant is limited to the configured cloud-access role names (sts:TagSession: EKS Pod Identity session tags are ' +
    'transitive, so they travel with every AssumeRole).',
  describeNetworkInterfaces:
    'Lambda needs ec2:DescribeNetworkInterfaces/DescribeSubnets to attach a function to its VPC; these accept no resource-level permissions (resource must be *).',
  networkInterfaces:
    'Lambda creates and deletes the function\'s network interfaces at run time (ids unknown at deploy time); limited to network interfaces in this account and region.',
  providerFrameworkInvoke:
    'The CDK provider framework may invoke its handler function and that function\'s versions (`<function arn>:*`); it calls the unqualified ARN.',
} as const;

/** `arn:…:execution:<stateMachineName>:*`, with pseudo-parameters so its cdk-nag finding id is stable. */
export function executionsArn(stateMachineName: string): string {
  return `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${stateMachineName}:*`;
}
export const executionsFinding = (stateMachineName: string): string =>
  `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stateMachineName}:*`;

/** `arn:…:iam::*:role/<name>`. */
export const cloudAccessRoleArn = (roleName: string): string => `arn:${Aws.PARTITION}:iam::*:role/${roleName}`;
export const cloudAccessRoleFinding = (roleName: string): string => `arn:<AWS::Partition>:iam::*:role/${roleName}`;

/** Acknowledges the cdk-nag IAM5 finding for one wildcard resource on `scope` (a role or its policy). */
export function acknowledgeWildcard(scope: IConstruct, resourceFinding: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resourceFinding}]`, reason });
}

/** `arn:…:ec2:<region>:<account>:network-interface/*` (Lambda's VPC network interfaces). */
export const networkInterfacesArn = (): string => `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:network-interface/*`;
export const networkInterfacesFinding = 'arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*';
