/**
 * Every statemachines/*.asl.json as a Standard state machine (DefinitionBody.fromFile + substitutions), and
 * the step functions its Tasks invoke, found by the naming convention in infra/asl.ts. Each state machine's
 * role may invoke only the functions its own definition names.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Annotations, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { StepEnv, type StepEnvInput } from '../shared/config/env.ts';
import { WorkflowId } from '../shared/workflow/names.ts';
import {
  AslConventionError,
  type Integration,
  pascalCase,
  readWorkflows,
  stepSubstitution,
  type Substitution,
  type WorkflowDefinition,
} from './asl.ts';
import type { FunctionBundler } from './bundling.ts';
import type { Data } from './data.ts';
import type { SlipwayEvents } from './events.ts';
import { SlipwayFunction } from './function.ts';
import type { ManagementCluster } from './management-cluster.ts';
import {
  acknowledgeWildcard,
  cloudAccessRoleArn,
  cloudAccessRoleFinding,
  executionsArn,
  executionsFinding,
  WILDCARD_REASONS,
} from './wildcards.ts';

/** Deterministic names, so ARNs are known before the state machines exist (no dependency cycles). */
export interface WorkflowNaming {
  /** `<prefix>-<suffix>`: names that must be known before the stack exists (state machines, step roles). */
  prefixed(suffix: string): string;
  stateMachineName(workflow: string): string;
  stateMachineArn(workflow: string): string;
}

