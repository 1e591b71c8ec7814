/**
 * The local Step Functions: runs the very same `statemachines/*.asl.json` the CDK stack deploys, on
 * `aws-local-stepfunctions`, with every Task bound to an in-process handler.
 *
 * Why binding is by state name: the library's only hook for Tasks (`taskResourceLocalHandlers`) is keyed by
 * state name — also inside Map/Parallel — and without one it would really call AWS Lambda. So at load time we
 * walk the whole definition, resolve each Task's `Resource` (for `lambda:invoke`, `Parameters.FunctionName`)
 * to a handler, and refuse to load a machine with an unbound Task.
 *
 * It also implements the WorkflowStarter port with Step Functions' start semantics: one execution per name
 * (same name + same input → the existing execution; different input → ExecutionAlreadyExistsError).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { aslFile, WORKFLOW_IDS } from '../shared/workflow/names.ts';
import {
  canonicalJson,
  ExecutionAlreadyExistsError,
  InvalidExecutionNameError,
  isValidExecutionName,
  type JsonObject,
  type JsonValue,
  type StartWorkflowResult,
  WorkflowError,
  WorkflowNotConfiguredError,
  type WorkflowStarter,
} from '../shared/workflow/starter.ts';

/** What a bound Task is told about the call, besides its input. */
export interface TaskInfo {
  workflow: string;
  executionName: string;
  executionId: string;
  stateName: string;
}

/**
 * An in-process stand-in for a Lambda function (or a service integration). Receives the Task's effective
 * input — for `lambda:invoke` the resolved `Parameters.Payload`, for a Lambda ARN resource the state input —
 * and returns what the function would return. Throw named errors: Retry/Catch match on `error.name`.
 */
export type TaskHandler = (input: JsonValue, info: TaskInfo) => unknown;

export interface StateTransition {
  workflow: string;
  executionName: string;
  /** A state entered, or a Task/Parallel/Map run again by its Retry: both are billed transitions in AWS. */
  kind: 'entered' | 'retried';
  state: string;
  stateType: string;
  at: number;
}

export interface LocalStateMachineOptions {
  /** Lambda stand-ins by function name (or full function ARN). */
  lambdas?: Readonly<Record<string, TaskHandler>>;
  /** Other service integrations by Resource, e.g. `arn:aws:states:::events:putEvents` (gets the Parameters). */
  integrations?: Readonly<Record<string, TaskHandler>>;
  /** CDK `DefinitionSubstitutions`: fills `${Name}` in the ASL file. */
  substitutions?: Readonly<Record<string, string>>;
  /**
   * Scales time: 1 = real time, 0.01 = a 30 s Wait lasts 0.3 s, 0 = no waiting. Applies to every Wait
   * (`Seconds`, `SecondsPath`, `Timestamp`, `TimestampPath`) and to Retry intervals (BackoffRate and
   * MaxDelaySeconds still apply). Task timeouts and the execution timeout stay real time: handlers run at
   * real speed.
   */
  timeFactor?: number;
}

/** The definition cannot be loaded or bound. */
export class StateMachineDefinitionError extends WorkflowError {
  override readonly name = 'StateMachineDefinitionError';
}

/** A Task's Resource names no handler we were given. */
export class UnboundTaskError extends WorkflowError {
  override readonly name = 'UnboundTaskError';
}

/** `start` after `stopAll`. */
export class WorkflowRunnerStoppedError extends WorkflowError {
  override readonly name = 'WorkflowRunnerStoppedError';
}

/** `describe`/`waitFor` of an unknown execution. */
export class ExecutionNotFoundError extends WorkflowError {
  override readonly name = 'ExecutionNotFoundError';
}

/** `waitFor` gave up. */
export class ExecutionWaitTimeoutError extends WorkflowError {
  override readonly name = 'ExecutionWaitTimeoutError';
}

/**
 * What a Lambda failure looks like to Step Functions: `Error` is the error's name, `Cause` the JSON the
 * Lambda runtime reports (errorType, errorMessage, trace), so ASL that parses the Cause works the same here.
 */
export class TaskFunctionError extends Error {
  override readonly name: string;
  constructor(
    errorName: string,
    cause: string,
    readonly original: unknown,
  ) {
    super(cause);
    this.name = errorName;
  }
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]+)(?::[A-Za-z0-9$_-]+)?$/;

