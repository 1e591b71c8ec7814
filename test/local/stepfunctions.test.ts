import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ExecutionNotFoundError,
  LocalStateMachine,
  LocalWorkflowStarter,
  type LocalWorkflowStarterOptions,
  type StateTransition,
  StateMachineDefinitionError,
  type TaskHandler,
  UnboundTaskError,
  WorkflowRunnerStoppedError,
} from '../../local/stepfunctions.ts';
import { ExecutionAlreadyExistsError, type JsonValue, WorkflowNotConfiguredError } from '../../shared/workflow/starter.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fnArn = (name: string) => `arn:aws:lambda:eu-west-1:123456789012:function:${name}`;
const SUBSTITUTIONS = {
  PrepareFunctionArn: fnArn('prepare'),
  PollFunctionArn: fnArn('poll'),
  SquareFunctionArn: `${fnArn('square')}:live`,
  RiskyFunctionArn: fnArn('risky'),
};

class TransientError extends Error {
  override readonly name = 'TransientError';
}
class QuotaExceededError extends Error {
  override readonly name = 'QuotaExceededError';
}
class BoomError extends Error {
  override readonly name = 'BoomError';
}

const field = (input: JsonValue, key: string): JsonValue | undefined =>
  input !== null && typeof input === 'object' && !Array.isArray(input) ? input[key] : undefined;

/** Handlers that remember what they saw, per execution. */
function fakeLambdas() {
  const seen = { prepare: [] as JsonValue[], flakyAt: [] as number[], polls: new Map<string, number>() };
  const lambdas: Record<string, TaskHandler> = {
    prepare: (input) => {
      seen.prepare.push(input);
      return { items: field(input, 'items') ?? [1, 2, 3], extra: 'dropped by ResultSelector' };
    },
    poll: (_input, info) => {
      const n = (seen.polls.get(info.executionName) ?? 0) + 1;
      seen.polls.set(info.executionName, n);
      return { ready: n >= 2, polls: n };
    },
    flaky: (input) => {
      seen.flakyAt.push(Date.now());
      if (seen.flakyAt.length <= 2) throw new TransientError(`not yet (${seen.flakyAt.length})`);
      return { key: field(input, 'key') ?? null, ok: true, at: new Date(0) };
    },
    square: (input) => (typeof input === 'number' ? input * input : null),
    risky: (input) => {
      const failWith = field(input, 'failWith');
      if (failWith === 'QuotaExceededError') throw new QuotaExceededError('no quota left');
      if (failWith === 'BoomError') throw new BoomError('boom');
      return 'fine';
    },
  };
  return { lambdas, seen };
}

let runner: LocalWorkflowStarter | undefined;
afterEach(async () => {
  await runner?.stopAll();
  runner = undefined;
});

function exerciseRunner(extra: Partial<LocalWorkflowStarterOptions> = {}) {
  const fakes = fakeLambdas();
  const transitions: StateTransition[] = [];
  runner = new LocalWorkflowStarter({
    machines: { exercise: join(FIXTURES, 'exercise.asl.json') },
    substitutions: SUBSTITUTIONS,
    lambdas: fakes.lambdas,
    timeFactor: 0.1,
    onTransition: (t) => transitions.push(t),
    ...extra,
  });
  return { runner, transitions, ...fakes };
}

