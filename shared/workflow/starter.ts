/**
 * The WorkflowStarter port: how the API (and the account-vending handler) start a workflow. In AWS it is
 * Step Functions StartExecution (SfnWorkflowStarter, below); locally the in-process runner
 * (local/stepfunctions.ts).
 *
 * Starts are exactly-once by construction: the caller derives the execution name from what the execution is
 * about (cluster incarnation + generation), so a retried request, a replayed idempotent POST or two racing
 * Lambdas all name the same execution, and Step Functions refuses a second one.
 */
import { createHash } from 'node:crypto';
import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ApiEnv } from '../config/env.ts';
import type { WorkflowId } from './names.ts';

/** Any JSON value: what a state machine accepts as input. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface StartWorkflowRequest {
  workflow: WorkflowId;
  /** Execution name; build it with `executionName` / `clusterExecutionName`. */
  name: string;
  input: JsonObject;
}

export interface StartWorkflowResult {
  /** The execution ARN in AWS; an ARN-shaped id locally. Stored on the cluster as `executionId`. */
  executionId: string;
}

export interface WorkflowStarter {
  /**
   * Starts the execution, or returns the existing one when an execution of that name already exists with the
   * same input. ExecutionAlreadyExistsError when it exists with a different input (a caller bug: the name
   * must change whenever the input does); WorkflowNotConfiguredError when the workflow is not deployed.
   */
  start(request: StartWorkflowRequest): Promise<StartWorkflowResult>;
}

/** Base of the workflow module's errors. */
export class WorkflowError extends Error {}

/** An execution of that name exists with a different input (same error in AWS and locally). */
export class ExecutionAlreadyExistsError extends WorkflowError {
  override readonly name = 'ExecutionAlreadyExistsError';
  constructor(
    readonly workflow: string,
    readonly executionName: string,
    options?: { cause?: unknown },
  ) {
    super(`workflow ${workflow}: an execution named "${executionName}" already exists with a different input`, options);
  }
}

/** No state machine is known for the workflow (missing ARN in the environment, or missing ASL file locally). */
export class WorkflowNotConfiguredError extends WorkflowError {
  override readonly name = 'WorkflowNotConfiguredError';
}

/** The execution name is not acceptable to Step Functions. */
export class InvalidExecutionNameError extends WorkflowError {
  override readonly name = 'InvalidExecutionNameError';
}

/** Step Functions: execution names are 1..80 characters; we keep to the CloudWatch-safe `[A-Za-z0-9-_]`. */
export const EXECUTION_NAME_MAX = 80;
const NAME_CHAR = /^[A-Za-z0-9_-]$/;
const VALID_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const HASH_LENGTH = 12;

export const isValidExecutionName = (name: string): boolean => VALID_NAME.test(name);

const shortHash = (text: string, length: number): string => createHash('sha256').update(text).digest('hex').slice(0, length);

/**
 * A deterministic execution name from its parts, joined with `--`. Names that are valid and short enough
 * come out readable (`team-a--dev-1--g3`). Otherwise characters outside `[A-Za-z0-9-_]` become `_`, the name
 * is cut to fit and a hash of the *original* parts is appended, so two different part lists can never
 * collapse onto one name (which would silently turn a second start into a no-op).
 */
export function executionName(parts: ReadonlyArray<string | number>): string {
  if (parts.length === 0) throw new InvalidExecutionNameError('an execution name needs at least one part');
  const strings = parts.map(String);
  if (strings.some((p) => p.length === 0)) throw new InvalidExecutionNameError('execution name parts must not be empty');
  const joined = strings.join('--');
  if (isValidExecutionName(joined)) return joined;
  const sanitized = Array.from(joined, (c) => (NAME_CHAR.test(c) ? c : '_')).join('');
  // The hash covers the parts as a list (JSON), not the joined text: ["a--b"] and ["a","b"] differ.
  const suffix = shortHash(JSON.stringify(strings), HASH_LENGTH);
  return `${sanitized.slice(0, EXECUTION_NAME_MAX - HASH_LENGTH - 1)}-${suffix}`;
}

