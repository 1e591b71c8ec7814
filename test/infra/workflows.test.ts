import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowId } from '../../shared/workflow/names.ts';
import { AslConventionError, kebabCase, pascalCase, readWorkflows, resolveSubstitution, stepSubstitution } from '../../infra/asl.ts';
import { DEFAULT_PATHS } from '../../infra/stack.ts';
import { planWorkflows } from '../../infra/workflows.ts';
import {
  type Built,
  buildStack,
  FIXTURE_PATHS,
  FIXTURES,
  policyStatements,
  referencedId,
  renderValue,
  resourcesOf,
  substitution,
  synthTemplate,
  removeOutdirs,
} from './helpers.ts';

afterAll(removeOutdirs);

const substitutionNames = (file: string): string[] =>
  [...new Set([...readFileSync(file, 'utf8').matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] ?? ''))].sort();

describe('the substitution convention (infra/asl.ts)', () => {
  it('maps step handler names and substitution names both ways', () => {
    expect(stepSubstitution('mark-provisioning')).toBe('StepMarkProvisioningArn');
    expect(kebabCase('CheckControlPlane')).toBe('check-control-plane');
    expect(pascalCase('install-cni')).toBe('InstallCni');
    expect(resolveSubstitution('StepInstallCniArn', 'f', [])).toEqual({ kind: 'step', name: 'StepInstallCniArn', step: 'install-cni' });
    expect(resolveSubstitution('TableName', 'f', [])).toMatchObject({ kind: 'resource', resource: 'TableName' });
    expect(resolveSubstitution('ProvisionClusterStateMachineArn', 'f', ['provision-cluster'])).toMatchObject({
      kind: 'stateMachine',
      workflow: 'provision-cluster',
    });
  });

  it('refuses a name outside the convention', () => {
    expect(() => resolveSubstitution('MyFunctionArn', 'x.asl.json', [])).toThrow(AslConventionError);
  });

  it("accepts every workflow file in the repository's statemachines/", () => {
    // The real ASL lands separately; whatever is there must follow the convention.
    const defs = readWorkflows(DEFAULT_PATHS.statemachines, Object.values(WorkflowId));
    for (const def of defs) {
      expect(def.substitutions.map((s) => s.name)).toEqual(substitutionNames(def.file));
      for (const step of def.steps) expect(step).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    }
  });
});