export function workflowNaming(scope: Construct, prefix: string): WorkflowNaming {
  const stack = Stack.of(scope);
  const prefixed = (suffix: string) => `${prefix}-${suffix}`;
  const stateMachineName = prefixed;
  return {
    prefixed,
    stateMachineName,
    stateMachineArn: (workflow) =>
      stack.formatArn({
        service: 'states',
        resource: 'stateMachine',
        resourceName: stateMachineName(workflow),
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
  };
}

export interface WorkflowsProps {
  statemachinesDir: string;
  stepsDir: string;
  naming: WorkflowNaming;
  data: Data;
  events: SlipwayEvents;
  managementCluster: ManagementCluster;
  /** Role names assumed in vended accounts by the onboarding steps. */
  cloudAccessRoleNames: readonly string[];
  /** Mirror of the providers' release files (config `providerRepository`); default GitHub releases. */
  providerRepository?: string | undefined;
  logRetention: logs.RetentionDays;
  logExecutionData: boolean;
  /** Fail the synth, instead of skipping the workflow, when a step handler is missing. */
  strict: boolean;
  bundler: FunctionBundler;
  /** The plan the bundler was given; default: planned from the two directories. */
  plan?: WorkflowPlan;
}

export const stepEntry = (stepsDir: string, step: string): string => join(stepsDir, `${step}.ts`);

export interface WorkflowPlan {
  /** Workflows whose every step handler exists. */
  deployable: WorkflowDefinition[];
  skipped: { workflow: string; file: string; missing: { entry: string; substitution: string }[] }[];
  /** Handler files of the deployable workflows' steps. */
  stepEntries: string[];
  /** Handler files of every step any workflow names, present or not. */
  referencedStepEntries: string[];
}

/** Which workflows can be deployed now, and which step handlers they need (the bundler is told up front). */
export function planWorkflows(statemachinesDir: string, stepsDir: string): WorkflowPlan {
  const plan: WorkflowPlan = { deployable: [], skipped: [], stepEntries: [], referencedStepEntries: [] };
  const all = readWorkflows(statemachinesDir, Object.values(WorkflowId));
  for (const def of all) {
    const missing = def.steps.filter((step) => !existsSync(stepEntry(stepsDir, step)));
    if (missing.length === 0) plan.deployable.push(def);
    else {
      plan.skipped.push({
        workflow: def.id,
        file: def.file,
        missing: missing.map((m) => ({ entry: stepEntry(stepsDir, m), substitution: `\${${stepSubstitution(m)}}` })),
      });
    }
  }
  const entries = (defs: WorkflowDefinition[]) => [...new Set(defs.flatMap((d) => d.steps))].sort().map((s) => stepEntry(stepsDir, s));
  plan.stepEntries = entries(plan.deployable);
  plan.referencedStepEntries = entries(all);
  return plan;
}

/** Step families: one shared role each (the cluster one is what the EKS access entry names). */
type Family = 'cluster' | 'onboarding';

export class Workflows extends Construct {
  /** The workflows deployed. */
  readonly definitions: WorkflowDefinition[];
  /** Workflows found but not deployed (step handlers missing). */
  readonly skipped: string[] = [];
  readonly stateMachines = new Map<string, sfn.StateMachine>();
  readonly steps = new Map<string, SlipwayFunction<typeof StepEnv>>();
  /** The role of every step that talks to Kubernetes; mapped into the management cluster. */
  readonly clusterStepsRole: iam.Role;
  private onboardingRole: iam.Role | undefined;

  constructor(scope: Construct, id: string, private readonly props: WorkflowsProps) {
    super(scope, id);
    const plan = props.plan ?? planWorkflows(props.statemachinesDir, props.stepsDir);
    this.definitions = plan.deployable;
    for (const { workflow, file, missing } of plan.skipped) {
      // Workflows and their step handlers land separately: one whose handlers are not all there yet is left
      // out with a warning (an error with slipway:strictWorkflows), never deployed half-wired.
      const list = missing.map((m) => `${relative(process.cwd(), m.entry)} (${m.substitution})`).join(', ');
      const message = `${relative(process.cwd(), file)} not deployed: missing step handlers ${list}`;
      if (props.strict) throw new AslConventionError(message);
      Annotations.of(this).addWarningV2(`slipway:workflowSkipped:${workflow}`, message);
      this.skipped.push(workflow);
    }

    this.clusterStepsRole = this.newStepRole(
      'ClusterStepsRole',
      props.naming.prefixed('cluster-steps'),
      'Slipway cluster workflow steps (mapped into the management cluster)',
    );
    props.managementCluster.grantKubernetesAccess(this.clusterStepsRole);

    const environment: StepEnvInput = {
      SLIPWAY_TABLE_NAME: props.data.table.tableName,
      SLIPWAY_EVENT_BUS_NAME: props.events.bus.eventBusName,
      SLIPWAY_MANAGEMENT_CLUSTER_NAME: props.managementCluster.clusterName,
      SLIPWAY_PROVISION_STATE_MACHINE_ARN: props.naming.stateMachineArn(WorkflowId.provisionCluster),
      // install-providers puts the providers into each new workload cluster from there.
      ...(props.providerRepository ? { SLIPWAY_PROVIDER_REPOSITORY: props.providerRepository } : {}),
    };
    for (const [step, family] of this.stepFamilies()) {
      const entry = stepEntry(this.props.stepsDir, step);
      this.steps.set(
        step,
        new SlipwayFunction(this, `Step${pascalCase(step)}`, {
          entry,
          bundler: this.props.bundler,
          description: `Slipway step ${step}`,
          envSchema: StepEnv,
          environment,
          role: family === 'cluster' ? this.clusterStepsRole : this.onboardingStepsRole(),
          // Cluster steps call the management cluster: inside its VPC when its endpoint is private.
          ...(family === 'cluster' && props.managementCluster.functionNetwork ? { network: props.managementCluster.functionNetwork } : {}),
          logRetention: props.logRetention,
          // Each step is one bounded Kubernetes/AWS operation; waits are ASL Wait states, not sleeps.
          timeout: Duration.minutes(5),
          memorySize: 1024,
        }),
      );
    }

    for (const def of this.definitions) this.stateMachines.set(def.id, this.stateMachine(def));
  }

  /** Step name → family: a step any cluster workflow uses runs under the cluster role. */
  private stepFamilies(): Map<string, Family> {
    const families = new Map<string, Family>();
    for (const def of this.definitions) {
      const family: Family = def.id === WorkflowId.onboardAccount ? 'onboarding' : 'cluster';
      for (const step of def.steps) if (families.get(step) !== 'cluster') families.set(step, family);
    }
    return new Map([...families].sort(([a], [b]) => a.localeCompare(b)));
  }

  /**
   * Step roles have fixed names (`<stack>-cluster-steps`, `<stack>-onboarding-steps`): vended accounts' trust
   * policies and the management cluster's RBAC name them before the stack exists.
   */
  private newStepRole(id: string, roleName: string, description: string): iam.Role {
    const role = new iam.Role(this, id, { roleName, assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description });
    this.props.data.grantReadWrite(role);
    this.props.events.grantPut(role);
    return role;
  }

  /** The onboarding steps' role, once a workflow needs it. */
  get onboardingStepsRoleIfAny(): iam.Role | undefined {
    return this.onboardingRole;
  }

  private onboardingStepsRole(): iam.Role {
    if (this.onboardingRole) return this.onboardingRole;
    const role = this.newStepRole('OnboardingStepsRole', this.props.naming.prefixed('onboarding-steps'), 'Slipway account onboarding steps');
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole'],
        // Vended accounts are not known at deploy time: any account, but only the role names configured.
        resources: this.props.cloudAccessRoleNames.map(cloudAccessRoleArn),
      }),
    );
    for (const name of this.props.cloudAccessRoleNames) acknowledgeWildcard(role, cloudAccessRoleFinding(name), WILDCARD_REASONS.assumeCloudAccess);
    // The baseline cluster is requested through the normal path: start provision-cluster, read its execution.
    grantStartWorkflows(role, this.props.naming, [WorkflowId.provisionCluster]);
    this.onboardingRole = role;
    return role;
  }

  private substitutionValue(s: Substitution): string {
    switch (s.kind) {
      case 'step':
        return this.steps.get(s.step)!.fn.functionArn;
      case 'stateMachine':
        return this.props.naming.stateMachineArn(s.workflow);
      case 'resource':
        switch (s.resource) {
          case 'TableName':
            return this.props.data.table.tableName;
          case 'TableArn':
            return this.props.data.table.tableArn;
          case 'EventBusName':
            return this.props.events.bus.eventBusName;
          case 'EventBusArn':
            return this.props.events.bus.eventBusArn;
          case 'ManagementClusterName':
            return this.props.managementCluster.clusterName;
        }
    }
  }

  private stateMachine(def: WorkflowDefinition): sfn.StateMachine {
    const name = this.props.naming.stateMachineName(def.id);
    const logGroup = new logs.LogGroup(this, `${pascalCase(def.id)}Logs`, {
      // The /aws/vendedlogs/ prefix keeps CloudWatch Logs resource policies small.
      logGroupName: `/aws/vendedlogs/states/${name}`,
      retention: this.props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(this, `${pascalCase(def.id)}Role`, {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `Slipway state machine ${def.id}`,
    });
    const machine = new sfn.StateMachine(this, pascalCase(def.id), {
      stateMachineName: name,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(def.file),
      definitionSubstitutions: Object.fromEntries(def.substitutions.map((s) => [s.name, this.substitutionValue(s)])),
      role,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: this.props.logExecutionData },
      tracingEnabled: true,
    });
    acknowledgeWildcard(role, '*', `${WILDCARD_REASONS.logDelivery} ${WILDCARD_REASONS.xray}`);
    const functions = def.steps.map((s) => this.steps.get(s)!.fn.functionArn);
    if (functions.length > 0) {
      // Unqualified ARNs only: the ASL invokes $LATEST by the substituted ARN, never a version or alias.
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: functions }));
    }
    for (const integration of def.integrations) role.addToPrincipalPolicy(this.integrationStatement(integration));
    return machine;
  }

  private integrationStatement(i: Integration): iam.PolicyStatement {
    switch (i.service) {
      case 'dynamodb':
        return new iam.PolicyStatement({ actions: [`dynamodb:${i.action}`], resources: [this.props.data.table.tableArn] });
      case 'events':
        return new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [this.props.events.bus.eventBusArn] });
      case 'states':
        return new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.props.naming.stateMachineArn(i.workflow)] });
    }
  }
}

/**
 * Lets `role` start the named workflows exactly once by name: StartExecution on those state machines and
 * DescribeExecution on their executions (the starter reads an existing execution of the same name).
 */
export function grantStartWorkflows(role: iam.Role, naming: WorkflowNaming, workflows: readonly string[]): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: workflows.map((w) => naming.stateMachineArn(w)) }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['states:DescribeExecution'],
      resources: workflows.map((w) => executionsArn(naming.stateMachineName(w))),
    }),
  );
  for (const w of workflows) acknowledgeWildcard(role, executionsFinding(naming.stateMachineName(w)), WILDCARD_REASONS.executions);
}
