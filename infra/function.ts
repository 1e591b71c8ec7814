/**
 * SlipwayFunction: how every Slipway Lambda is built — Node 24 on arm64, bundled by the shared
 * FunctionBundler (infra/bundling.ts: why not NodejsFunction's per-function bundling), X-Ray, its own log
 * group with a retention, and an environment typed by the zod schema its handler parses at cold start.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type * as z from 'zod';
import { type FunctionBundler, HANDLER, RUNTIME_NODE_OPTIONS } from './bundling.ts';
import { acknowledgeWildcard, WILDCARD_REASONS } from './wildcards.ts';

export interface SlipwayFunctionProps<S extends z.ZodType<Record<string, unknown>>> {
  /** Absolute path of the handler file; it exports `handler`. */
  entry: string;
  bundler: FunctionBundler;
  description: string;
  /** The handler's environment schema (shared/config/env.ts). */
  envSchema: S;
  /** Typed by the schema's input: a missing variable is a compile error. */
  environment: z.input<S>;
  /** A shared role (step functions share one per workflow family); default: a role of its own. */
  role?: iam.Role;
  logRetention: logs.RetentionDays;
  timeout?: Duration;
  memorySize?: number;
  /** Run in a VPC (functions that call a private EKS endpoint); default: outside any VPC. */
  network?: FunctionNetwork;
}

/**
 * Where a function runs when it must reach something private (the management cluster's private endpoint):
 * subnets with a route out (NAT), one security group, and the network-interface rights Lambda needs in the
 * function's role (granted once per role).
 */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  /** Adds Lambda's ENI permissions to `role` (idempotent). */
  grantNetworkInterfaces(role: iam.Role): void;
}

export class SlipwayFunction<S extends z.ZodType<Record<string, unknown>>> extends Construct {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SlipwayFunctionProps<S>) {
    super(scope, id);
    // Same check the handler makes at cold start, at synth time: a token is a string, a typo'd URL is not.
    const checked = props.envSchema.safeParse(props.environment);
    if (!checked.success) throw new Error(`${this.node.path}: environment does not satisfy its schema: ${checked.error.message}`);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // No AWSLambdaBasicExecutionRole: that managed policy lets a function write to every log group.
    this.role =
      props.role ??
      new iam.Role(this, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Slipway function ${id}`,
      });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // logGroupArn ends in `:*`: the log streams Lambda creates at run time have generated names.
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const environment: Record<string, string> = { NODE_OPTIONS: RUNTIME_NODE_OPTIONS };
    for (const [k, v] of Object.entries(props.environment as Record<string, unknown>)) {
      if (v !== undefined) environment[k] = String(v);
    }

    this.fn = new lambda.Function(this, 'Function', {
      code: props.bundler.code(props.entry),
      handler: HANDLER,
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(29),
      environment,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      // A role of our own is always passed, so CDK does not attach AWSLambdaVPCAccessExecutionRole (which would
      // also allow writing to every log group): the network grants its narrower statements instead.
      ...(props.network
        ? { vpc: props.network.vpc, vpcSubnets: props.network.subnets, securityGroups: [props.network.securityGroup] }
        : {}),
    });
    props.network?.grantNetworkInterfaces(this.role);
    acknowledgeWildcard(this.role, '*', WILDCARD_REASONS.xray);
    // The role's policy must exist before the function can log at its first invocation.
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) this.fn.node.addDependency(policy);
  }
}
