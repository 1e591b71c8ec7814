import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  canonicalJson,
  clusterExecutionName,
  ExecutionAlreadyExistsError,
  executionArnOf,
  executionName,
  InvalidExecutionNameError,
  isValidExecutionName,
  SfnWorkflowStarter,
  WorkflowNotConfiguredError,
} from '../../shared/workflow/starter.ts';

const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:slipway-provision-cluster';
const sfn = mockClient(SFNClient);

const alreadyExists = () => new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });

describe('executionName', () => {
  it('keeps short valid names readable', () => {
    expect(executionName(['team-a', 'dev-1', 'g3'])).toBe('team-a--dev-1--g3');
  });

  it('is deterministic and at most 80 characters of [A-Za-z0-9-_]', () => {
    const long = ['w'.repeat(63), 'c'.repeat(63), 'g12'];
    const name = executionName(long);
    expect(name).toBe(executionName(long));
    expect(name.length).toBeLessThanOrEqual(80);
    expect(isValidExecutionName(name)).toBe(true);
  });

  it('never maps two different part lists to one name', () => {
    const a = executionName(['x'.repeat(70), 'a']);
    const b = executionName(['x'.repeat(70), 'b']);
    expect(a).not.toBe(b);
    // Sanitising alone would make these equal.
    expect(executionName(['a.b'])).not.toBe(executionName(['a_b']));
    expect(isValidExecutionName(executionName(['user:alice', 'ns/1']))).toBe(true);
  });

  it('rejects empty input', () => {
    expect(() => executionName([])).toThrow(InvalidExecutionNameError);
    expect(() => executionName(['a', ''])).toThrow(InvalidExecutionNameError);
  });

  it('names cluster operations by workspace, name, generation and incarnation', () => {
    const c = { workspaceId: 'demo', name: 'dev-1', uid: 'u-1', generation: 2 };
    expect(clusterExecutionName(c)).toMatch(/^demo--dev-1--g2--[0-9a-f]{8}$/);
    expect(clusterExecutionName({ ...c, uid: 'u-2' })).not.toBe(clusterExecutionName(c));
    expect(clusterExecutionName({ ...c, generation: 3 })).not.toBe(clusterExecutionName(c));
  });

  it('canonical JSON ignores key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 1, x: 2 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { x: 2, y: 1 }] }, b: 1 }));
  });
});

describe('SfnWorkflowStarter', () => {
  beforeEach(() => sfn.reset());
  const starter = () => new SfnWorkflowStarter(new SFNClient({ region: 'eu-west-1' }), { 'provision-cluster': SM }, { describeAttempts: 2 });

  it('starts an execution with the state machine of the workflow', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${executionArnOf(SM, 'n1')}`, startDate: new Date() });
    // Act
    const out = await starter().start({ workflow: 'provision-cluster', name: 'n1', input: { a: 1 } });
    // Assess
    expect(out.executionId).toBe('arn:aws:states:eu-west-1:123456789012:execution:slipway-provision-cluster:n1');
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ stateMachineArn: SM, name: 'n1', input: '{"a":1}' });
  });

  it('treats an existing execution with the same input as success', async () => {
    sfn.on(StartExecutionCommand).rejects(alreadyExists());
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: executionArnOf(SM, 'n1'), input: '{"b":[1,2],"a":1}', status: 'SUCCEEDED' });

    const out = await starter().start({ workflow: 'provision-cluster', name: 'n1', input: { a: 1, b: [1, 2] } });

    expect(out.executionId).toBe(executionArnOf(SM, 'n1'));
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({ executionArn: executionArnOf(SM, 'n1') });
  });

  it('refuses an existing execution with a different input with a named error', async () => {
    sfn.on(StartExecutionCommand).rejects(alreadyExists());
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: executionArnOf(SM, 'n1'), input: '{"a":2}', status: 'RUNNING' });

    const err = await starter()
      .start({ workflow: 'provision-cluster', name: 'n1', input: { a: 1 } })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ExecutionAlreadyExistsError);
    expect((err as Error).name).toBe('ExecutionAlreadyExistsError');
  });

  it('retries the lookup while the existing execution is not yet visible', async () => {
    sfn.on(StartExecutionCommand).rejects(alreadyExists());
    sfn
      .on(DescribeExecutionCommand)
      .rejectsOnce(new ExecutionDoesNotExist({ message: 'nope', $metadata: {} }))
      .resolves({ executionArn: executionArnOf(SM, 'n1'), input: '{"a":1}' });

    const out = await starter().start({ workflow: 'provision-cluster', name: 'n1', input: { a: 1 } });

    expect(out.executionId).toBe(executionArnOf(SM, 'n1'));
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(2);
  });

  it('fails clearly for a workflow without a state machine and for an invalid name', async () => {
    await expect(starter().start({ workflow: 'delete-cluster', name: 'n1', input: {} })).rejects.toBeInstanceOf(WorkflowNotConfiguredError);
    await expect(starter().start({ workflow: 'provision-cluster', name: 'bad name', input: {} })).rejects.toBeInstanceOf(InvalidExecutionNameError);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('passes other errors through', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('throttled'));
    await expect(starter().start({ workflow: 'provision-cluster', name: 'n1', input: {} })).rejects.toThrow('throttled');
  });
});
