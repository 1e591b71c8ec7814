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
