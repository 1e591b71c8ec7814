/**
 * Reads the workflows' ASL files and resolves their `${Substitution}` names by convention, so a colleague adds
 * a Task and its handler file and the stack follows with no infra change (docs/operations.md, "Deploying",
 * states the convention):
 *
 *   ${Step<PascalName>Arn}            → Lambda function built from functions/steps/<kebab-name>.ts
 *   ${TableName} ${TableArn}          → the Slipway table
 *   ${EventBusName} ${EventBusArn}    → the Slipway bus
 *   ${ManagementClusterName}          → the management EKS cluster's name
 *   ${<PascalWorkflowId>StateMachineArn} → another workflow, e.g. ${ProvisionClusterStateMachineArn}
 *
 * Any other name fails the synth with the list of known ones: nothing is ever left unresolved.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export const ASL_SUFFIX = '.asl.json';

// The naming convention lives with the workflow ids: the local runner follows it too.
import { kebabCase, pascalCase } from '../shared/workflow/names.ts';

export { kebabCase, pascalCase, stepSubstitution } from '../shared/workflow/names.ts';

/** The substitution name of a workflow's own ARN (for `states:startExecution` tasks). */
export const stateMachineSubstitution = (workflowId: string): string => `${pascalCase(workflowId)}StateMachineArn`;

export const ResourceSubstitution = {
  TableName: 'TableName',
  TableArn: 'TableArn',
  EventBusName: 'EventBusName',
  EventBusArn: 'EventBusArn',
  ManagementClusterName: 'ManagementClusterName',
} as const;
export type ResourceSubstitution = (typeof ResourceSubstitution)[keyof typeof ResourceSubstitution];

export type Substitution =
  | { kind: 'step'; name: string; step: string }
  | { kind: 'resource'; name: string; resource: ResourceSubstitution }
  | { kind: 'stateMachine'; name: string; workflow: string };

export class AslConventionError extends Error {
  override readonly name = 'AslConventionError';
}

const STEP_RE = /^Step([A-Z][A-Za-z0-9]*)Arn$/;
const SM_RE = /^([A-Z][A-Za-z0-9]*)StateMachineArn$/;

/** What a substitution name means; throws on a name outside the convention. */
export function resolveSubstitution(name: string, file: string, workflowIds: readonly string[]): Substitution {
  const step = STEP_RE.exec(name);
  if (step?.[1]) return { kind: 'step', name, step: kebabCase(step[1]) };
  if ((Object.values(ResourceSubstitution) as string[]).includes(name)) {
    return { kind: 'resource', name, resource: name as ResourceSubstitution };
  }
  const sm = SM_RE.exec(name);
  if (sm?.[1]) {
    const workflow = kebabCase(sm[1]);
    if (workflowIds.includes(workflow)) return { kind: 'stateMachine', name, workflow };
  }
  throw new AslConventionError(
    `${file}: unknown substitution \${${name}}: use \${Step<Name>Arn} for functions/steps/<name>.ts, ` +
      `one of ${Object.values(ResourceSubstitution)
        .map((r) => `\${${r}}`)
        .join(', ')}, or \${<Workflow>StateMachineArn} for one of ${workflowIds.join(', ')}`,
  );
}

/** A service integration a Task uses, beyond invoking its own step functions. */
export type Integration =
  | { service: 'dynamodb'; action: 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' }
  | { service: 'events'; action: 'PutEvents' }
  | { service: 'states'; action: 'StartExecution'; workflow: string };

export interface WorkflowDefinition {
  /** Workflow id = file name without `.asl.json`. */
  id: string;
  file: string;
  substitutions: Substitution[];
  /** Step handler names whose functions this workflow invokes. */
  steps: string[];
  integrations: Integration[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every state, including those inside Parallel branches and Map processors. */
function* allStates(machine: JsonObject): Generator<[string, JsonObject]> {
  const states = machine.States;
  if (!isObject(states)) return;
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state)) continue;
    yield [name, state];
    const branches = state.Branches;
    if (Array.isArray(branches)) for (const b of branches) if (isObject(b)) yield* allStates(b);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (isObject(processor)) yield* allStates(processor);
  }
}

const DYNAMO_ACTIONS = { getItem: 'GetItem', putItem: 'PutItem', updateItem: 'UpdateItem', deleteItem: 'DeleteItem' } as const;

/** The integration a Task's Resource needs; Lambda tasks need none beyond their step functions. */
function integrationOf(file: string, stateName: string, state: JsonObject, substitutions: Substitution[]): Integration | undefined {
  const resource = state.Resource;
  if (typeof resource !== 'string') throw new AslConventionError(`${file}: Task ${stateName} has no Resource`);
  if (/^\$\{Step[A-Za-z0-9]+Arn\}$/.test(resource) || resource === 'arn:aws:states:::lambda:invoke') return undefined;
  const dynamo = /^arn:aws:states:::dynamodb:(getItem|putItem|updateItem|deleteItem)$/.exec(resource)?.[1];
  if (dynamo) return { service: 'dynamodb', action: DYNAMO_ACTIONS[dynamo as keyof typeof DYNAMO_ACTIONS] };
  if (resource === 'arn:aws:states:::events:putEvents') return { service: 'events', action: 'PutEvents' };
  if (resource === 'arn:aws:states:::states:startExecution') {
    const params = state.Parameters;
    const target = isObject(params) ? params.StateMachineArn : undefined;
    const sub = substitutions.find((s) => s.kind === 'stateMachine' && target === `\${${s.name}}`);
    if (sub?.kind === 'stateMachine') return { service: 'states', action: 'StartExecution', workflow: sub.workflow };
  }
  // Anything else (.sync, .waitForTaskToken, other services) cannot run locally or is not granted: say so.
  throw new AslConventionError(`${file}: Task ${stateName} uses ${resource}, which the stack does not support`);
}

/** Parses one ASL file: its substitutions (by convention) and what its Tasks need. */
export function readWorkflow(file: string, workflowIds: readonly string[]): WorkflowDefinition {
  const text = readFileSync(file, 'utf8');
  const names = [...new Set([...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] ?? ''))].sort();
  const substitutions = names.map((n) => resolveSubstitution(n, file, workflowIds));
  const machine = JSON.parse(text) as Json;
  if (!isObject(machine)) throw new AslConventionError(`${file}: not a state machine definition`);
  const integrations: Integration[] = [];
  for (const [stateName, state] of allStates(machine)) {
    if (state.Type !== 'Task') continue;
    const integration = integrationOf(file, stateName, state, substitutions);
    if (integration) integrations.push(integration);
  }
  return {
    id: basename(file, ASL_SUFFIX),
    file,
    substitutions,
    steps: substitutions.flatMap((s) => (s.kind === 'step' ? [s.step] : [])),
    integrations,
  };
}

/** Workflow ids of the `*.asl.json` files in the directory. */
export function workflowFileIds(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(ASL_SUFFIX))
    .sort()
    .map((f) => basename(f, ASL_SUFFIX));
}

/**
 * Every `*.asl.json` in the directory (none is fine: the workflows may not have landed yet). A
 * `${<Workflow>StateMachineArn}` may name a known workflow id or any file in the directory.
 */
export function readWorkflows(dir: string, knownWorkflowIds: readonly string[]): WorkflowDefinition[] {
  const ids = workflowFileIds(dir);
  const all = [...new Set([...knownWorkflowIds, ...ids])];
  return ids.map((id) => readWorkflow(join(dir, id + ASL_SUFFIX), all));
}
