import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Built, renderValue, synthTemplate, removeOutdirs } from './helpers.ts';

afterAll(removeOutdirs);

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
}

/** Every policy statement anywhere in the template: identity policies, roles, resource policies. */
function allStatements(node: unknown, out: { path: string; statement: Statement }[] = [], path = ''): { path: string; statement: Statement }[] {
  if (Array.isArray(node)) {
    for (const [i, n] of node.entries()) allStatements(n, out, `${path}[${i}]`);
  }
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'Statement' && Array.isArray(v)) for (const s of v) out.push({ path, statement: s as Statement });
      else allStatements(v, out, `${path}/${k}`);
    }
  }
  return out;
}

const XRAY = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'];
const LOG_DELIVERY = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];

/** The only wildcard resources the stack may grant, each with the only actions allowed on it (infra/wildcards.ts). */
interface ExpectedWildcard {
  name: string;
  resource: RegExp;
  actions: string[];
  /** Where in the template (default: anywhere but a KMS key policy). */
  path?: RegExp;
}

const KEY_POLICY = /\/KeyPolicy$/;

const EXPECTED_WILDCARDS: ExpectedWildcard[] = [
  { name: 'X-Ray / Step Functions log delivery (no resource-level permissions)', resource: /^\*$/, actions: [...XRAY, ...LOG_DELIVERY] },
  {
    name: 'executions of one named state machine',
    resource: /^arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:Slipway-[a-z-]+:\*$/,
    actions: ['states:DescribeExecution'],
  },
  { name: 'the cloud-access role in vended accounts', resource: /^arn:<AWS::Partition>:iam::\*:role\/SlipwayProvisioner$/, actions: ['sts:AssumeRole'] },
];

/** What a created management cluster adds. */
const CREATE_WILDCARDS: ExpectedWildcard[] = [
  {
    name: 'CAPA: the cloud-access role in target accounts',
    resource: /^arn:<AWS::Partition>:iam::\*:role\/SlipwayProvisioner$/,
    actions: ['sts:AssumeRole', 'sts:TagSession'],
  },
  {
    name: 'the provider framework invoking its handlers and their versions',
    resource: /^<ManagementClusterProviders[A-Za-z0-9]+\.Arn>:\*$/,
    actions: ['lambda:InvokeFunction'],
  },
  {
    name: 'the secrets key policy (Resource * is the key itself)',
    resource: /^\*$/,
    path: KEY_POLICY,
    actions: [
      'kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy', 'kms:GetKeyRotationStatus', 'kms:EnableKeyRotation', 'kms:ListKeyPolicies',
      'kms:ListResourceTags', 'kms:TagResource', 'kms:UntagResource', 'kms:UpdateKeyDescription', 'kms:EnableKey', 'kms:DisableKey',
      'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:Encrypt', 'kms:Decrypt', 'kms:ListGrants', 'kms:CreateGrant',
      'kms:RevokeGrant', 'kms:RetireGrant',
    ],
  },
];

/** What functions in the VPC add (private endpoint). */
const PRIVATE_WILDCARDS: ExpectedWildcard[] = [
  { name: 'Lambda VPC: describe calls (no resource-level permissions)', resource: /^\*$/, actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'] },
  {
    name: "Lambda VPC: the functions' network interfaces",
    resource: /^arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface\/\*$/,
    actions: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
  },
];

const MODES = [
  { mode: 'import', context: {}, wildcards: EXPECTED_WILDCARDS },
  { mode: 'create', context: { 'slipway:managementClusterMode': 'create' }, wildcards: [...EXPECTED_WILDCARDS, ...CREATE_WILDCARDS] },
  {
    mode: 'create, private endpoint',
    context: { 'slipway:managementClusterMode': 'create', 'slipway:managementEndpointAccess': 'private' },
    wildcards: [...EXPECTED_WILDCARDS, ...CREATE_WILDCARDS, ...PRIVATE_WILDCARDS],
  },
];

describe.each(MODES)('IAM: least privilege ($mode)', ({ context, wildcards }) => {
  let built: Built;
  let statements: { path: string; statement: Statement }[];
  beforeAll(() => {
    built = synthTemplate({ context });
    statements = allStatements(built.template.toJSON().Resources);
  });

  it('has policy statements to check', () => {
    expect(statements.length).toBeGreaterThan(20);
  });

  it('allows no wildcard action and never uses NotAction', () => {
    for (const { path, statement } of statements) {
      expect(statement.NotAction, path).toBeUndefined();
      // A Deny may be broad (enforce-SSL on the queue denies sqs:*): it can only take rights away.
      if (statement.Effect !== 'Allow') continue;
      for (const action of [statement.Action ?? []].flat()) expect(action, path).not.toContain('*');
    }
  });

  it('grants wildcard resources only where expected, each with only its expected actions', () => {
    const seen = new Set<string>();
    for (const { path, statement } of statements) {
      if (statement.Effect !== 'Allow') continue;
      const actions = [statement.Action ?? []].flat();
      for (const resource of [statement.Resource ?? []].flat().map(renderValue)) {
        if (!resource.includes('*')) continue;
        // The statement's actions must all be allowed on that resource by one entry, in the right place.
        const expected = wildcards.find(
          (w) => w.resource.test(resource) && (w.path ?? /^(?!.*\/KeyPolicy$)/).test(path) && actions.every((a) => w.actions.includes(a)),
        );
        expect(expected, `${path}: unexpected wildcard resource ${resource} for ${actions.join(', ')}`).toBeDefined();
        seen.add(expected?.name ?? '');
      }
    }
    // The fixture deploys an onboarding workflow and the vending handler, so every kind shows up.
    expect([...seen].sort()).toEqual(wildcards.map((w) => w.name).sort());
  });

  it('writes logs only to each function own log group (no AWSLambdaBasicExecutionRole)', () => {
    const roles = Object.values(built.template.findResources('AWS::IAM::Role'));
    for (const role of roles) expect(JSON.stringify(role.Properties?.ManagedPolicyArns ?? [])).not.toContain('AWSLambdaBasicExecutionRole');
    for (const { statement } of statements) {
      const actions = [statement.Action ?? []].flat();
      if (!actions.includes('logs:PutLogEvents') || statement.Effect !== 'Allow') continue;
      for (const r of [statement.Resource ?? []].flat()) expect(renderValue(r)).not.toBe('*');
    }
  });
});