describe('LocalWorkflowStarter running an ASL file', () => {
  it('runs Task (both styles), Choice, Wait, Retry with backoff, Parallel, Map and Catch', async () => {
    // Prepare
    const { runner, seen, transitions } = exerciseRunner();

    // Act
    const started = await runner.start({ workflow: 'exercise', name: 'run-1', input: { key: 'k1', items: [2, 3, 4], failWith: 'QuotaExceededError' } });
    const done = await runner.waitFor('run-1');

    // Assess
    expect(started.executionId).toBe('arn:aws:states:local:000000000000:execution:exercise:run-1');
    expect(done.status).toBe('SUCCEEDED');
    // lambda:invoke got the resolved Payload, and its result was wrapped in { Payload }.
    expect(seen.prepare).toEqual([{ key: 'k1', items: [2, 3, 4], failWith: 'QuotaExceededError' }]);
    expect(done.output).toEqual({
      error: 'QuotaExceededError',
      cause: { errorType: 'QuotaExceededError', errorMessage: 'no quota left', trace: expect.any(Array) },
      // Parallel: branch A's Payload (OutputPath), branch B's Map of squares (direct ARN, qualified).
      fanout: [{ key: 'k1', ok: true, at: '1970-01-01T00:00:00.000Z' }, [4, 9, 16]],
    });
    // Choice looped once through the Wait.
    expect(seen.polls.get('run-1')).toBe(2);
    // Retry: two TransientErrors, then success, waiting 0.1 s then 0.2 s (IntervalSeconds 1, BackoffRate 2, × 0.1).
    expect(seen.flakyAt).toHaveLength(3);
    const [a = 0, b = 0, c = 0] = seen.flakyAt;
    expect(b - a).toBeGreaterThanOrEqual(90);
    expect(c - b).toBeGreaterThanOrEqual(190);
    // States entered (nested included) + retries.
    const entered = ['Prepare', 'Poll', 'IsReady', 'PollWait', 'Poll', 'IsReady', 'Fanout', 'Flaky', 'PerItem', 'Square', 'Square', 'Square', 'Risky', 'Recovered', 'Done'];
    expect(transitions.filter((t) => t.kind === 'entered').map((t) => t.state).sort()).toEqual([...entered].sort());
    expect(transitions.filter((t) => t.kind === 'retried').map((t) => t.state)).toEqual(['Flaky', 'Flaky']);
    expect(done.transitions).toBe(entered.length + 2);
    // prepare, poll ×2, flaky ×3, square ×3, risky.
    expect(done.taskInvocations).toBe(10);
    expect(runner.totals).toEqual({ executions: 1, transitions: entered.length + 2, taskInvocations: 10 });
  });

  it('fails the execution with the error name and the Lambda-style cause when nothing catches it', async () => {
    const { runner } = exerciseRunner({ timeFactor: 0 });

    await runner.start({ workflow: 'exercise', name: 'run-boom', input: { key: 'k', failWith: 'BoomError' } });
    const done = await runner.waitFor('run-boom');

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('BoomError');
    expect(JSON.parse(done.cause ?? '{}')).toMatchObject({ errorType: 'BoomError', errorMessage: 'boom' });
    expect(done.stopDate).toBeInstanceOf(Date);
  });

  it('starts exactly once per name: same input → same execution, different input → named error', async () => {
    const { runner, seen } = exerciseRunner({ timeFactor: 0 });
    const input = { key: 'k', items: [1] };

    const [first, second] = await Promise.all([
      runner.start({ workflow: 'exercise', name: 'once', input }),
      runner.start({ workflow: 'exercise', name: 'once', input: { items: [1], key: 'k' } }),
    ]);
    const conflict = await runner.start({ workflow: 'exercise', name: 'once', input: { key: 'other' } }).catch((e: unknown) => e);
    await runner.waitFor('once');
    const again = await runner.start({ workflow: 'exercise', name: 'once', input });

    expect(second.executionId).toBe(first.executionId);
    expect(again.executionId).toBe(first.executionId);
    expect(conflict).toBeInstanceOf(ExecutionAlreadyExistsError);
    expect(seen.prepare).toHaveLength(1);
    expect(runner.list()).toHaveLength(1);
  });

  it('reports unknown workflows and executions with named errors', async () => {
    const { runner } = exerciseRunner();

    await expect(runner.start({ workflow: 'provision-cluster', name: 'x', input: {} })).rejects.toBeInstanceOf(WorkflowNotConfiguredError);
    expect(() => runner.describe('nope')).toThrow(ExecutionNotFoundError);
  });

  it('aborts running executions on stopAll and refuses new starts', async () => {
    // Prepare: a one-hour Wait at real time.
    const echo: TaskHandler = (input) => input;
    runner = new LocalWorkflowStarter({ machines: { sleeper: join(FIXTURES, 'sleeper.asl.json') }, lambdas: { echo } });
    await runner.start({ workflow: 'sleeper', name: 's1', input: {} });
    expect(runner.describe('s1').status).toBe('RUNNING');

    // Act
    await runner.stopAll();

    // Assess
    expect(runner.describe('s1').status).toBe('ABORTED');
    expect(runner.describe('s1').taskInvocations).toBe(0);
    await expect(runner.start({ workflow: 'sleeper', name: 's2', input: {} })).rejects.toBeInstanceOf(WorkflowRunnerStoppedError);
  });
});

describe('workflows that cannot run here yet', () => {
  it('holds their starts as PENDING executions when asked to, and refuses to load them otherwise', async () => {
    const machines = { sleeper: join(FIXTURES, 'sleeper.asl.json') };
    expect(() => new LocalWorkflowStarter({ machines })).toThrow(UnboundTaskError);

    runner = new LocalWorkflowStarter({ machines, whenUnbound: 'hold' });
    const first = await runner.start({ workflow: 'sleeper', name: 'h1', input: { a: 1 } });
    const again = await runner.start({ workflow: 'sleeper', name: 'h1', input: { a: 1 } });
    const done = await runner.waitFor('h1', { timeoutMs: 1_000 });

    expect([...runner.unavailable.keys()]).toEqual(['sleeper']);
    expect(runner.unavailable.get('sleeper')).toMatch(/Echo/);
    expect(again.executionId).toBe(first.executionId);
    expect(done.status).toBe('PENDING');
    expect(done.cause).toMatch(/^not started: .*no local handler/);
    await expect(runner.start({ workflow: 'sleeper', name: 'h1', input: { a: 2 } })).rejects.toBeInstanceOf(ExecutionAlreadyExistsError);
  });
});