type AslState = StateMachineDefinition['States'][string];
type AslTask = Extract<AslState, { Type: 'Task' }>;

interface Binding {
  stateName: string;
  resource: string;
  /** Handler name it resolved to (function name or integration resource). */
  target: string;
  call: (input: JsonValue, info: TaskInfo) => Promise<JsonValue>;
}

/** A definition loaded, substituted, validated and bound to handlers; run it as often as you like. */
export class LocalStateMachine {
  readonly definition: StateMachineDefinition;
  /** Task state name → what it is bound to. */
  readonly bindings: ReadonlyMap<string, Binding>;
  /** Wait states whose duration comes from the input or the clock, run as scaled sleeps (see prepareForRun). */
  readonly dynamicWaits: ReadonlySet<string>;
  private readonly runnable: StateMachine;
  private readonly waitOverrides: Record<string, number>;
  private readonly timeFactor: number;

  constructor(
    readonly name: string,
    definition: unknown,
    options: LocalStateMachineOptions = {},
  ) {
    const timeFactor = options.timeFactor ?? 1;
    if (!(timeFactor >= 0 && Number.isFinite(timeFactor))) throw new StateMachineDefinitionError(`timeFactor must be ≥ 0, got ${timeFactor}`);
    const substituted = substitute(definition, options.substitutions ?? {}, name);
    if (!isDefinition(substituted)) throw new StateMachineDefinitionError(`${name}: not an ASL definition (StartAt/States missing)`);
    this.definition = substituted;
    // Validate what will run (ARNs included) with the library's own validator; nested machines are then
    // created unvalidated, as the library does for Map and Parallel.
    try {
      new StateMachine(this.definition, { validationOptions: { checkArn: true, checkPaths: true } });
    } catch (err) {
      throw new StateMachineDefinitionError(`${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }

    const states = collectStates(this.definition, name);
    this.bindings = bindTasks(states, options, name);
    checkWaitNames(states, name);
    this.timeFactor = timeFactor;
    this.waitOverrides = staticWaitOverrides(states, timeFactor);
    const prepared = prepareForRun(this.definition, timeFactor);
    this.dynamicWaits = prepared.dynamicWaits;
    this.runnable = new StateMachine(prepared.definition, { validationOptions: { noValidate: true } });
  }

  static fromFile(path: string, options: LocalStateMachineOptions = {}, name = basename(path).replace(/\.asl\.json$/, '')): LocalStateMachine {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new StateMachineDefinitionError(`${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    return new LocalStateMachine(name, parsed, options);
  }

  /**
   * Starts one run. `taskInvoked` is called before every handler call (retries included), `context` becomes
   * the Context Object (`$$.Execution.Id`, `$$.Execution.Name`, …).
   */
  run(
    input: JsonValue,
    info: Omit<TaskInfo, 'stateName'>,
    hooks: { taskInvoked?: (stateName: string) => void; context?: RunOptions['context'] } = {},
  ): ReturnType<StateMachine['run']> {
    const handlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
    for (const [stateName, binding] of this.bindings) {
      handlers[stateName] = (taskInput) => {
        hooks.taskInvoked?.(stateName);
        return binding.call(taskInput, { ...info, stateName });
      };
    }
    // The library aborts its own sleeps but not a Task's promise: our wait stand-ins listen to this.
    const sleeps = new AbortController();
    for (const stateName of this.dynamicWaits) {
      handlers[stateName] = (params) => dynamicWait(params, this.timeFactor, sleeps.signal);
    }
    const run = this.runnable.run(input, {
      overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: this.waitOverrides },
      ...(hooks.context === undefined ? {} : { context: hooks.context }),
    });
    return {
      ...run,
      abort: () => {
        sleeps.abort();
        run.abort();
      },
    };
  }
}

/**
 * Step Functions' statuses, plus PENDING: accepted for a workflow that cannot run in this process (see
 * `whenUnbound: 'hold'`); it never starts, and says why in `cause`.
 */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING';

export interface LocalExecution {
  workflow: string;
  name: string;
  executionId: string;
  status: ExecutionStatus;
  input: JsonValue;
  output: JsonValue | null;
  /** Set when FAILED (as DescribeExecution's error/cause). */
  error: string | null;
  cause: string | null;
  startDate: Date;
  stopDate: Date | null;
  /** State transitions as Step Functions bills them: states entered (nested included) plus retries. */
  transitions: number;
  /** Handler calls, retries included. */
  taskInvocations: number;
}

export interface LocalWorkflowStarterOptions extends Omit<LocalStateMachineOptions, 'substitutions'> {
  /**
   * Machines to run, by workflow: an ASL file path or a parsed definition. Default: every workflow of
   * shared/workflow/names.ts whose file exists under `rootDir`.
   */
  machines?: Readonly<Record<string, string | object>>;
  /**
   * A workflow with a Task no handler is given for: 'throw' (default) refuses to construct; 'hold' keeps the
   * workflow listed in `unavailable` and accepts its starts as PENDING executions that never run — an honest
   * "not runnable here yet" for the local runtime while step handlers are still being written.
   */
  whenUnbound?: 'throw' | 'hold';
  /** Repository root for the default machines. */
  rootDir?: string;
  substitutions?: Readonly<Record<string, string>>;
  /** Called on every state entered, in every execution. */
  onTransition?: (transition: StateTransition) => void;
  region?: string;
  accountId?: string;
}

interface ExecutionRecord {
  state: LocalExecution;
  inputKey: string;
  settled: Promise<void>;
  abort: () => void;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The workflows as Step Functions would run them, in this process. Implements WorkflowStarter. */
export class LocalWorkflowStarter implements WorkflowStarter {
  private readonly machines = new Map<string, LocalStateMachine>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly held = new Map<string, string>();
  private readonly region: string;
  private readonly accountId: string;
  private stopped = false;
  /** Totals over all executions, for benchmarks. */
  readonly totals = { executions: 0, transitions: 0, taskInvocations: 0 };

  constructor(private readonly options: LocalWorkflowStarterOptions = {}) {
    this.region = options.region ?? 'local';
    this.accountId = options.accountId ?? '000000000000';
    const machines = options.machines ?? defaultMachines(options.rootDir ?? REPO_ROOT);
    // Load everything now: an unbound Task or a bad definition is a start-up error, not a failure
    // minutes later in the middle of a cluster's provisioning.
    for (const [workflow, source] of Object.entries(machines)) {
      try {
        this.machines.set(
          workflow,
          typeof source === 'string'
            ? LocalStateMachine.fromFile(source, options, workflow)
            : new LocalStateMachine(workflow, source, options),
        );
      } catch (err) {
        if (!(err instanceof UnboundTaskError) || options.whenUnbound !== 'hold') throw err;
        this.held.set(workflow, err.message);
      }
    }
  }

  /** Workflows that exist but cannot run here (whenUnbound 'hold'), with the reason. */
  get unavailable(): ReadonlyMap<string, string> {
    return this.held;
  }

  /** Workflows this runner can start. */
  get workflows(): readonly string[] {
    return [...this.machines.keys()];
  }

  machine(workflow: string): LocalStateMachine | undefined {
    return this.machines.get(workflow);
  }

  stateMachineArn(workflow: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${workflow}`;
  }

  async start({ workflow, name, input }: { workflow: string; name: string; input: JsonObject }): Promise<StartWorkflowResult> {
    if (this.stopped) throw new WorkflowRunnerStoppedError('the local workflow runner is stopped');
    const machine = this.machines.get(workflow);
    const heldReason = this.held.get(workflow);
    if (!machine && heldReason === undefined) {
      throw new WorkflowNotConfiguredError(`workflow ${workflow} has no state machine loaded (is statemachines/${workflow}.asl.json missing?)`);
    }
    if (!isValidExecutionName(name)) throw new InvalidExecutionNameError(`invalid execution name "${name}"`);

    const key = executionKey(workflow, name);
    const inputKey = canonicalJson(input);
    const existing = this.executions.get(key);
    if (existing) {
      // Step Functions semantics, made exactly-once: the execution the caller meant already exists.
      if (existing.inputKey === inputKey) return { executionId: existing.state.executionId };
      throw new ExecutionAlreadyExistsError(workflow, name);
    }
    const record = machine
      ? this.launch(machine, workflow, name, jsonClone(input), inputKey)
      : this.hold(workflow, name, jsonClone(input), inputKey, heldReason ?? '');
    this.executions.set(key, record);
    return { executionId: this.executionArn(workflow, name) };
  }

  /** A snapshot of one execution. `workflow` is needed only when two workflows have an execution of that name. */
  describe(name: string, workflow?: string): LocalExecution {
    return { ...this.find(name, workflow).state };
  }

  list(): LocalExecution[] {
    return [...this.executions.values()].map((r) => ({ ...r.state }));
  }

  /** Resolves once the execution has stopped (whatever its status). */
  async waitFor(name: string, options: { workflow?: string; timeoutMs?: number } = {}): Promise<LocalExecution> {
    const record = this.find(name, options.workflow);
    const timeoutMs = options.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ExecutionWaitTimeoutError(`execution ${name} still ${record.state.status} after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([record.settled, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return { ...record.state };
  }

  /** Aborts every running execution (shutdown) and refuses new starts. */
  async stopAll(): Promise<void> {
    this.stopped = true;
    const running = [...this.executions.values()].filter((r) => r.state.status === 'RUNNING');
    for (const r of running) r.abort();
    await Promise.all(running.map((r) => r.settled));
  }

  private find(name: string, workflow?: string): ExecutionRecord {
    if (workflow !== undefined) {
      const record = this.executions.get(executionKey(workflow, name));
      if (!record) throw new ExecutionNotFoundError(`no execution ${name} of workflow ${workflow}`);
      return record;
    }
    const matches = [...this.executions.values()].filter((r) => r.state.name === name);
    if (matches.length === 0) throw new ExecutionNotFoundError(`no execution named ${name}`);
    if (matches.length > 1) throw new ExecutionNotFoundError(`several workflows have an execution named ${name}: pass the workflow`);
    return matches[0]!;
  }

  private executionArn(workflow: string, name: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:execution:${workflow}:${name}`;
  }

  private hold(workflow: string, name: string, input: JsonValue, inputKey: string, reason: string): ExecutionRecord {
    const state = this.newExecution(workflow, name, input);
    state.status = 'PENDING';
    state.cause = `not started: ${reason}`;
    return { state, inputKey, settled: Promise.resolve(), abort: () => undefined };
  }

  private newExecution(workflow: string, name: string, input: JsonValue): LocalExecution {
    return {
      workflow,
      name,
      executionId: this.executionArn(workflow, name),
      status: 'RUNNING',
      input,
      output: null,
      error: null,
      cause: null,
      startDate: new Date(),
      stopDate: null,
      transitions: 0,
      taskInvocations: 0,
    };
  }

  private launch(machine: LocalStateMachine, workflow: string, name: string, input: JsonValue, inputKey: string): ExecutionRecord {
    const state = this.newExecution(workflow, name, input);
    const executionId = state.executionId;
    this.totals.executions++;
    const run = machine.run(
      input,
      { workflow, executionName: name, executionId },
      {
        taskInvoked: () => {
          state.taskInvocations++;
          this.totals.taskInvocations++;
        },
        context: {
          Execution: { Id: executionId, Name: name, RoleArn: `arn:aws:iam::${this.accountId}:role/local` },
          StateMachine: { Id: this.stateMachineArn(workflow), Name: workflow },
        },
      },
    );
    const events = this.consumeEvents(run.eventLogs, state, machine.dynamicWaits);
    const result = run.result.then(
      (output) => {
        state.status = 'SUCCEEDED';
        state.output = output;
      },
      (err: unknown) => {
        if (err instanceof ExecutionAbortedError) state.status = 'ABORTED';
        else if (err instanceof ExecutionTimeoutError) {
          state.status = 'TIMED_OUT';
          state.error = 'States.Timeout';
        } else {
          state.status = 'FAILED';
          const cause = err instanceof ExecutionError && err.cause instanceof Error ? err.cause : err;
          state.error = cause instanceof Error ? cause.name : 'Error';
          state.cause = cause instanceof Error ? cause.message : String(cause);
        }
      },
    );
    const settled = Promise.all([result, events]).then(() => {
      state.stopDate = new Date();
    });
    return { state, inputKey, settled, abort: run.abort };
  }

  private async consumeEvents(events: ReturnType<StateMachine['run']>['eventLogs'], state: LocalExecution, waits: ReadonlySet<string>): Promise<void> {
    for await (const event of events) {
      if (event.type !== 'StateEntered' && event.type !== 'StateRetried') continue;
      state.transitions++;
      this.totals.transitions++;
      this.options.onTransition?.({
        workflow: state.workflow,
        executionName: state.name,
        kind: event.type === 'StateEntered' ? 'entered' : 'retried',
        state: event.state.name,
        // A Wait replaced by a sleeping Task (scaled time) is still a Wait to whoever is watching.
        stateType: waits.has(event.state.name) ? 'Wait' : event.state.type,
        at: event.timestamp,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------

function defaultMachines(rootDir: string): Record<string, string> {
  const machines: Record<string, string> = {};
  for (const workflow of WORKFLOW_IDS) {
    const path = join(rootDir, aslFile(workflow));
    if (existsSync(path)) machines[workflow] = path;
  }
  return machines;
}

const executionKey = (workflow: string, name: string): string => `${workflow}\u0000${name}`;

function isDefinition(value: unknown): value is StateMachineDefinition {
  return isObject(value) && typeof value.StartAt === 'string' && isObject(value.States);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Fills CDK `${Name}` placeholders inside string values (never in raw text: no JSON injection). */
function substitute(definition: unknown, substitutions: Readonly<Record<string, string>>, machine: string): unknown {
  const missing = new Set<string>();
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, key: string) => {
        const v = substitutions[key];
        if (v === undefined) {
          missing.add(key);
          return whole;
        }
        return v;
      });
    }
    if (Array.isArray(value)) return value.map(walk);
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  const out = walk(definition);
  if (missing.size > 0) throw new StateMachineDefinitionError(`${machine}: no value for substitution(s) ${[...missing].map((k) => `\${${k}}`).join(', ')}`);
  return out;
}

interface FoundState {
  name: string;
  state: AslState;
}

/** Every state of the machine, nested Parallel branches and Map processors included. */
function collectStates(definition: Pick<StateMachineDefinition, 'States'>, machine: string): FoundState[] {
  const found: FoundState[] = [];
  const walk = (def: Pick<StateMachineDefinition, 'States'>): void => {
    for (const [name, state] of Object.entries(def.States)) {
      found.push({ name, state });
      if (state.Type === 'Parallel') for (const branch of state.Branches) walk(branch);
      if (state.Type === 'Map') {
        const processor = state.ItemProcessor ?? state.Iterator;
        if (!processor) throw new StateMachineDefinitionError(`${machine}: Map state ${name} has no ItemProcessor`);
        if (isObject(processor) && 'ProcessorConfig' in processor && isObject(processor.ProcessorConfig) && processor.ProcessorConfig.Mode === 'DISTRIBUTED') {
          throw new StateMachineDefinitionError(`${machine}: Map state ${name}: distributed Map is not supported locally`);
        }
        walk(processor);
      }
    }
  };
  walk(definition);
  return found;
}

function bindTasks(states: readonly FoundState[], options: LocalStateMachineOptions, machine: string): Map<string, Binding> {
  const bindings = new Map<string, Binding>();
  const unbound: string[] = [];
  for (const { name, state } of states) {
    if (state.Type !== 'Task') continue;
    const binding = bindTask(name, state, options, machine);
    if (!binding) {
      unbound.push(`${name} (${describeResource(state)})`);
      continue;
    }
    const previous = bindings.get(name);
    // The library looks handlers up by state name only: two Tasks of one name must mean the same thing.
    if (previous && previous.target !== binding.target) {
      throw new StateMachineDefinitionError(`${machine}: two Task states named ${name} bind to different handlers (${previous.target}, ${binding.target})`);
    }
    bindings.set(name, binding);
  }
  if (unbound.length > 0) throw new UnboundTaskError(`${machine}: no local handler for ${unbound.length} Task state(s): ${unbound.join(', ')}`);
  return bindings;
}

function describeResource(task: AslTask): string {
  if (task.Resource.startsWith(LAMBDA_INVOKE)) {
    const params = isObject(task.Parameters) ? task.Parameters : {};
    return `${task.Resource} FunctionName=${String(params.FunctionName ?? params['FunctionName.$'] ?? '?')}`;
  }
  return task.Resource;
}

/** Lambda function name from a name, a (qualified) function ARN. */
export function lambdaFunctionName(nameOrArn: string): string {
  const m = LAMBDA_ARN.exec(nameOrArn);
  if (m?.[1]) return m[1];
  return nameOrArn.split(':')[0] ?? nameOrArn;
}

function bindTask(stateName: string, task: AslTask, options: LocalStateMachineOptions, machine: string): Binding | null {
  const lambdas = options.lambdas ?? {};
  const lookupLambda = (ref: string): { target: string; handler: TaskHandler } | null => {
    const byRef = lambdas[ref];
    if (byRef) return { target: ref, handler: byRef };
    const fn = lambdaFunctionName(ref);
    const byName = lambdas[fn];
    return byName ? { target: fn, handler: byName } : null;
  };

  if (task.Resource === LAMBDA_INVOKE || task.Resource.startsWith(`${LAMBDA_INVOKE}.`)) {
    if (task.Resource !== LAMBDA_INVOKE) {
      throw new StateMachineDefinitionError(`${machine}: Task ${stateName}: ${task.Resource} is not supported locally (no callbacks)`);
    }
    const params = isObject(task.Parameters) ? task.Parameters : {};
    const fnRef = params.FunctionName;
    if (typeof fnRef !== 'string') {
      throw new StateMachineDefinitionError(`${machine}: Task ${stateName}: lambda:invoke needs a static Parameters.FunctionName to bind locally`);
    }
    const found = lookupLambda(fnRef);
    if (!found) return null;
    return {
      stateName,
      resource: task.Resource,
      target: found.target,
      // The optimised integration returns the Invoke response; the function's result is its Payload.
      call: async (params, info) => {
        const payload = isObject(params) && params.Payload !== undefined ? params.Payload : {};
        const result = await invoke(found.handler, payload, info);
        return { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 };
      },
    };
  }

  if (task.Resource.startsWith('arn:aws:states:::')) {
    const handler = options.integrations?.[task.Resource];
    if (!handler) return null;
    return { stateName, resource: task.Resource, target: task.Resource, call: (input, info) => invoke(handler, input, info) };
  }

  // A Lambda function ARN as Resource: the state input in, the plain result out.
  const found = lookupLambda(task.Resource);
  if (!found) return null;
  return { stateName, resource: task.Resource, target: found.target, call: (input, info) => invoke(found.handler, input, info) };
}

/** Calls a handler as Lambda would: JSON in and out (no shared objects), errors as Lambda reports them. */
async function invoke(handler: TaskHandler, input: JsonValue, info: TaskInfo): Promise<JsonValue> {
  let result: unknown;
  try {
    result = await handler(jsonClone(input), info);
  } catch (err) {
    throw toTaskError(err);
  }
  return jsonClone(result);
}

function toTaskError(err: unknown): TaskFunctionError {
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  const trace = err instanceof Error && err.stack ? err.stack.split('\n') : [];
  return new TaskFunctionError(name, JSON.stringify({ errorType: name, errorMessage: message, trace }), err);
}

/** A JSON round trip, as between Step Functions and Lambda (Dates become strings, undefined disappears). */
function jsonClone(value: unknown): JsonValue {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

/** The library keys Wait overrides by state name: two Waits of one name must be the same Wait. */
function checkWaitNames(states: readonly FoundState[], machine: string): void {
  const seen = new Map<string, string>();
  for (const { name, state } of states) {
    if (state.Type !== 'Wait') continue;
    const shape = canonicalJson({ ...state, Next: undefined, End: undefined });
    const previous = seen.get(name);
    if (previous !== undefined && previous !== shape) throw new StateMachineDefinitionError(`${machine}: two different Wait states are named ${name}`);
    seen.set(name, shape);
  }
}

/** `Seconds` Waits: a fixed duration, scaled through the library's `waitTimeOverrides` (milliseconds). */
function staticWaitOverrides(states: readonly FoundState[], timeFactor: number): Record<string, number> {
  const overrides: Record<string, number> = {};
  if (timeFactor === 1) return overrides;
  for (const { name, state } of states) {
    if (state.Type === 'Wait' && typeof state.Seconds === 'number') overrides[name] = state.Seconds * 1000 * timeFactor;
  }
  return overrides;
}

const LOCAL_WAIT_RESOURCE = 'arn:aws:states:::slipway-local:wait';
const LAMBDA_MAX_SECONDS = 900;

/**
 * The definition actually run: Tasks without a timeout get Lambda's; when time is scaled, Retry intervals
 * are scaled and every Wait whose duration depends on the input or the clock (`SecondsPath`, `Timestamp`,
 * `TimestampPath`) is replaced by a Task of the same name that sleeps the scaled duration. A `waitTimeOverrides` entry cannot do that: it is a constant
 * read before the state's input is known. The Task keeps the Wait's data flow exactly (InputPath, the input
 * passed through as the result, OutputPath) and transitions still count one state.
 *
 * Retry intervals are scaled here too rather than with `retryIntervalOverrides`: the library's override is
 * one fixed interval per retrier, which would drop BackoffRate; scaling IntervalSeconds and MaxDelaySeconds
 * keeps the backoff curve, only faster.
 */
function prepareForRun(definition: StateMachineDefinition, timeFactor: number): { definition: StateMachineDefinition; dynamicWaits: Set<string> } {
  const dynamicWaits = new Set<string>();
  const scaled = timeFactor !== 1;
  const copy = structuredClone(definition);
  const walk = (def: Pick<StateMachineDefinition, 'States'>): void => {
    for (const [name, state] of Object.entries(def.States)) {
      // Step Functions puts no timeout on a Task that declares none (the Lambda's own, at most 15 min,
      // applies); the library would cut it at 60 s, so give such Tasks Lambda's ceiling.
      if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
        state.TimeoutSeconds = LAMBDA_MAX_SECONDS;
      }
      if (scaled && (state.Type === 'Task' || state.Type === 'Parallel' || state.Type === 'Map') && state.Retry) {
        for (const retrier of state.Retry) {
          retrier.IntervalSeconds = (retrier.IntervalSeconds ?? 1) * timeFactor;
          if (retrier.MaxDelaySeconds !== undefined) retrier.MaxDelaySeconds *= timeFactor;
        }
      }
      if (scaled && state.Type === 'Wait' && typeof state.Seconds !== 'number') {
        def.States[name] = waitAsTask(state);
        dynamicWaits.add(name);
      }
      if (state.Type === 'Parallel') for (const branch of state.Branches) walk(branch);
      if (state.Type === 'Map') {
        const processor = state.ItemProcessor ?? state.Iterator;
        if (processor) walk(processor);
      }
    }
  };
  walk(copy);
  return { definition: copy, dynamicWaits };
}

type AslWait = Extract<AslState, { Type: 'Wait' }>;

function waitAsTask(wait: AslWait): AslState {
  const when: Record<string, string> = {};
  if (wait.SecondsPath !== undefined) when['seconds.$'] = wait.SecondsPath;
  else if (wait.TimestampPath !== undefined) when['timestamp.$'] = wait.TimestampPath;
  else if (wait.Timestamp !== undefined) when.timestamp = wait.Timestamp;
  const task = {
    Type: 'Task' as const,
    Resource: LOCAL_WAIT_RESOURCE,
    Parameters: { ...when, 'input.$': '$' },
    // The Task's own timeout must not cut a long (scaled) wait short; the library arms it with setTimeout,
    // whose limit is ~24.8 days, so stay below that.
    TimeoutSeconds: 2_000_000,
    ...(wait.InputPath !== undefined ? { InputPath: wait.InputPath } : {}),
    ...(wait.OutputPath !== undefined ? { OutputPath: wait.OutputPath } : {}),
    ...(wait.Comment !== undefined ? { Comment: wait.Comment } : {}),
  };
  return 'Next' in wait && typeof wait.Next === 'string' ? { ...task, Next: wait.Next } : { ...task, End: true as const };
}

/** Sleeps what the replaced Wait would have waited, scaled, and hands its input on unchanged. */
async function dynamicWait(params: JsonValue, timeFactor: number, signal: AbortSignal): Promise<JsonValue> {
  if (!isObject(params)) throw new WaitPathError('wait parameters missing');
  let ms: number;
  if (params.seconds !== undefined) {
    const seconds = params.seconds;
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
      throw new WaitPathError(`SecondsPath must point to an integer >= 0, got ${JSON.stringify(seconds)}`);
    }
    ms = seconds * 1000;
  } else {
    const at = typeof params.timestamp === 'string' ? Date.parse(params.timestamp) : Number.NaN;
    if (Number.isNaN(at)) throw new WaitPathError(`Timestamp must be an RFC 3339 timestamp, got ${JSON.stringify(params.timestamp)}`);
    ms = Math.max(0, at - Date.now());
  }
  await abortableSleep(ms * timeFactor, signal);
  return (params.input ?? null) as JsonValue;
}

/** What Step Functions reports when a Wait's path does not resolve to a usable value. */
export class WaitPathError extends Error {
  override readonly name = 'States.Runtime';
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

