/**
 * SlipwayStack: the whole product in one stack — table, bus and rules, management-cluster access, workflows
 * and their steps, the HTTP API, alarms and a dashboard. One stack because its parts reference each other
 * both ways (API → workflows → steps → table/bus); the stateful parts (table, logs) are retained on delete.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotations, CfnOutput, Duration, Stack, type StackProps, Stage, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ACCESS_NAMESPACE } from '../shared/capi/access.ts';
import { EventsEnv, type EventsEnvInput, RevokeAccessEnv, type RevokeAccessEnvInput, SweepEnv, type SweepEnvInput } from '../shared/config/env.ts';
import { WorkflowId } from '../shared/workflow/names.ts';
import { Api, apiEntries } from './api.ts';
import { FunctionBundler } from './bundling.ts';
import { PLACEHOLDER_ISSUER, type SlipwayConfig } from './config.ts';
import { Data } from './data.ts';
import { SlipwayEvents } from './events.ts';
import { SlipwayFunction } from './function.ts';
import { CAPI_PROVIDERS_PROPERTIES_DEFAULTS, capiProvidersEntries } from './capi-providers.ts';
import { ImportedManagementCluster, type ManagementCluster } from './management-cluster.ts';
import { CreatedManagementCluster } from './management-cluster-create.ts';
import { Monitoring } from './monitoring.ts';
import { grantStartWorkflows, planWorkflows, workflowNaming, Workflows } from './workflows.ts';

/** Where handlers and definitions live; tests point the workflow parts at fixtures. */
export interface SlipwayPaths {
  statemachines: string;
  apiHandlers: string;
  stepHandlers: string;
  eventHandlers: string;
  /** Custom-resource handlers (the CAPI providers of a created management cluster). */
  customResourceHandlers: string;
}

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const DEFAULT_PATHS: SlipwayPaths = {
  statemachines: join(REPO_ROOT, 'statemachines'),
  apiHandlers: join(REPO_ROOT, 'functions/api'),
  stepHandlers: join(REPO_ROOT, 'functions/steps'),
  eventHandlers: join(REPO_ROOT, 'functions/events'),
  customResourceHandlers: join(REPO_ROOT, 'functions/custom-resources'),
};

/** The account-vending handler (both vending rules target it): functions/events/<this>.ts. */
export const ACCOUNT_VENDED_HANDLER = 'account-vended';
/** The scheduled sweeper (TTL deletes, lost workflow starts): functions/events/<this>.ts. */
export const SWEEP_HANDLER = 'sweep-clusters';
/** The access-revocation processor, on the sweep schedule: functions/events/<this>.ts. */
export const REVOKE_HANDLER = 'revoke-kubeconfigs';
/** Workflows the sweeper (re)starts. */
const SWEEP_WORKFLOWS = [WorkflowId.provisionCluster, WorkflowId.updateCluster, WorkflowId.deleteCluster] as const;

export interface SlipwayStackProps extends StackProps {
  config: SlipwayConfig;
  paths?: Partial<SlipwayPaths>;
}

export class SlipwayStack extends Stack {
  readonly data: Data;
  readonly events: SlipwayEvents;
  readonly workflows: Workflows;
  readonly api: Api;
  readonly managementCluster: ManagementCluster;
  readonly accountVended: SlipwayFunction<typeof EventsEnv> | undefined;
  readonly sweeper: SlipwayFunction<typeof SweepEnv> | undefined;
  readonly revoker: SlipwayFunction<typeof RevokeAccessEnv> | undefined;
  readonly notifications: sns.Topic;
  readonly bundler: FunctionBundler;