describe('LocalStateMachine loading', () => {
  it('binds every Task, nested ones included, to the handler its Resource names', () => {
    const { lambdas } = fakeLambdas();
    const machine = LocalStateMachine.fromFile(join(FIXTURES, 'exercise.asl.json'), { lambdas, substitutions: SUBSTITUTIONS });

    expect(Object.fromEntries([...machine.bindings].map(([state, b]) => [state, b.target]))).toEqual({
      Prepare: 'prepare',
      Poll: 'poll',
      Flaky: 'flaky',
      Square: 'square',
      Risky: 'risky',
    });
    expect([...machine.dynamicWaits]).toEqual([]);
  });

  it('refuses an unbound Task instead of calling real AWS Lambda', () => {
    const { lambdas } = fakeLambdas();
    const { square: _dropped, ...withoutSquare } = lambdas;

    expect(() => LocalStateMachine.fromFile(join(FIXTURES, 'exercise.asl.json'), { lambdas: withoutSquare, substitutions: SUBSTITUTIONS })).toThrow(
      UnboundTaskError,
    );
    expect(() => LocalStateMachine.fromFile(join(FIXTURES, 'exercise.asl.json'), { lambdas: withoutSquare, substitutions: SUBSTITUTIONS })).toThrow(/Square/);
  });

  it('names missing substitutions and invalid definitions', () => {
    const { lambdas } = fakeLambdas();

    expect(() => LocalStateMachine.fromFile(join(FIXTURES, 'exercise.asl.json'), { lambdas, substitutions: {} })).toThrow(/\$\{PrepareFunctionArn\}/);
    expect(() => new LocalStateMachine('bad', { StartAt: 'X', States: { Y: { Type: 'Succeed' } } })).toThrow(StateMachineDefinitionError);
    expect(
      () =>
        new LocalStateMachine('dyn', {
          StartAt: 'T',
          States: { T: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { 'FunctionName.$': '$.fn' }, End: true } },
        }),
    ).toThrow(/static Parameters.FunctionName/);
  });

  it('scales Waits whose duration comes from the input or the clock, keeping their data flow', async () => {
    // Prepare: 20 s from the input, then until a timestamp 10 s ahead; at time factor 0.005 → 0.1 s + 0.05 s.
    const transitions: StateTransition[] = [];
    runner = new LocalWorkflowStarter({
      machines: {
        waits: {
          StartAt: 'FromInput',
          States: {
            FromInput: { Type: 'Wait', InputPath: '$.inner', SecondsPath: '$.delay', OutputPath: '$.keep', Next: 'Until' },
            Until: { Type: 'Wait', TimestampPath: '$.until', End: true },
          },
        },
      },
      timeFactor: 0.005,
      onTransition: (t) => transitions.push(t),
    });
    const until = new Date(Date.now() + 10_000).toISOString();

    // Act
    const t0 = Date.now();
    await runner.start({ workflow: 'waits', name: 'w1', input: { inner: { delay: 20, keep: { until, x: 1 } } } });
    const done = await runner.waitFor('w1');
    const elapsed = Date.now() - t0;

    // Assess
    expect([done.status, done.error, done.cause]).toEqual(['SUCCEEDED', null, null]);
    expect(done.output).toEqual({ until, x: 1 });
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(5_000);
    expect(transitions.map((t) => [t.state, t.stateType])).toEqual([
      ['FromInput', 'Wait'],
      ['Until', 'Wait'],
    ]);
    expect(done.taskInvocations).toBe(0);
    expect([...(runner.machine('waits')?.dynamicWaits ?? [])].sort()).toEqual(['FromInput', 'Until']);
  });

  it('fails like Step Functions when a Wait path does not hold a duration', async () => {
    runner = new LocalWorkflowStarter({
      machines: { bad: { StartAt: 'W', States: { W: { Type: 'Wait', SecondsPath: '$.s', End: true } } } },
      timeFactor: 0.5,
    });

    await runner.start({ workflow: 'bad', name: 'b1', input: { s: 'soon' } });
    const done = await runner.waitFor('b1');

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('States.Runtime');
  });

  it('aborts a scaled dynamic Wait on stopAll', async () => {
    runner = new LocalWorkflowStarter({
      machines: { long: { StartAt: 'W', States: { W: { Type: 'Wait', SecondsPath: '$.s', End: true } } } },
      timeFactor: 0.5,
    });
    await runner.start({ workflow: 'long', name: 'l1', input: { s: 3600 } });

    const t0 = Date.now();
    await runner.stopAll();

    expect(runner.describe('l1').status).toBe('ABORTED');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
