/**
 * The Slipway bus (with an archive for replay) and the product's rules, every pattern built from
 * shared/events/patterns.ts — the objects the local bus matches with.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ACCOUNT_VENDED_PATTERN,
  CONTROL_TOWER_ACCOUNT_VENDED_PATTERN,
  type EventPattern,
  FAILURE_PATTERN,
  STATUS_PATTERN,
} from '../shared/events/patterns.ts';

/** shared/events' EventBridge JSON pattern → CDK's EventPattern (which renders `detailType` back as `detail-type`). */
export function cdkPattern(pattern: EventPattern): events.EventPattern {
  const { 'detail-type': detailType, ...rest } = pattern;
  const out: Record<string, unknown> = { ...rest };
  if (detailType) out.detailType = detailType;
  return out as events.EventPattern;
}

export interface EventsProps {
  busName: string;
  archiveRetentionDays: number;
  /** Accounts allowed to PutEvents on the bus (other vending machines). */
  publisherAccounts: readonly string[];
  /** Buses that receive a copy of every status event. */
  consumerBusArns: readonly string[];
  notifications: sns.ITopic;
  logRetention: logs.RetentionDays;
  stackName: string;
}

export class SlipwayEvents extends Construct {
  readonly bus: events.EventBus;
  readonly statusLogGroup: logs.LogGroup;
  readonly vendingDeadLetters: sqs.Queue;
  readonly controlTowerRule: events.Rule | undefined;
  readonly accountVendedRule: events.Rule;
  private readonly vendingRules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: EventsProps & { controlTowerVending: boolean }) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: props.busName, description: 'Slipway status and account-vending events' });
    this.bus.archive('Archive', {
      description: 'Every event on the Slipway bus, for replay',
      // Only this account and the allowed publishers can put on the bus: this pattern is "everything".
      eventPattern: { account: [Stack.of(this).account, ...props.publisherAccounts] },
      retention: props.archiveRetentionDays === 0 ? undefined : Duration.days(props.archiveRetentionDays),
    });
    for (const account of props.publisherAccounts) {
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `Publisher${account}`,
          principals: [new iam.AccountPrincipal(account)],
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
        }),
      );
    }

    // Status log: every status event, readable with Logs Insights; the archive stays the replay source.
    this.statusLogGroup = new logs.LogGroup(this, 'StatusLog', {
      logGroupName: `/aws/events/${props.stackName}-status`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // EventBridge writes to CloudWatch Logs under the log group's resource policy (not a role).
    this.statusLogGroup.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com'), new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.statusLogGroup.logGroupArn],
      }),
    );
    const logGroupTarget: events.IRuleTarget = {
      bind: () => ({
        arn: Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: this.statusLogGroup.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      }),
    };
    new events.Rule(this, 'StatusRule', {
      description: 'Slipway status events to the status log',
      eventBus: this.bus,
      eventPattern: cdkPattern(STATUS_PATTERN),
      targets: [
        logGroupTarget,
        ...props.consumerBusArns.map((arn, i) => new targets.EventBus(events.EventBus.fromEventBusArn(this, `ConsumerBus${i}`, arn))),
      ],
    });
    new events.Rule(this, 'FailureRule', {
      description: 'Failed clusters and onboardings to the operators topic',
      eventBus: this.bus,
      eventPattern: cdkPattern(FAILURE_PATTERN),
      targets: [new targets.SnsTopic(props.notifications)],
    });

    // Vending events must not be lost when the handler fails: retried, then parked here.
    this.vendingDeadLetters = new sqs.Queue(this, 'VendingDeadLetters', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.vendingDeadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the account-vending rules.',
    });

    if (props.controlTowerVending) {
      // Control Tower publishes on the account's default bus.
      this.controlTowerRule = new events.Rule(this, 'ControlTowerVendingRule', {
        description: 'Control Tower CreateManagedAccount to Slipway account vending',
        eventPattern: cdkPattern(CONTROL_TOWER_ACCOUNT_VENDED_PATTERN),
      });
      this.vendingRules.push(this.controlTowerRule);
    }
    this.accountVendedRule = new events.Rule(this, 'AccountVendedRule', {
      description: 'Generic Account Vended events to Slipway account vending',
      eventBus: this.bus,
      eventPattern: cdkPattern(ACCOUNT_VENDED_PATTERN),
    });
    this.vendingRules.push(this.accountVendedRule);
  }

  /** Sends the vending rules to the account-vending handler. */
  routeVendingTo(fn: lambda.IFunction): void {
    for (const rule of this.vendingRules) {
      rule.addTarget(
        new targets.LambdaFunction(fn, { deadLetterQueue: this.vendingDeadLetters, retryAttempts: 8, maxEventAge: Duration.hours(24) }),
      );
    }
  }

  /** A rule without a target delivers nothing: disable the vending rules until the handler exists. */
  disableVending(): void {
    for (const rule of this.vendingRules) (rule.node.defaultChild as events.CfnRule).state = 'DISABLED';
  }

  grantPut(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [this.bus.eventBusArn] }));
  }
}
