import { describe, expect, it } from 'vitest';
import { resourcesOf, synthTemplate } from './helpers.ts';

describe('monitoring: alarms and a dashboard', () => {
  it('alarms on API 5xx, failed/timed-out executions, and every function errors and throttles', () => {
    const { template, stack } = synthTemplate();
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties ?? {});
    const metric = (namespace: string, name: string) => alarms.filter((a) => a.Namespace === namespace && a.MetricName === name);
    expect(metric('AWS/ApiGateway', '5xx')).toHaveLength(1);
    expect(metric('AWS/States', 'ExecutionsFailed')).toHaveLength(stack.workflows.stateMachines.size);
    expect(metric('AWS/States', 'ExecutionsTimedOut')).toHaveLength(stack.workflows.stateMachines.size);
    const functions = Object.keys(resourcesOf(template, 'AWS::Lambda::Function')).length;
    expect(metric('AWS/Lambda', 'Errors')).toHaveLength(functions);
    expect(metric('AWS/Lambda', 'Throttles')).toHaveLength(functions);
    for (const a of alarms) expect((a.AlarmActions as unknown[]).length).toBe(1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});
