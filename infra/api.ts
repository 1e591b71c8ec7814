/**
 * The HTTP API: every route of shared/http/routes.ts wired to its route group's function
 * (functions/api/<group>.ts), a JWT authorizer on every non-public route, stage throttling and access logs.
 */
import { join } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ACCESS_NAMESPACE } from '../shared/capi/access.ts';
import {
  AccountsApiEnv,
  type AccountsApiEnvInput,
  ApiEnv,
  type ApiEnvInput,
  KUBECONFIG_TTL_LIMITS,
  KubeconfigApiEnv,
  type KubeconfigApiEnvInput,
} from '../shared/config/env.ts';
import { ROUTES, RouteGroup, type RouteDef, routeKey } from '../shared/http/routes.ts';
import { WorkflowId } from '../shared/workflow/names.ts';
import { pascalCase } from './asl.ts';
import type { FunctionBundler } from './bundling.ts';
import type { Data } from './data.ts';
import { SlipwayFunction } from './function.ts';
import type { ManagementCluster } from './management-cluster.ts';
import { grantStartWorkflows, type WorkflowNaming } from './workflows.ts';

/**
 * What each route group may do, least privilege. A Record over RouteGroup: a new group fails compilation
 * until someone decides its access here.
 */
interface GroupAccess {
  table: 'none' | 'read' | 'readWrite';
  startsWorkflows: boolean;
  /** Reads the access Slipway keeps in the management cluster (KubeconfigApiEnv + an EKS access entry). */
  keptAccess?: true;
  /** Appends to the audit trail (PutItem on audit partitions only) although its table access is `read`. */
  auditAppend?: true;
  /**
   * Retries Failed onboardings although its table access is `read`: writes the account and audit records and
   * its Idempotency-Key records only, starts onboard-account only (AccountsApiEnv).
   */
  retriesOnboarding?: true;
}

const GROUP_ACCESS: Record<RouteGroup, GroupAccess> = {
  [RouteGroup.openapi]: { table: 'none', startsWorkflows: false },
  [RouteGroup.me]: { table: 'read', startsWorkflows: false },
  [RouteGroup.cloudAccesses]: { table: 'readWrite', startsWorkflows: false },
  [RouteGroup.networkPlans]: { table: 'readWrite', startsWorkflows: false },
  [RouteGroup.clusterPlans]: { table: 'readWrite', startsWorkflows: false },
  [RouteGroup.computeTemplates]: { table: 'readWrite', startsWorkflows: false },
  [RouteGroup.packages]: { table: 'readWrite', startsWorkflows: false },
  [RouteGroup.policies]: { table: 'readWrite', startsWorkflows: false },
  [RouteGroup.workspaces]: { table: 'readWrite', startsWorkflows: false },
  [RouteGroup.clusters]: { table: 'readWrite', startsWorkflows: true },
  // Audits every kubeconfig it hands out; drives the workload clusters with the kept access (no IAM needed).
  [RouteGroup.kubeconfig]: { table: 'read', startsWorkflows: false, keptAccess: true, auditAppend: true },
  [RouteGroup.onboardingRules]: { table: 'readWrite', startsWorkflows: false },
  [RouteGroup.accounts]: { table: 'read', startsWorkflows: false, retriesOnboarding: true },
};

/** The workflows the API starts (ApiEnv names their ARNs). */
const API_WORKFLOWS = [WorkflowId.provisionCluster, WorkflowId.updateCluster, WorkflowId.deleteCluster] as const;

export const apiEntry = (apiDir: string, group: string): string => join(apiDir, `${group}.ts`);

/** Handler files of every route group. */
export const apiEntries = (apiDir: string, routes: readonly RouteDef[] = ROUTES): string[] =>
  [...new Set(routes.map((r) => r.group))].sort().map((g) => apiEntry(apiDir, g));

export interface ApiProps {
  apiDir: string;
  bundler: FunctionBundler;
  data: Data;
  managementCluster: ManagementCluster;
  naming: WorkflowNaming;
  adminGroup: string;
  issuer: string;
  audience: readonly string[];
  corsOrigins: readonly string[];
  throttle: { rateLimit: number; burstLimit: number };
  logRetention: logs.RetentionDays;
  routes?: readonly RouteDef[];
}

