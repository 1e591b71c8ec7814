/**
 * Alarms to the operators topic — failed/timed-out executions, Lambda errors per function, throttles
 * account-wide, API 5xx — and one dashboard with the same signals.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface MonitoringProps {
  dashboardName: string;
  topic: sns.ITopic;
  httpApi: apigw.HttpApi;
  /** Label → function, e.g. `api/clusters`, `step/mark-ready`. */
  functions: ReadonlyMap<string, lambda.IFunction>;
  stateMachines: ReadonlyMap<string, sfn.IStateMachine>;
}

const PERIOD = Duration.minutes(5);

export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const action = new actions.SnsAction(props.topic);
    // Every one of these is a bug or an outage, never "normal": alarm on the first occurrence.
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      this.alarms.push(a);
    };
    const sum = { period: PERIOD, statistic: cloudwatch.Stats.SUM };
    const label = (s: string) => s.replace(/[^A-Za-z0-9]/g, '');

    const api5xx = props.httpApi.metricServerError(sum);
    alarm('Api5xx', api5xx, 'The Slipway API answered 5xx');

    for (const [name, machine] of props.stateMachines) {
      alarm(`${label(name)}Failed`, machine.metricFailed(sum), `Executions of ${name} failed`);
      alarm(`${label(name)}TimedOut`, machine.metricTimedOut(sum), `Executions of ${name} timed out`);
    }
    for (const [name, fn] of props.functions) alarm(`${label(name)}Errors`, fn.metricErrors(sum), `Function ${name} threw`);
    // Throttling comes from the account's shared concurrency, not from one function: one alarm over all of them
    // (per-function throttle alarms would double the alarm count against CloudFormation's 500-resource cap).
    alarm('LambdaThrottles', lambda.Function.metricAllThrottles(sum), 'Lambda throttled invocations in this account and region');

    const fns = [...props.functions];
    const machines = [...props.stateMachines];
    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'API requests and errors',
            left: [props.httpApi.metricCount(sum), props.httpApi.metricClientError(sum), api5xx],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'API latency p99 (ms)',
            left: [props.httpApi.metricLatency({ period: PERIOD, statistic: 'p99' }), props.httpApi.metricIntegrationLatency({ period: PERIOD, statistic: 'p99' })],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Executions started / succeeded',
            left: machines.flatMap(([n, m]) => [m.metricStarted({ ...sum, label: `${n} started` }), m.metricSucceeded({ ...sum, label: `${n} succeeded` })]),
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Executions failed / timed out',
            left: machines.flatMap(([n, m]) => [m.metricFailed({ ...sum, label: `${n} failed` }), m.metricTimedOut({ ...sum, label: `${n} timed out` })]),
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Lambda errors and throttles',
            left: fns.map(([n, f]) => f.metricErrors({ ...sum, label: `${n} errors` })),
            right: fns.map(([n, f]) => f.metricThrottles({ ...sum, label: `${n} throttles` })),
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Lambda duration p99 (ms)',
            left: fns.map(([n, f]) => f.metricDuration({ period: PERIOD, statistic: 'p99', label: n })),
            width: 12,
          }),
        ],
      ],
    });
  }
}