describe('workflows: every ASL file a Standard state machine', () => {
  let built: Built;
  beforeAll(() => {
    built = synthTemplate();
  });

  it('deploys each fixture ASL file from an S3 asset, with logging ALL and X-Ray', () => {
    const machines = resourcesOf(built.template, 'AWS::StepFunctions::StateMachine');
    expect(Object.keys(machines)).toHaveLength(2);
    for (const id of ['provision-cluster', 'onboard-account']) {
      built.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: `Slipway-${id}`,
        StateMachineType: 'STANDARD',
        DefinitionS3Location: Match.objectLike({ Bucket: Match.anyValue(), Key: Match.anyValue() }),
        LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
        TracingConfiguration: { Enabled: true },
      });
    }
  });

  it('resolves every substitution to a real resource (none left unresolved)', () => {
    expectSubstitutionsResolved(built.template, join(FIXTURES, 'statemachines'));
  });

  it("lets each state machine's role invoke only its own step functions", () => {
    expectInvokesOnlyOwnFunctions(built.template);
  });

  it('grants the service integrations the ASL uses, on the Slipway resources only', () => {
    const statementsOf = (machineName: string) => {
      const machine = Object.values(resourcesOf(built.template, 'AWS::StepFunctions::StateMachine')).find(
        (m) => m.Properties?.StateMachineName === machineName,
      );
      const roleId = referencedId(machine?.Properties?.RoleArn);
      return Object.values(resourcesOf(built.template, 'AWS::IAM::Policy'))
        .filter((p) => ((p.Properties?.Roles as unknown[]) ?? []).some((r) => referencedId(r) === roleId))
        .flatMap(policyStatements);
    };
    const provision = statementsOf('Slipway-provision-cluster');
    const update = provision.find((s) => s.Action === 'dynamodb:UpdateItem');
    expect(resourcesOf(built.template, 'AWS::DynamoDB::GlobalTable')[referencedId([update?.Resource].flat()[0]) ?? '']).toBeDefined();
    const put = provision.find((s) => s.Action === 'events:PutEvents');
    expect(resourcesOf(built.template, 'AWS::Events::EventBus')[referencedId([put?.Resource].flat()[0]) ?? '']).toBeDefined();
    const start = statementsOf('Slipway-onboard-account').find((s) => s.Action === 'states:StartExecution');
    expect(renderValue(start?.Resource)).toMatch(/:stateMachine:Slipway-provision-cluster$/);
  });

  it('runs steps used only by onboarding under their own role, and shared steps under the cluster role', () => {
    const { stack } = buildStack();
    const steps = stack.workflows.steps;
    expect([...steps.keys()].sort()).toEqual(['check-nodes', 'mark-failed', 'mark-provisioning', 'register-cloud-access']);
    expect(steps.get('mark-failed')?.role).toBe(stack.workflows.clusterStepsRole);
    expect(steps.get('check-nodes')?.role).toBe(stack.workflows.clusterStepsRole);
    expect(steps.get('register-cloud-access')?.role).not.toBe(stack.workflows.clusterStepsRole);
    // Fixed names: trust policies in vended accounts and the cluster's RBAC refer to them.
    built.template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'Slipway-cluster-steps' });
    built.template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'Slipway-onboarding-steps' });
  });

  it('gives every step the provider mirror when slipway:providerRepository is set, and nothing otherwise', () => {
    const stepVars = (b: Built) =>
      [...b.stack.workflows.steps.values()].map(
        (step) => (resourcesOf(b.template, 'AWS::Lambda::Function')[b.stack.getLogicalId(step.fn.node.defaultChild as CfnElement)]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables,
      );
    const mirrored = synthTemplate({ context: { 'slipway:providerRepository': 'https://mirror.example.com/capi' } });
    expect(stepVars(mirrored).length).toBeGreaterThan(0);
    for (const vars of stepVars(mirrored)) expect(vars.SLIPWAY_PROVIDER_REPOSITORY).toBe('https://mirror.example.com/capi');
    for (const vars of stepVars(built)) expect(vars.SLIPWAY_PROVIDER_REPOSITORY).toBeUndefined();
  });

  it('leaves out, with a warning, a workflow whose step handler is missing; strict mode fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-asl-'));
    writeFileSync(
      join(dir, 'update-cluster.asl.json'),
      JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Task', Resource: substitution('StepNotWrittenYetArn'), End: true } } }),
    );
    const paths = { ...FIXTURE_PATHS, statemachines: dir };
    const { stack } = buildStack({ paths });
    expect(stack.workflows.skipped).toEqual(['update-cluster']);
    expect(stack.workflows.stateMachines.size).toBe(0);
    Annotations.fromStack(stack).hasWarning('/Slipway/Workflows', Match.stringLikeRegexp('not-written-yet\\.ts'));
    expect(() => buildStack({ paths, context: { 'slipway:strictWorkflows': 'true' } })).toThrow(/not-written-yet\.ts/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("workflows: the repository's own statemachines/", () => {
  it('deploys each workflow whose step handlers exist, resolved and scoped like the fixtures', () => {
    const { template, stack } = synthTemplate({ paths: DEFAULT_PATHS });
    const plan = planWorkflows(DEFAULT_PATHS.statemachines, DEFAULT_PATHS.stepHandlers);
    expect([...stack.workflows.stateMachines.keys()].sort()).toEqual(plan.deployable.map((d) => d.id).sort());
    expect(stack.workflows.skipped.sort()).toEqual(plan.skipped.map((s) => s.workflow).sort());
    expectSubstitutionsResolved(template, DEFAULT_PATHS.statemachines);
    expectInvokesOnlyOwnFunctions(template);
  });
});

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** Every DefinitionSubstitutions key is a `${...}` of the file, and names a real resource of the stack. */
function expectSubstitutionsResolved(template: Template, dir: string): void {
  const all = template.toJSON().Resources as Resources;
  for (const machine of Object.values(resourcesOf(template, 'AWS::StepFunctions::StateMachine'))) {
    const id = String(machine.Properties?.StateMachineName).replace(/^Slipway-/, '');
    const subs = (machine.Properties?.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
    expect(Object.keys(subs).sort(), id).toEqual(substitutionNames(join(dir, `${id}.asl.json`)));
    for (const [name, value] of Object.entries(subs)) {
      const type = all[referencedId(value) ?? '']?.Type;
      if (name.startsWith('Step')) {
        expect(type, name).toBe('AWS::Lambda::Function');
        expect((value as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt']?.[1], name).toBe('Arn');
      } else if (name === 'TableName' || name === 'TableArn') {
        expect(type, name).toBe('AWS::DynamoDB::GlobalTable');
      } else if (name === 'EventBusName' || name === 'EventBusArn') {
        expect(type, name).toBe('AWS::Events::EventBus');
      } else if (name === 'ManagementClusterName') {
        expect(value).toBe('slipway-management');
      } else if (name.endsWith('StateMachineArn')) {
        expect(renderValue(value)).toMatch(/^arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:Slipway-[a-z-]+$/);
      } else {
        throw new Error(`unexpected substitution ${name}`);
      }
      expect(JSON.stringify(value), name).not.toContain(substitution('').slice(0, 2));
    }
  }
}

/** A state machine's role invokes exactly the step functions its definition names, nothing else. */
function expectInvokesOnlyOwnFunctions(template: Template): void {
  const all = template.toJSON().Resources as Resources;
  const policies = Object.values(resourcesOf(template, 'AWS::IAM::Policy'));
  for (const machine of Object.values(resourcesOf(template, 'AWS::StepFunctions::StateMachine'))) {
    const subs = (machine.Properties?.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
    const own = Object.entries(subs)
      .filter(([n]) => n.startsWith('Step'))
      .map(([, v]) => referencedId(v))
      .sort();
    const roleId = referencedId(machine.Properties?.RoleArn);
    const invoked = policies
      .filter((p) => ((p.Properties?.Roles as unknown[]) ?? []).some((r) => referencedId(r) === roleId))
      .flatMap(policyStatements)
      .filter((st) => [st.Action].flat().includes('lambda:InvokeFunction'))
      .flatMap((st) => [st.Resource].flat())
      .map((r) => referencedId(r))
      .sort();
    expect(invoked).toEqual(own);
    for (const id of invoked) expect(all[id ?? '']?.Type).toBe('AWS::Lambda::Function');
  }
}
