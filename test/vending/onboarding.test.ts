/**
 * Account vending end to end through the local bus: the Control Tower sample event → onboard-account (real
 * ASL, real steps) → verified access, workspace, baseline cluster requested, `Account Onboarded`. Then the
 * edges: duplicates and races, unmatched and failed vendings, a refused AssumeRole, a failure after attaching
 * to an existing workspace, and a baseline cluster that breaks a policy. STS/EC2: moto_server when present,
 * aws-sdk-client-mock otherwise (aws-backend.ts).
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { onboardingExecutionName } from '../../functions/events/account-vended.ts';
import { DEFAULT_BUS, type EventEnvelope } from '../../local/eventbus.ts';
import { controlTowerAccountEvent } from '../../local/vending.ts';
import { DetailType } from '../../shared/events/constants.ts';
import { accountVendedEvent } from '../../shared/events/schemas.ts';
import type { AccessVerifier } from '../../shared/aws/verify-access.ts';
import { WorkflowId } from '../../shared/workflow/names.ts';
import { buildOnboardingStepHandlers } from '../../functions/steps/onboarding-registry.ts';
import { createLogger } from '../../shared/log.ts';
import { StaleOnboardingError } from '../../shared/onboarding/steps.ts';
import { loadPriceCatalog } from '../../shared/policy/cost.ts';
import { type AwsBackend, startAwsBackend } from './aws-backend.ts';
import { addAccess, addRule, CONTROL_TOWER_FIXTURE, seedClusterConfig, startVendingHarness, type VendingHarness } from './harness.ts';

const fixture = JSON.parse(readFileSync(CONTROL_TOWER_FIXTURE, 'utf8')) as EventEnvelope;
const ACCOUNT = '222233334444';
const WORKSPACE = 'acct-team-payments-dev';
const ACCESS = `aws-${ACCOUNT}`;

const sandboxRule = {
  id: 'sandbox',
  priority: 10,
  match: { organizationalUnits: ['Sandbox'] },
  access: { provider: 'aws', roleName: 'SlipwayProvisioner', externalId: 'slipway-ext-1', regions: ['eu-west-1', 'eu-central-1'] },
  workspace: { idTemplate: 'acct-{accountName}', owners: ['user:alice'], members: ['group:payments-devs', { fromEmail: true }] },
  baseline: { name: 'baseline', plan: { id: 'standard' }, computeTemplateId: 'general', region: 'eu-west-1', ttlHours: 72 },
};
/** Tried first but for another OU; and a catch-all tried last: the Sandbox rule must win. */
const productionRule = { ...sandboxRule, id: 'production', priority: 5, match: { organizationalUnits: ['Production'] }, baseline: undefined };
const catchAllRule = { ...sandboxRule, id: 'catch-all', priority: 20, match: {}, baseline: undefined };

let aws: AwsBackend;
let h: VendingHarness | undefined;

beforeAll(async () => {
  aws = await startAwsBackend();
});

afterAll(async () => {
  await aws?.close();
});

afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(options: { deny?: boolean; verifier?: AccessVerifier; policy?: Record<string, unknown>; rules?: unknown[] } = {}): Promise<VendingHarness> {
  h = await startVendingHarness({ verifier: options.verifier ?? (options.deny ? aws.denyingVerifier() : aws.verifier) });
  await seedClusterConfig(h.stores, options.policy);
  for (const rule of options.rules ?? [productionRule, sandboxRule, catchAllRule]) await addRule(h.stores, rule);
  return h;
}

function putControlTower(t: VendingHarness, envelope: Partial<EventEnvelope> & Pick<EventEnvelope, 'source' | 'detail-type' | 'detail'> = fixture): void {
  t.bus.putEnvelope(envelope, DEFAULT_BUS);
}

const published = (t: VendingHarness, detailType: string) => t.bus.history({ detailType }).map((r) => r.event.detail);

async function auditActions(t: VendingHarness): Promise<Array<{ action: string; resource: string; detail?: Record<string, unknown> }>> {
  const day = new Date().toISOString().slice(0, 10);
  return (await t.stores.audit.listDay(day, { limit: 100 })).items;
}