export class Api extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly functions = new Map<RouteGroup, SlipwayFunction<typeof ApiEnv> | SlipwayFunction<typeof KubeconfigApiEnv> | SlipwayFunction<typeof AccountsApiEnv>>();
  readonly routes = new Map<string, apigw.HttpRoute>();

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const routes = props.routes ?? ROUTES;
    const environment: ApiEnvInput = {
      SLIPWAY_TABLE_NAME: props.data.table.tableName,
      SLIPWAY_ADMIN_GROUP: props.adminGroup,
      SLIPWAY_PROVISION_STATE_MACHINE_ARN: props.naming.stateMachineArn(WorkflowId.provisionCluster),
      SLIPWAY_UPDATE_STATE_MACHINE_ARN: props.naming.stateMachineArn(WorkflowId.updateCluster),
      SLIPWAY_DELETE_STATE_MACHINE_ARN: props.naming.stateMachineArn(WorkflowId.deleteCluster),
    };

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Slipway API',
      createDefaultStage: false,
      // Browsers are not a client unless an origin is configured: no CORS headers at all by default.
      ...(props.corsOrigins.length > 0
        ? {
            corsPreflight: {
              allowOrigins: [...props.corsOrigins],
              allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.PUT, apigw.CorsHttpMethod.PATCH, apigw.CorsHttpMethod.DELETE],
              allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    this.stage = new apigw.HttpStage(this, 'Stage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            time: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            responseLength: '$context.responseLength',
            sub: '$context.authorizer.claims.sub',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    const authorizer = new HttpJwtAuthorizer('Jwt', props.issuer, {
      jwtAudience: [...props.audience],
      identitySource: ['$request.header.Authorization'],
    });

    const groups = [...new Set(routes.map((r) => r.group))].sort();
    for (const group of groups) {
      const common = {
        entry: apiEntry(props.apiDir, group),
        bundler: props.bundler,
        description: `Slipway API: ${group} routes`,
        logRetention: props.logRetention,
        // The HTTP API gives up on an integration after 30 s.
        timeout: Duration.seconds(29),
      };
      const kubeEnvironment: KubeconfigApiEnvInput = {
        ...environment,
        SLIPWAY_MANAGEMENT_CLUSTER_NAME: props.managementCluster.clusterName,
        SLIPWAY_KUBECONFIG_TTL_MINUTES: String(KUBECONFIG_TTL_LIMITS.defaultMinutes),
        SLIPWAY_KUBECONFIG_MAX_TTL_MINUTES: String(KUBECONFIG_TTL_LIMITS.defaultMaxMinutes),
      };
      // The kubeconfig group reads the management cluster: inside its VPC when its endpoint is private.
      const network = props.managementCluster.functionNetwork;
      const accountsEnvironment: AccountsApiEnvInput = { ...environment, SLIPWAY_ONBOARD_STATE_MACHINE_ARN: props.naming.stateMachineArn(WorkflowId.onboardAccount) };
      const fn = GROUP_ACCESS[group].keptAccess
        ? new SlipwayFunction(this, pascalCase(group), { ...common, envSchema: KubeconfigApiEnv, environment: kubeEnvironment, ...(network ? { network } : {}) })
        : GROUP_ACCESS[group].retriesOnboarding
          ? new SlipwayFunction(this, pascalCase(group), { ...common, envSchema: AccountsApiEnv, environment: accountsEnvironment })
          : new SlipwayFunction(this, pascalCase(group), { ...common, envSchema: ApiEnv, environment });
      this.grant(group, fn.role, props);
      this.functions.set(group, fn);
    }

    // One integration per group, shared by its routes (the integration object caches what it created).
    const integrations = new Map(groups.map((g) => [g, new HttpLambdaIntegration(`${pascalCase(g)}Integration`, this.functions.get(g)!.fn, {
          // One invoke permission per function (this API, any route) rather than one per route: CloudFormation
          // caps a stack at 500 resources, and each function is wired only to its own group's routes anyway.
          scopePermissionToRoute: false,
        })]));
    for (const route of routes) {
      const [created] = this.httpApi.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration: integrations.get(route.group)!,
        authorizer: route.public ? new apigw.HttpNoneAuthorizer() : authorizer,
      });
      if (!created) throw new Error(`route ${routeKey(route)} was not created`);
      if (route.public) {
        Validations.of(created).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${routeKey(route)} is public by contract (shared/http/routes.ts): the API description carries no data.`,
        });
      }
      this.routes.set(routeKey(route), created);
    }
  }

  private grant(group: RouteGroup, role: iam.Role, props: ApiProps): void {
    const access = GROUP_ACCESS[group];
    if (access.table === 'read') props.data.grantRead(role);
    if (access.table === 'readWrite') props.data.grantReadWrite(role);
    if (access.keptAccess) props.managementCluster.grantKeptAccessRead(role, ACCESS_NAMESPACE);
    if (access.auditAppend) props.data.grantAuditAppend(role);
    if (access.startsWorkflows) grantStartWorkflows(role, props.naming, API_WORKFLOWS);
    if (access.retriesOnboarding) {
      props.data.grantAccountRetry(role);
      grantStartWorkflows(role, props.naming, [WorkflowId.onboardAccount]);
    }
  }
}
