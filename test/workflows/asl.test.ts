/**
 * Every workflow definition: valid ASL, within what runs both in AWS and on the local runner (JSONPath only,
 * no variables, no task tokens), every Task bound to a step handler that exists, transient errors retried,
 * everything else caught into the failure path, and every wait loop bounded by its Task.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { WORKFLOW_STEPS } from '../../shared/steps/progress.ts';
import { WORKFLOW_OF_OPERATION } from '../../shared/workflow/cluster.ts';
import { kebabCase } from '../../shared/workflow/names.ts';

const require = createRequire(import.meta.url);
const validate = require('asl-validator') as (definition: unknown) => { isValid: boolean; errorsText: (sep?: string) => string };

interface State {
  Type: string;
  Resource?: string;
  Next?: string;
  Default?: string;
  End?: boolean;
  Retry?: Array<{ ErrorEquals: string[]; MaxAttempts?: number }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Choices?: Array<{ Next: string }>;
  SecondsPath?: string;
  Seconds?: number;
  [key: string]: unknown;
}

const dir = new URL('../../statemachines/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.asl.json'));


describe.each(files)('%s', (file) => {
  const text = readFileSync(new URL(file, dir), 'utf8');
  const definition = JSON.parse(text) as { StartAt: string; States: Record<string, State>; QueryLanguage?: string; TimeoutSeconds?: number };
  const states = definition.States;

  it('is valid Amazon States Language', () => {
    // Substitutions are filled in at deploy time; any ARN-shaped value stands in for them here.
    const filled = JSON.parse(text.replace(/\$\{[A-Za-z0-9]+\}/g, 'arn:aws:lambda:eu-west-1:123456789012:function:placeholder'));
    const result = validate(filled);
    expect(result.isValid, result.errorsText()).toBe(true);
  });

  it('uses only what the local runner supports too', () => {
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(text).not.toMatch(/"Assign"|waitForTaskToken|"Arguments"|\{%/);
    expect(definition.TimeoutSeconds, 'a whole-execution timeout').toBeGreaterThan(0);
  });

  it('binds every Task to a step handler that exists', () => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type !== 'Task') continue;
      const step = /^\$\{Step([A-Za-z0-9]+)Arn\}$/.exec(state.Resource ?? '')?.[1];
      expect(step, `${name}: Resource ${state.Resource}`).toBeDefined();
      expect(existsSync(new URL(`../../functions/steps/${kebabCase(step ?? '')}.ts`, import.meta.url)), `${name}: functions/steps/${kebabCase(step ?? '')}.ts`).toBe(true);
    }
  });

  it('retries transient errors and catches everything else', () => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type !== 'Task') continue;
      const retried = (state.Retry ?? []).flatMap((r) => r.ErrorEquals);
      expect(retried, `${name} retries`).toEqual(expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']));
      for (const r of state.Retry ?? []) expect(r.MaxAttempts ?? 3, `${name}: bounded retries`).toBeLessThanOrEqual(10);
      // The failure path's own Tasks end the execution instead of catching.
      if (/Failed|Undo/.test(name)) continue;
      expect((state.Catch ?? []).some((c) => c.ErrorEquals.includes('States.ALL')), `${name} catches States.ALL`).toBe(true);
    }
  });

  it('never retries a failure that retrying cannot mend', () => {
    // Terminal by design (a failed machine, a missing ClusterClass, a refused topology, a wait that ran out):
    // retrying them only delays the Failed the user must see.
    const terminal = ['States.ALL', 'MachineFailedError', 'ClusterClassNotFoundError', 'TopologyRefusedError', 'WaitTimeoutError', 'StaleExecutionError', 'StaleOnboardingError'];
    for (const [name, state] of Object.entries(states)) {
      if (state.Type !== 'Task' || /Failed|Undo/.test(name)) continue;
      const retried = (state.Retry ?? []).flatMap((r) => r.ErrorEquals);
      expect(retried.filter((e) => terminal.includes(e)), `${name} retries`).toEqual([]);
    }
  });

  it('has every transition target, and every state is reachable', () => {
    const targets = (s: State) => [s.Next, s.Default, ...(s.Choices ?? []).map((c) => c.Next), ...(s.Catch ?? []).map((c) => c.Next)].filter((t): t is string => typeof t === 'string');
    for (const [name, state] of Object.entries(states)) for (const t of targets(state)) expect(states[t], `${name} → ${t}`).toBeDefined();
    const seen = new Set<string>();
    const queue = [definition.StartAt];
    while (queue.length > 0) {
      const next = queue.pop() as string;
      if (seen.has(next)) continue;
      seen.add(next);
      const state = states[next];
      if (state) queue.push(...targets(state));
    }
    expect([...seen].sort()).toEqual(Object.keys(states).sort());
  });

  it('bounds every wait loop by its polling Task, never a busy loop', () => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type !== 'Wait') continue;
      const next = states[state.Next ?? ''];
      // The Task after a Wait polls and throws WaitTimeoutError after its last attempt; the Wait is never 0.
      expect(next?.Type, `${name} → ${state.Next}`).toBe('Task');
      if (state.Seconds !== undefined) expect(state.Seconds).toBeGreaterThan(0);
      else expect(state.SecondsPath, name).toBeDefined();
    }
  });
});

describe('the step order the cluster record moves forward by (shared/steps/progress.ts)', () => {
  it.each(Object.entries(WORKFLOW_OF_OPERATION))('%s is the order of %s.asl.json', (operation, workflow) => {
    const definition = JSON.parse(readFileSync(new URL(`${workflow}.asl.json`, dir), 'utf8')) as { StartAt: string; States: Record<string, State> };
    // The success path: every Next, and out of each wait loop through its Choice's "done" branch.
    const steps: string[] = [];
    const seen = new Set<string>();
    let name: string | undefined = definition.StartAt;
    while (name !== undefined && !seen.has(name)) {
      seen.add(name);
      const state: State | undefined = definition.States[name];
      if (state === undefined) break;
      const step = /^\$\{Step([A-Za-z0-9]+)Arn\}$/.exec(state.Resource ?? '')?.[1];
      if (state.Type === 'Task' && step !== undefined) steps.push(kebabCase(step));
      name = state.Type === 'Choice' ? state.Choices?.[0]?.Next : state.Next;
    }
    expect(steps).toEqual(WORKFLOW_STEPS[operation as keyof typeof WORKFLOW_STEPS]);
  });
});