  constructor(scope: Construct, id: string, props: SlipwayStackProps) {
    super(scope, id, props);
    const config = props.config;
    const paths = { ...DEFAULT_PATHS, ...props.paths };
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    if (config.issuer === PLACEHOLDER_ISSUER) {
      Annotations.of(this).addWarningV2('slipway:placeholderIssuer', 'slipway:issuer is not set: no token will validate until it is');
    }

    this.notifications = new sns.Topic(this, 'Notifications', { displayName: 'Slipway alarms and failures', enforceSSL: true });
    Validations.of(this.notifications).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Carries alarm state changes and failure summaries (cluster names, phases), no secrets; CloudWatch alarms and ' +
        'EventBridge cannot publish to a topic under the AWS-managed SNS key, and a CMK adds a key policy to administer.',
    });
    if (config.alarmEmail) this.notifications.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));

    this.data = new Data(this, 'Data', { tableKmsKeyArn: config.tableKmsKeyArn });
    this.events = new SlipwayEvents(this, 'Events', {
      busName: config.eventBusName,
      archiveRetentionDays: config.archiveRetentionDays,
      publisherAccounts: config.eventPublisherAccounts,
      consumerBusArns: config.eventConsumerBusArns,
      notifications: this.notifications,
      logRetention,
      stackName: this.stackName,
      controlTowerVending: config.controlTowerVending,
    });
    // Every handler is registered before the first function is created: one esbuild pass bundles them all.
    // Bundles go next to the cloud assembly, and away once synthesised (bin/app.ts calls cleanup()).
    const assembly = Stage.of(this)?.outdir;
    const bundler = new FunctionBundler(REPO_ROOT, assembly ? join(assembly, '.slipway-bundles') : undefined);
    this.bundler = bundler;
    const plan = planWorkflows(paths.statemachines, paths.stepHandlers);
    const vendingEntry = join(paths.eventHandlers, `${ACCOUNT_VENDED_HANDLER}.ts`);
    const sweepEntry = join(paths.eventHandlers, `${SWEEP_HANDLER}.ts`);
    const revokeEntry = join(paths.eventHandlers, `${REVOKE_HANDLER}.ts`);
    const create = config.managementClusterMode === 'create';
    bundler.register(
      ...apiEntries(paths.apiHandlers),
      ...plan.stepEntries,
      ...[vendingEntry, sweepEntry, revokeEntry].filter((e) => existsSync(e)),
      ...(create ? capiProvidersEntries(paths.customResourceHandlers) : []),
    );

    const access = {
      clusterName: config.managementClusterName,
      access: config.managementClusterAccess,
      kubernetesGroup: config.managementClusterGroup,
    };
    this.managementCluster = create
      ? new CreatedManagementCluster(this, 'ManagementCluster', {
          ...access,
          kubernetesVersion: config.managementKubernetesVersion,
          nodeInstanceType: config.managementNodeInstanceType,
          nodeCount: config.managementNodeCount,
          natGateways: config.managementNatGateways,
          endpointAccess: config.managementEndpointAccess,
          ...(config.managementVpcId && config.managementSubnetIds
            ? { existingVpc: { vpcId: config.managementVpcId, subnetIds: config.managementSubnetIds } }
            : {}),
          adminPrincipalArns: config.managementAdminPrincipalArns,
          cloudAccessRoleNames: config.cloudAccessRoleName,
          capaRoleName: `${this.stackName}-capa-controller`,
          logRetention,
          providers: {
            customResourcesDir: paths.customResourceHandlers,
            bundler,
            properties: {
              ...CAPI_PROVIDERS_PROPERTIES_DEFAULTS,
              ...(config.providerRepository ? { ProviderRepository: config.providerRepository } : {}),
            },
          },
        })
      : new ImportedManagementCluster(this, 'ManagementCluster', access);

    const naming = workflowNaming(this, this.stackName);
    this.workflows = new Workflows(this, 'Workflows', {
      statemachinesDir: paths.statemachines,
      stepsDir: paths.stepHandlers,
      naming,
      data: this.data,
      events: this.events,
      managementCluster: this.managementCluster,
      cloudAccessRoleNames: config.cloudAccessRoleName,
      providerRepository: config.providerRepository,
      logRetention,
      logExecutionData: config.logExecutionData,
      strict: config.strictWorkflows,
      bundler,
      plan,
    });

    this.api = new Api(this, 'Api', {
      apiDir: paths.apiHandlers,
      bundler,
      data: this.data,
      managementCluster: this.managementCluster,
      naming,
      adminGroup: config.adminGroup,
      issuer: config.issuer,
      audience: config.audience,
      corsOrigins: config.corsOrigins,
      throttle: { rateLimit: config.throttleRate, burstLimit: config.throttleBurst },
      logRetention,
    });

    if (existsSync(vendingEntry)) {
      const environment: EventsEnvInput = {
        SLIPWAY_TABLE_NAME: this.data.table.tableName,
        SLIPWAY_EVENT_BUS_NAME: this.events.bus.eventBusName,
        SLIPWAY_ONBOARD_STATE_MACHINE_ARN: naming.stateMachineArn(WorkflowId.onboardAccount),
      };
      const fn = new SlipwayFunction(this, 'AccountVended', {
        entry: vendingEntry,
        bundler,
        description: 'Slipway account vending: audits the event and starts onboard-account',
        envSchema: EventsEnv,
        environment,
        logRetention,
      });
      this.data.grantReadWrite(fn.role);
      this.events.grantPut(fn.role);
      grantStartWorkflows(fn.role, naming, [WorkflowId.onboardAccount]);
      this.events.routeVendingTo(fn.fn);
      this.accountVended = fn;
    } else {
      this.events.disableVending();
      Annotations.of(this).addWarningV2('slipway:noVendingHandler', `${relative(process.cwd(), vendingEntry)} does not exist yet: the account-vending rules are disabled`);
    }

    if (existsSync(sweepEntry)) {
      const environment: SweepEnvInput = {
        SLIPWAY_TABLE_NAME: this.data.table.tableName,
        SLIPWAY_PROVISION_STATE_MACHINE_ARN: naming.stateMachineArn(WorkflowId.provisionCluster),
        SLIPWAY_UPDATE_STATE_MACHINE_ARN: naming.stateMachineArn(WorkflowId.updateCluster),
        SLIPWAY_DELETE_STATE_MACHINE_ARN: naming.stateMachineArn(WorkflowId.deleteCluster),
      };
      const fn = new SlipwayFunction(this, 'SweepClusters', {
        entry: sweepEntry,
        bundler,
        description: 'Slipway sweeper: deletes clusters past their TTL, restarts lost workflow starts',
        envSchema: SweepEnv,
        environment,
        logRetention,
        timeout: Duration.minutes(5),
      });
      this.data.grantReadWrite(fn.role);
      grantStartWorkflows(fn.role, naming, SWEEP_WORKFLOWS);
      const revoker = existsSync(revokeEntry) ? this.revokerFunction(revokeEntry, bundler, logRetention) : undefined;
      new events.Rule(this, 'SweepSchedule', {
        description: 'Runs the Slipway sweeper and the access revocations',
        schedule: events.Schedule.rate(Duration.minutes(config.sweepIntervalMinutes)),
        // A missed sweep is harmless (the next one catches up): no retries piling up behind a slow one.
        targets: [fn, ...(revoker ? [revoker] : [])].map((f) => new targets.LambdaFunction(f.fn, { retryAttempts: 0 })),
      });
      this.sweeper = fn;
      this.revoker = revoker;
    } else {
      Annotations.of(this).addWarningV2('slipway:noSweepHandler', `${relative(process.cwd(), sweepEntry)} does not exist yet: no TTL sweeps`);
    }

    const functions = new Map<string, lambda.IFunction>();
    for (const [group, f] of this.api.functions) functions.set(`api/${group}`, f.fn);
    for (const [step, f] of this.workflows.steps) functions.set(`step/${step}`, f.fn);
    if (this.accountVended) functions.set(`events/${ACCOUNT_VENDED_HANDLER}`, this.accountVended.fn);
    if (this.sweeper) functions.set(`events/${SWEEP_HANDLER}`, this.sweeper.fn);
    if (this.revoker) functions.set(`events/${REVOKE_HANDLER}`, this.revoker.fn);
    new Monitoring(this, 'Monitoring', {
      dashboardName: this.stackName,
      topic: this.notifications,
      httpApi: this.api.httpApi,
      functions,
      stateMachines: this.workflows.stateMachines as ReadonlyMap<string, sfn.IStateMachine>,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.stage.url, description: 'Slipway API base URL' });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName });
    new CfnOutput(this, 'ManagementClusterName', { value: this.managementCluster.clusterName, description: create ? 'Management EKS cluster (created by this stack)' : 'Management EKS cluster (imported)' });
    if (this.managementCluster instanceof CreatedManagementCluster) {
      new CfnOutput(this, 'CapaControllerRoleArn', {
        value: this.managementCluster.capaRole.roleArn,
        description: 'CAPA controller role: trust it (sts:AssumeRole + sts:TagSession) in the cloud-access roles of target accounts',
      });
    }
    new CfnOutput(this, 'ClusterStepsRoleArn', {
      value: this.workflows.clusterStepsRole.roleArn,
      description: 'Role of the cluster steps; has an EKS access entry on the management cluster',
    });
    const onboarding = this.workflows.onboardingStepsRoleIfAny;
    if (onboarding) {
      new CfnOutput(this, 'OnboardingStepsRoleArn', {
        value: onboarding.roleArn,
        description: 'Role that assumes the cloud-access role in vended accounts (trust it there, with the external id)',
      });
    }
    for (const [wf, machine] of this.workflows.stateMachines) {
      new CfnOutput(this, `${wf.replace(/-/g, '')}StateMachineArn`, { value: machine.stateMachineArn });
    }
  }

  /**
   * The access-revocation processor. Its own function, not the sweeper's: it needs the management cluster
   * (read-only on the kept kubeconfigs, in its VPC when the endpoint is private) and no Step Functions.
   * Table: reads, audit appends, and updates/deletes on the revocation outbox only.
   */
  private revokerFunction(entry: string, bundler: FunctionBundler, logRetention: logs.RetentionDays): SlipwayFunction<typeof RevokeAccessEnv> {
    const environment: RevokeAccessEnvInput = {
      SLIPWAY_TABLE_NAME: this.data.table.tableName,
      SLIPWAY_MANAGEMENT_CLUSTER_NAME: this.managementCluster.clusterName,
    };
    const network = this.managementCluster.functionNetwork;
    const fn = new SlipwayFunction(this, 'RevokeKubeconfigs', {
      entry,
      bundler,
      description: 'Slipway access revocation: deletes removed members\' ServiceAccounts and bindings in workload clusters',
      envSchema: RevokeAccessEnv,
      environment,
      logRetention,
      timeout: Duration.minutes(5),
      ...(network ? { network } : {}),
    });
    this.data.grantRead(fn.role);
    this.data.grantAuditAppend(fn.role);
    this.data.grantRevocationOutbox(fn.role);
    this.managementCluster.grantKeptAccessRead(fn.role, ACCESS_NAMESPACE, 'RevokerKeptAccess');
    return fn;
  }
}