/**
 * The execution name of one operation on one cluster: `<ws>--<cluster>--g<generation>--<uid hash>`. The
 * generation makes each operation distinct; the uid (one per cluster incarnation) keeps a cluster re-created
 * under a deleted one's name from colliding with the old executions (names stay taken for 90 days).
 */
export function clusterExecutionName(cluster: { workspaceId: string; name: string; uid: string; generation: number }): string {
  return executionName([cluster.workspaceId, cluster.name, `g${cluster.generation}`, shortHash(cluster.uid, 8)]);
}

/** JSON with object keys sorted: two inputs are "the same" when their canonical forms are equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Adapter: AWS Step Functions. Standard workflows refuse a second execution of the same name: that refusal
// is what makes starts exactly-once, and the adapter turns it back into success when the existing execution
// is the one the caller meant (same input).

export interface SfnWorkflowStarterOptions {
  /** Attempts to find an execution that StartExecution reported as existing (reads are eventually consistent). */
  describeAttempts?: number;
}

/** The API's state machine ARNs from its parsed environment. */
export function stateMachineArnsFromEnv(env: Pick<ApiEnv, 'SLIPWAY_PROVISION_STATE_MACHINE_ARN' | 'SLIPWAY_UPDATE_STATE_MACHINE_ARN' | 'SLIPWAY_DELETE_STATE_MACHINE_ARN'>): Partial<Record<WorkflowId, string>> {
  return {
    'provision-cluster': env.SLIPWAY_PROVISION_STATE_MACHINE_ARN,
    'update-cluster': env.SLIPWAY_UPDATE_STATE_MACHINE_ARN,
    'delete-cluster': env.SLIPWAY_DELETE_STATE_MACHINE_ARN,
  };
}

/** `arn:aws:states:r:a:stateMachine:M` + name → `arn:aws:states:r:a:execution:M:name`. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

export class SfnWorkflowStarter implements WorkflowStarter {
  private readonly describeAttempts: number;

  /** `stateMachineArns`: one per workflow this process may start; others → WorkflowNotConfiguredError. */
  constructor(
    private readonly client: SFNClient,
    private readonly arns: Partial<Record<WorkflowId, string>>,
    options: SfnWorkflowStarterOptions = {},
  ) {
    this.describeAttempts = options.describeAttempts ?? 3;
  }

  async start({ workflow, name, input }: StartWorkflowRequest): Promise<StartWorkflowResult> {
    const stateMachineArn = this.arns[workflow];
    if (!stateMachineArn) throw new WorkflowNotConfiguredError(`workflow ${workflow} has no state machine ARN configured`);
    if (!isValidExecutionName(name)) throw new InvalidExecutionNameError(`invalid execution name "${name}"`);

    try {
      const out = await this.client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      return { executionId: out.executionArn ?? executionArnOf(stateMachineArn, name) };
    } catch (err) {
      if (!(err instanceof ExecutionAlreadyExists)) throw err;
      // AWS answers ExecutionAlreadyExists for a closed execution even with the same input, and for a
      // running one with a different input: decide ourselves by comparing inputs.
      const existing = await this.describe(executionArnOf(stateMachineArn, name), err);
      if (existing.input !== undefined && canonicalJson(parseJson(existing.input)) === canonicalJson(input)) {
        return { executionId: existing.executionArn };
      }
      throw new ExecutionAlreadyExistsError(workflow, name, { cause: err });
    }
  }

  private async describe(executionArn: string, startError: unknown): Promise<{ executionArn: string; input?: string }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.client.send(new DescribeExecutionCommand({ executionArn }));
        return { executionArn: out.executionArn ?? executionArn, ...(out.input === undefined ? {} : { input: out.input }) };
      } catch (err) {
        if (!(err instanceof ExecutionDoesNotExist) || attempt >= this.describeAttempts) {
          throw new ExecutionLookupError(`execution ${executionArn} reported as existing but cannot be described`, {
            cause: err instanceof ExecutionDoesNotExist ? startError : err,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }
}

/** StartExecution said the execution exists, but DescribeExecution cannot find or read it. */
export class ExecutionLookupError extends Error {
  override readonly name = 'ExecutionLookupError';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
