import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PATHS } from '../../infra/stack.ts';
import { resourcesOf, synthTemplate, removeOutdirs } from './helpers.ts';

afterAll(removeOutdirs);

describe('monitoring: alarms and a dashboard', () => {
  it('alarms on API 5xx, failed/timed-out executions, every function errors, and throttles', () => {
    const { template, stack } = synthTemplate();
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties ?? {});
    const metric = (namespace: string, name: string) => alarms.filter((a) => a.Namespace === namespace && a.MetricName === name);
    expect(metric('AWS/ApiGateway', '5xx')).toHaveLength(1);
    expect(metric('AWS/States', 'ExecutionsFailed')).toHaveLength(stack.workflows.stateMachines.size);
    expect(metric('AWS/States', 'ExecutionsTimedOut')).toHaveLength(stack.workflows.stateMachines.size);
    const functions = Object.keys(resourcesOf(template, 'AWS::Lambda::Function')).length;
    expect(metric('AWS/Lambda', 'Errors')).toHaveLength(functions);
    const throttles = metric('AWS/Lambda', 'Throttles');
    expect(throttles).toHaveLength(1);
    expect(throttles[0]?.Dimensions).toBeUndefined();
    for (const a of alarms) expect((a.AlarmActions as unknown[]).length).toBe(1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('CloudFormation limits', () => {
  it("keeps the repository's stack well under 500 resources and the 1 MB template size", () => {
    const { template } = synthTemplate({ paths: DEFAULT_PATHS });
    const json = template.toJSON() as { Resources: Record<string, unknown> };
    // Headroom for the workflows and routes still to come: each step adds a function, a log group and an alarm.
    expect(Object.keys(json.Resources).length).toBeLessThan(400);
    expect(JSON.stringify(json).length).toBeLessThan(800_000);
  });
});
