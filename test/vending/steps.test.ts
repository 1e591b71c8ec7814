/**
 * The onboarding steps under Step Functions' delivery semantics: a transient failure is retried by the ASL,
 * and every step run twice (Lambda may) changes nothing more than once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { onAccountVended, onboardingExecutionName } from '../../functions/events/account-vended.ts';
import { buildOnboardingStepHandlers } from '../../functions/steps/onboarding-registry.ts';
import { controlTowerAccountEvent } from '../../local/vending.ts';
import { type AccessVerifier, AwsTransientError } from '../../shared/aws/verify-access.ts';
import { DetailType } from '../../shared/events/constants.ts';
import { createLogger } from '../../shared/log.ts';
import { loadPriceCatalog } from '../../shared/policy/cost.ts';
import { WorkflowId } from '../../shared/workflow/names.ts';
import { RecordingWorkflowStarter } from '../helpers/api.ts';
import { addRule, seedClusterConfig, startVendingHarness, type VendingHarness } from './harness.ts';

const ACCOUNT = '222233334444';
const rule = {
  id: 'sandbox',
  priority: 10,
  match: { organizationalUnits: ['Sandbox'] },
  access: { provider: 'aws', roleName: 'SlipwayProvisioner', externalId: 'slipway-ext-1', regions: ['eu-west-1'] },
  workspace: { owners: ['user:alice'], members: ['group:payments-devs'] },
  baseline: { name: 'baseline', plan: { id: 'standard' }, computeTemplateId: 'general', region: 'eu-west-1' },
};

/** Verifies without AWS, failing transiently the first `failures` times. */
class FlakyVerifier implements AccessVerifier {
  calls = 0;
  constructor(private failures: number) {}
  async verify() {
    this.calls += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new AwsTransientError('sts:AssumeRole failed transiently: Throttling: Rate exceeded');
    }
    return { status: 'Verified' as const, message: 'ok', offerings: { 'eu-west-1': ['m6i.large'] } };
  }
}

let h: VendingHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('onboarding steps', () => {
  it('a transient STS failure is retried by the workflow, and onboarding succeeds', async () => {
    const verifier = new FlakyVerifier(2);
    h = await startVendingHarness({ verifier });
    await seedClusterConfig(h.stores);
    await addRule(h.stores, rule);

    h.bus.putEnvelope(controlTowerAccountEvent({ accountId: ACCOUNT, accountName: 'team-payments-dev', ou: 'Sandbox' }));
    const execution = await h.settle(ACCOUNT);

    expect(execution?.status).toBe('SUCCEEDED');
    expect(verifier.calls).toBe(3);
    expect((await h.stores.accounts.load(ACCOUNT)).status).toBe('Onboarded');
  });

  it('every step run twice in a row changes nothing more than once', async () => {
    // Prepare: the account claimed as the trigger would, without running the workflow.
    h = await startVendingHarness({ verifier: new FlakyVerifier(0) });
    await seedClusterConfig(h.stores);
    await addRule(h.stores, rule);
    const provisions = new RecordingWorkflowStarter();
    const log = createLogger({}, 'error');
    const stores = h.stores;
    const claimed = await onAccountVended(
      { version: '0', id: 'e1', resources: [], ...controlTowerAccountEvent({ accountId: ACCOUNT, accountName: 'team-payments-dev', ou: 'Sandbox' }) },
      { stores, workflows: { start: async () => ({ executionId: 'not-run' }) }, clock: () => new Date(), log },
    );
    expect(claimed.executionName).toBe(onboardingExecutionName(ACCOUNT, 1));
    const steps = buildOnboardingStepHandlers(() => ({
      stores,
      events: h!.bus,
      workflows: provisions,
      verifier: new FlakyVerifier(0),
      prices: loadPriceCatalog(),
      clock: () => new Date(),
      log,
    }));

    // Act
    for (const step of ['register-access', 'verify-access', 'attach-workspace', 'request-baseline', 'mark-onboarded'] as const) {
      await steps[step]({ accountId: ACCOUNT });
      await steps[step]({ accountId: ACCOUNT });
    }
    await h.bus.drain();

    // Assess
    const account = await stores.accounts.load(ACCOUNT);
    expect(account).toMatchObject({
      status: 'Onboarded',
      workspaceId: 'acct-team-payments-dev',
      changes: { createdCloudAccess: true, createdWorkspace: true, attachedCloudAccess: false, addedMembers: [] },
      baselineCluster: { status: 'Requested' },
    });
    expect((await stores.cloudAccesses.list()).items.map((a) => a.id)).toEqual([`aws-${ACCOUNT}`]);
    expect((await stores.workspaces.list()).items.map((w) => w.id)).toEqual(['acct-team-payments-dev']);
    expect((await stores.clusters.list('acct-team-payments-dev')).items).toHaveLength(1);
    expect((await stores.clusters.usage('acct-team-payments-dev')).clusters).toBe(1);
    expect(provisions.starts).toHaveLength(1);
    expect(provisions.starts[0]?.workflow).toBe(WorkflowId.provisionCluster);
    // The outcome is published on every run (at-least-once, like every Slipway event).
    expect(h.bus.history({ detailType: DetailType.AccountOnboarded })).toHaveLength(2);
  });
});