describe('the Control Tower sample event through the local bus', () => {
  it('verifies the access, creates the workspace with the rule’s members, requests the baseline cluster and publishes Account Onboarded', async () => {
    // Prepare
    const t = await harness();
    const sentBefore = aws.sent.length;

    // Act
    putControlTower(t);
    const execution = await t.settle(ACCOUNT);

    // Assess: the workflow and the trigger
    expect(execution?.status, `${execution?.error}: ${execution?.cause}`).toBe('SUCCEEDED');
    expect(t.outcomes).toEqual([{ outcome: 'started', accountId: ACCOUNT, ruleId: 'sandbox', attempt: 1, executionName: onboardingExecutionName(ACCOUNT, 1) }]);

    // the account record
    const account = await t.stores.accounts.load(ACCOUNT);
    expect(account).toMatchObject({
      status: 'Onboarded',
      accountName: 'team-payments-dev',
      organizationalUnit: { id: 'ou-ab12-34cd56ef', name: 'Sandbox' },
      ruleId: 'sandbox',
      cloudAccessId: ACCESS,
      workspaceId: WORKSPACE,
      reason: null,
      baselineCluster: { workspaceId: WORKSPACE, name: 'baseline', status: 'Requested' },
    });
    expect(account.verification?.status).toBe('Verified');
    expect(Object.keys(account.verification?.offerings ?? {}).sort()).toEqual(['eu-central-1', 'eu-west-1']);
    expect(account.verification?.offerings?.['eu-west-1']).toContain('m6i.large');

    // the access, as registered and verified
    const access = await t.stores.cloudAccesses.load(ACCESS);
    expect(access).toMatchObject({
      provider: 'aws',
      accountId: ACCOUNT,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/SlipwayProvisioner`,
      externalId: 'slipway-ext-1',
      regions: ['eu-west-1', 'eu-central-1'],
      verification: { status: 'Verified' },
    });
    const assume = aws.sent.slice(sentBefore).find((c) => c.command === 'AssumeRoleCommand');
    expect(assume?.input).toMatchObject({ RoleArn: access.roleArn, ExternalId: 'slipway-ext-1' });

    // the workspace: owners and members from the rule; the email source yields nothing (Control Tower sends none)
    const ws = await t.stores.workspaces.get(WORKSPACE);
    expect(ws?.members).toEqual([
      { principal: 'group:payments-devs', role: 'member' },
      { principal: 'user:alice', role: 'owner' },
    ]);
    expect(ws?.cloudAccessIds).toEqual([ACCESS]);
    expect(ws?.name).toBe('team-payments-dev');

    // the baseline cluster: recorded through the API's path and its provisioning started once
    const cluster = await t.stores.clusters.get(WORKSPACE, 'baseline');
    expect(cluster).toMatchObject({ phase: 'Requested', operation: 'provision', createdBy: `system:onboarding:${ACCOUNT}`, cloudAccessId: ACCESS, region: 'eu-west-1' });
    expect(account.baselineCluster?.uid).toBe(cluster?.uid);
    expect(t.provisions).toHaveLength(1);
    expect(t.provisions[0]).toMatchObject({ workflow: WorkflowId.provisionCluster, input: { workspaceId: WORKSPACE, name: 'baseline', uid: cluster?.uid, generation: 1 } });
    expect((await t.stores.clusters.usage(WORKSPACE)).clusters).toBe(1);

    // the event
    const onboarded = published(t, DetailType.AccountOnboarded);
    expect(onboarded).toHaveLength(1);
    expect(onboarded[0]).toMatchObject({
      schemaVersion: '1',
      accountId: ACCOUNT,
      workspaceId: WORKSPACE,
      cloudAccessId: ACCESS,
      baselineCluster: { workspaceId: WORKSPACE, name: 'baseline', uid: cluster?.uid },
    });
    expect(published(t, DetailType.AccountOnboardingFailed)).toEqual([]);
  });
});

describe('exactly one onboarding per account', () => {
  it('the same event twice → one onboarding; the second delivery is audited as a duplicate', async () => {
    const t = await harness();

    putControlTower(t);
    await t.settle(ACCOUNT);
    putControlTower(t);
    await t.settle(ACCOUNT);

    expect(t.outcomes.map((o) => o.outcome)).toEqual(['started', 'duplicate']);
    expect(t.runner.list().filter((e) => e.workflow === WorkflowId.onboardAccount)).toHaveLength(1);
    expect(t.provisions).toHaveLength(1);
    expect(published(t, DetailType.AccountOnboarded)).toHaveLength(1);
    const audit = await auditActions(t);
    expect(audit.filter((a) => a.action === 'Account.claim')).toHaveLength(1);
    expect(audit.filter((a) => a.action === 'AccountVending.duplicate')).toHaveLength(1);
  });

  it('two events at once (Control Tower and a generic Account Vended for the same account) → one onboarding', async () => {
    const t = await harness();

    // Both accepted before either is delivered: the deliveries race.
    putControlTower(t);
    await t.bus.publish([
      accountVendedEvent({ accountId: ACCOUNT, accountName: 'team-payments-dev', organizationalUnit: { id: 'ou-ab12-34cd56ef', name: 'Sandbox' } }, 'acme.vending'),
    ]);
    const execution = await t.settle(ACCOUNT);

    expect(execution?.status).toBe('SUCCEEDED');
    expect(t.outcomes.map((o) => o.outcome).sort()).toEqual(['duplicate', 'started']);
    expect(t.runner.list().filter((e) => e.name === onboardingExecutionName(ACCOUNT, 1))).toHaveLength(1);
    expect((await t.stores.workspaces.list()).items.map((w) => w.id)).toEqual([WORKSPACE]);
    expect((await t.stores.clusters.list(WORKSPACE)).items).toHaveLength(1);
    expect(published(t, DetailType.AccountOnboarded)).toHaveLength(1);
  });
});

describe('events that onboard nothing', () => {
  it('an account in an OU no rule matches is ignored and audited', async () => {
    const t = await harness({ rules: [productionRule, sandboxRule] });

    putControlTower(t, controlTowerAccountEvent({ accountId: '555566667777', accountName: 'research-1', ou: 'Research' }));
    const execution = await t.settle('555566667777');

    expect(execution).toBeNull();
    expect(t.outcomes).toEqual([{ outcome: 'ignored', accountId: '555566667777', reason: 'no onboarding rule matches account research-1 (Research)' }]);
    expect(await t.stores.accounts.get('555566667777')).toBeNull();
    const ignored = (await auditActions(t)).filter((a) => a.action === 'AccountVending.ignored');
    expect(ignored).toHaveLength(1);
    expect(ignored[0]).toMatchObject({ resource: 'accounts/555566667777', detail: { source: 'aws.controltower', reason: expect.stringContaining('no onboarding rule matches') } });
    expect((await t.stores.workspaces.list()).items).toEqual([]);
  });

  it('a failed Control Tower vending is ignored and audited', async () => {
    const t = await harness();

    putControlTower(t, controlTowerAccountEvent({ accountId: ACCOUNT, accountName: 'team-payments-dev', ou: 'Sandbox', state: 'FAILED' }));
    await t.settle(ACCOUNT);

    expect(t.outcomes[0]).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('FAILED') });
    expect(await t.stores.accounts.get(ACCOUNT)).toBeNull();
    expect((await auditActions(t)).some((a) => a.action === 'AccountVending.ignored' && a.resource === `accounts/${ACCOUNT}`)).toBe(true);
  });
});

describe('failures leave nothing half-made', () => {
  it('AssumeRole denied → Account Onboarding Failed with the reason; the access and workspace it made are gone', async () => {
    const t = await harness({ deny: true });

    putControlTower(t);
    const execution = await t.settle(ACCOUNT);

    expect(execution?.status).toBe('FAILED');
    const account = await t.stores.accounts.load(ACCOUNT);
    expect(account).toMatchObject({ status: 'Failed', failedStep: 'verify-access', workspaceId: null, verification: { status: 'Failed' } });
    expect(account.reason).toContain('AccessDenied');
    expect(account.reason).toContain('sts:AssumeRole');
    const failed = published(t, DetailType.AccountOnboardingFailed);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ accountId: ACCOUNT, reason: account.reason });
    expect(failed[0]).not.toHaveProperty('cloudAccessId');
    expect(published(t, DetailType.AccountOnboarded)).toEqual([]);
    // nothing half-made
    expect(await t.stores.cloudAccesses.get(ACCESS)).toBeNull();
    expect(await t.stores.workspaces.get(WORKSPACE)).toBeNull();
    expect(t.provisions).toEqual([]);
  });

  it('a failure undoes only what this onboarding did: an admin’s access stays, an existing workspace loses only what was added', async () => {
    // Prepare: the access registered beforehand by an admin; the workspace exists with its own member.
    const rule = { ...sandboxRule, workspace: { ...sandboxRule.workspace, idTemplate: 'payments' }, baseline: undefined };
    const t = await harness({ rules: [rule] });
    await addAccess(t.stores, { id: ACCESS, provider: 'aws', accountId: ACCOUNT, roleArn: `arn:aws:iam::${ACCOUNT}:role/SlipwayProvisioner`, regions: ['eu-west-1'] });
    await t.stores.workspaces.create({ id: 'payments', name: 'Payments', members: [{ principal: 'user:zoe', role: 'owner' }], cloudAccessIds: [] }, { principal: 'user:root' });
    // mark-onboarded's PutEvents fails on every attempt (1 + 6 retries): the workflow takes its failure path.
    t.bus.failNextEntries(7);

    // Act
    putControlTower(t);
    const execution = await t.settle(ACCOUNT);

    // Assess
    expect(execution?.status).toBe('FAILED');
    const account = await t.stores.accounts.load(ACCOUNT);
    expect(account).toMatchObject({ status: 'Failed', failedStep: 'mark-onboarded' });
    expect(account.reason).toContain('EventPublishError');
    const ws = await t.stores.workspaces.get('payments');
    expect(ws?.members).toEqual([{ principal: 'user:zoe', role: 'owner' }]);
    expect(ws?.cloudAccessIds).toEqual([]);
    expect(await t.stores.cloudAccesses.get(ACCESS)).not.toBeNull();
    expect(published(t, DetailType.AccountOnboardingFailed)).toHaveLength(1);
  });
});

describe('retrying a failed onboarding', () => {
  it('the vending event again, once the role can be assumed, onboards the account in a second attempt; duplicates start nothing more', async () => {
    // Prepare: AssumeRole is refused until the account's role is fixed.
    let roleFixed = false;
    const denying = aws.denyingVerifier();
    const t = await harness({ verifier: { verify: (request) => (roleFixed ? aws.verifier : denying).verify(request) } });
    putControlTower(t);
    const first = await t.settle(ACCOUNT);
    expect(first?.status).toBe('FAILED');
    const failed = await t.stores.accounts.load(ACCOUNT);
    expect(failed).toMatchObject({ status: 'Failed', attempt: 1, failedStep: 'verify-access', workspaceId: null });

    // Act: the role fixed, the same event is sent again — twice, at once
    roleFixed = true;
    putControlTower(t);
    putControlTower(t);
    const second = await t.settle(ACCOUNT);

    // Assess: one new execution, named for attempt 2, and it onboarded the account
    expect(second?.status, `${second?.error}: ${second?.cause}`).toBe('SUCCEEDED');
    expect(second?.name).toBe(onboardingExecutionName(ACCOUNT, 2));
    const executions = t.runner.list().filter((e) => e.workflow === WorkflowId.onboardAccount);
    expect(executions.map((e) => e.name).sort()).toEqual([onboardingExecutionName(ACCOUNT, 1), onboardingExecutionName(ACCOUNT, 2)]);
    expect(t.outcomes.map((o) => o.outcome).sort()).toEqual(['duplicate', 'retried', 'started']);
    const account = await t.stores.accounts.load(ACCOUNT);
    expect(account).toMatchObject({ status: 'Onboarded', attempt: 2, workspaceId: WORKSPACE, reason: null, failedStep: null, verification: { status: 'Verified' } });
    expect(account.previousAttempts).toEqual([expect.objectContaining({ attempt: 1, executionName: onboardingExecutionName(ACCOUNT, 1), failedStep: 'verify-access', reason: failed.reason })]);
    expect((await t.stores.workspaces.list()).items.map((w) => w.id)).toEqual([WORKSPACE]);
    expect(await t.stores.cloudAccesses.load(ACCESS)).toMatchObject({ verification: { status: 'Verified' } });
    expect(t.provisions).toHaveLength(1);

    // the events say which attempt failed and which succeeded
    expect(published(t, DetailType.AccountOnboardingFailed)).toEqual([expect.objectContaining({ accountId: ACCOUNT, attempt: 1 })]);
    expect(published(t, DetailType.AccountOnboarded)).toEqual([expect.objectContaining({ accountId: ACCOUNT, attempt: 2, workspaceId: WORKSPACE })]);
    // and the audit trail has the retry
    const retries = (await auditActions(t)).filter((a) => a.action === 'Account.retry');
    expect(retries).toHaveLength(1);
    expect(retries[0]?.detail).toMatchObject({ attempt: 2, previous: { attempt: 1, failedStep: 'verify-access' } });

    // Act: a late invocation of attempt 1's failure path (Lambda may run a step twice)
    const steps = buildOnboardingStepHandlers(() => ({ stores: t.stores, events: t.bus, workflows: { start: async () => ({ executionId: 'x' }) }, verifier: aws.verifier, prices: loadPriceCatalog(), clock: () => new Date(), log: createLogger({}, 'error') }));
    const undone = await steps['undo-onboarding']({ accountId: ACCOUNT, attempt: 1 });
    await steps['mark-onboarding-failed']({ accountId: ACCOUNT, attempt: 1, failedStep: 'verify-access', error: { Error: 'AccessVerificationFailedError', Cause: 'late' } });
    await expect(steps['register-access']({ accountId: ACCOUNT, attempt: 1 })).rejects.toThrow(StaleOnboardingError);

    // Assess: attempt 2's work stands
    expect(undone).toEqual({ undone: [], kept: [] });
    expect(await t.stores.accounts.load(ACCOUNT)).toMatchObject({ status: 'Onboarded', attempt: 2, workspaceId: WORKSPACE });
    expect(await t.stores.workspaces.get(WORKSPACE)).not.toBeNull();
  });
});

describe('the baseline cluster goes through the policies', () => {
  it('a baseline that breaks a policy → violation recorded and published, no cluster', async () => {
    const t = await harness({ policy: { allowedInstanceTypes: ['t3.*'] } });

    putControlTower(t);
    const execution = await t.settle(ACCOUNT);

    expect(execution?.status).toBe('SUCCEEDED');
    const account = await t.stores.accounts.load(ACCOUNT);
    expect(account.status).toBe('Onboarded');
    expect(account.baselineCluster).toMatchObject({ workspaceId: WORKSPACE, name: 'baseline', status: 'Refused' });
    const codes = account.baselineCluster?.violations?.map((v) => v.code) ?? [];
    expect(codes).toContain('instance_type.not_allowed');
    expect(account.reason).toContain('violates');
    // no cluster, nothing reserved, nothing started
    expect(await t.stores.clusters.get(WORKSPACE, 'baseline')).toBeNull();
    expect((await t.stores.clusters.usage(WORKSPACE)).clusters).toBe(0);
    expect(t.provisions).toEqual([]);
    // published with the violations
    const onboarded = published(t, DetailType.AccountOnboarded);
    expect(onboarded).toHaveLength(1);
    expect(onboarded[0]).toMatchObject({ accountId: ACCOUNT, workspaceId: WORKSPACE, reason: expect.stringContaining('baseline cluster not requested') });
    expect(((onboarded[0]?.violations ?? []) as Array<{ code: string }>).map((v) => v.code)).toContain('instance_type.not_allowed');
  });
});
