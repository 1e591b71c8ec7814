import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACCOUNT_VENDED_PATTERN,
  CONTROL_TOWER_ACCOUNT_VENDED_PATTERN,
  type EventPattern,
  FAILURE_PATTERN,
  STATUS_PATTERN,
} from '../../shared/events/patterns.ts';
import type { CfnElement } from 'aws-cdk-lib';
import { type Built, buildStack, FIXTURE_PATHS, policyStatements, referencedId, resourcesOf, synthTemplate, removeOutdirs } from './helpers.ts';

afterAll(removeOutdirs);

/** JSON with sorted keys: CloudFormation does not keep the constant's key order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );

type RuleProps = { EventPattern?: EventPattern; EventBusName?: unknown; State?: string; Targets?: { Arn: unknown }[] };

describe('events: the Slipway bus and its rules', () => {
  let built: Built;
  let rules: RuleProps[];
  let busId: string;
  beforeAll(() => {
    built = synthTemplate();
    rules = Object.values(resourcesOf(built.template, 'AWS::Events::Rule')).map((r) => r.Properties as RuleProps);
    busId = Object.keys(resourcesOf(built.template, 'AWS::Events::EventBus'))[0] ?? '';
  });
  const ruleWith = (pattern: EventPattern) => rules.filter((r) => canonical(r.EventPattern) === canonical(pattern));

  it('creates the bus with an archive for replay', () => {
    built.template.hasResourceProperties('AWS::Events::EventBus', { Name: 'slipway' });
    built.template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 365 });
  });

  it('matches Control Tower CreateManagedAccount on the default bus with the runtime pattern', () => {
    const [rule] = ruleWith(CONTROL_TOWER_ACCOUNT_VENDED_PATTERN);
    expect(rule?.EventPattern).toEqual(CONTROL_TOWER_ACCOUNT_VENDED_PATTERN);
    expect(rule?.EventBusName).toBeUndefined();
    expect(rule?.State).toBe('ENABLED');
  });

  it('matches the generic Account Vended event on the Slipway bus with the runtime pattern', () => {
    const [rule] = ruleWith(ACCOUNT_VENDED_PATTERN);
    expect(rule?.EventPattern).toEqual(ACCOUNT_VENDED_PATTERN);
    expect(referencedId(rule?.EventBusName)).toBe(busId);
  });

  it('sends both vending rules to the account-vending handler', () => {
    const functions = resourcesOf(built.template, 'AWS::Lambda::Function');
    for (const pattern of [CONTROL_TOWER_ACCOUNT_VENDED_PATTERN, ACCOUNT_VENDED_PATTERN]) {
      const [rule] = ruleWith(pattern);
      const fn = functions[referencedId(rule?.Targets?.[0]?.Arn) ?? ''];
      expect(fn?.Properties?.Description).toMatch(/account vending/);
    }
  });

  it('logs status events and notifies failures with the runtime patterns, on the Slipway bus', () => {
    for (const pattern of [STATUS_PATTERN, FAILURE_PATTERN]) {
      const [rule] = ruleWith(pattern);
      expect(rule?.EventPattern).toEqual(pattern);
      expect(referencedId(rule?.EventBusName)).toBe(busId);
      expect(rule?.Targets?.length).toBeGreaterThan(0);
    }
  });

  it('runs the sweeper on a schedule', () => {
    const schedule = Object.values(resourcesOf(built.template, 'AWS::Events::Rule'))
      .map((r) => r.Properties as RuleProps & { ScheduleExpression?: string })
      .find((r) => r.ScheduleExpression);
    expect(schedule?.ScheduleExpression).toBe('rate(5 minutes)');
    const fn = resourcesOf(built.template, 'AWS::Lambda::Function')[referencedId(schedule?.Targets?.[0]?.Arn) ?? ''];
    expect(fn?.Properties?.Description).toMatch(/sweeper/);
  });

  it('runs the access revoker on the same schedule, with the kept access and the revocation outbox but no workflows', () => {
    const schedule = Object.values(resourcesOf(built.template, 'AWS::Events::Rule'))
      .map((r) => r.Properties as RuleProps & { ScheduleExpression?: string })
      .find((r) => r.ScheduleExpression);
    const revoker = built.stack.revoker;
    expect(revoker).toBeDefined();
    const revokerId = built.stack.getLogicalId(revoker?.fn.node.defaultChild as CfnElement);
    expect(schedule?.Targets?.map((t) => referencedId(t.Arn))).toContain(revokerId);
    const roleId = built.stack.getLogicalId(revoker?.role.node.defaultChild as CfnElement);
    const statements = Object.values(resourcesOf(built.template, 'AWS::IAM::Policy'))
      .filter((p) => ((p.Properties?.Roles as unknown[] | undefined) ?? []).map(referencedId).includes(roleId))
      .flatMap((p) => policyStatements(p));
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.some((a) => String(a).startsWith('states:'))).toBe(false);
    const outbox = statements.find((s) => JSON.stringify(s.Condition ?? {}).includes('REVOCATION'));
    expect(outbox?.Action).toEqual(['dynamodb:UpdateItem', 'dynamodb:DeleteItem']);
    expect(outbox?.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['REVOCATION'] } });
    // Writes anywhere else in the table are only audit appends.
    const puts = statements.filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes('dynamodb:PutItem'));
    expect(puts.map((s) => JSON.stringify(s.Condition))).toEqual([JSON.stringify({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AUDIT#*'] } })]);
  });

  it('disables the vending rules while the vending handler does not exist', () => {
    const { stack } = buildStack({ paths: { ...FIXTURE_PATHS, eventHandlers: '/nonexistent' } });
    expect(stack.accountVended).toBeUndefined();
    const disabled = Object.values(resourcesOf(synthTemplate({ paths: { ...FIXTURE_PATHS, eventHandlers: '/nonexistent' } }).template, 'AWS::Events::Rule'))
      .map((r) => r.Properties as RuleProps)
      .filter((r) => r.State === 'DISABLED');
    expect(disabled.map((r) => r.EventPattern)).toEqual([CONTROL_TOWER_ACCOUNT_VENDED_PATTERN, ACCOUNT_VENDED_PATTERN]);
  });

  it('lets the configured accounts publish and forwards status to consumer buses', () => {
    const consumer = 'arn:aws:events:eu-west-1:210987654321:event-bus/platform';
    const { template } = synthTemplate({
      context: { 'slipway:eventPublisherAccounts': '123456789012', 'slipway:eventConsumerBusArns': consumer },
    });
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {});
    const status = Object.values(resourcesOf(template, 'AWS::Events::Rule'))
      .map((r) => r.Properties as RuleProps)
      .find((r) => canonical(r.EventPattern) === canonical(STATUS_PATTERN));
    expect(status?.Targets?.map((t) => t.Arn)).toContain(consumer);
  });
});
