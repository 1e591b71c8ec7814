/**
 * Account vending end to end, in process: a fresh table on the run's DynamoDB Local, the local event bus with
 * the two vending rules (same patterns as the CDK), the real account-vended handler, and the real
 * statemachines/onboard-account.asl.json on the local Step Functions runner with the real step handlers.
 * provision-cluster starts go to a recorder with Step Functions' exactly-once-by-name semantics (the
 * provisioning workflow is exercised in its own suites).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeHandler as makeVendingHandler, type VendingEvent, type VendingOutcome } from '../../functions/events/account-vended.ts';
import { buildOnboardingStepHandlers } from '../../functions/steps/onboarding-registry.ts';
import { type EventEnvelope, LocalEventBus } from '../../local/eventbus.ts';
import { type LocalExecution, LocalWorkflowStarter } from '../../local/stepfunctions.ts';
import { onboardingMachineOptions, wireAccountVending } from '../../local/vending.ts';
import type { AccessVerifier } from '../../shared/aws/verify-access.ts';
import { CreateOnboardingRuleBody } from '../../shared/domain/onboarding.ts';
import {
  CreateClusterPlanBody,
  CreateCloudAccessBody,
  CreateComputeTemplateBody,
  CreateNetworkPlanBody,
  CreatePackageBody,
  CreatePolicyBody,
} from '../../shared/domain/schemas.ts';
import { createLogger } from '../../shared/log.ts';
import type { OnboardingDeps } from '../../shared/onboarding/steps.ts';
import { loadPriceCatalog } from '../../shared/policy/cost.ts';
import type { Stores } from '../../shared/store/ports.ts';
import { WorkflowId } from '../../shared/workflow/names.ts';
import type { StartWorkflowRequest, WorkflowStarter } from '../../shared/workflow/starter.ts';
import { RecordingWorkflowStarter } from '../helpers/api.ts';
import { freshStores } from '../helpers/dynamo.ts';
import { clusterPlan, computeTemplate, networkPlan, pkg, policy } from '../api/fixtures.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CONTROL_TOWER_FIXTURE = join(ROOT, 'test/events/fixtures/controltower-create-managed-account.json');
const ADMIN = { principal: 'user:root' };

export interface VendingHarness {
  stores: Stores;
  bus: LocalEventBus;
  runner: LocalWorkflowStarter;
  /** What the trigger starts workflows with (onboard-account on the runner, the rest recorded): for the API too. */
  workflows: WorkflowStarter;
  /** provision-cluster starts (the baseline cluster), recorded once per execution name. */
  provisions: StartWorkflowRequest[];
  /** What the trigger answered, per delivery. */
  outcomes: VendingOutcome[];
  /** Every delivery done and the account's onboarding (if any) finished. */
  settle(accountId: string): Promise<LocalExecution | null>;
  close(): Promise<void>;
}

export async function startVendingHarness(options: { verifier: AccessVerifier }): Promise<VendingHarness> {
  const db = await freshStores();
  const bus = new LocalEventBus({ retryDelayMs: 1 });
  const provisions = new RecordingWorkflowStarter();
  const log = createLogger({ component: 'test' }, 'error');
  let runner: LocalWorkflowStarter | undefined;
  const workflows: WorkflowStarter = {
    start: (request) => {
      if (request.workflow !== WorkflowId.onboardAccount) return provisions.start(request);
      if (!runner) throw new Error('runner not ready');
      return runner.start(request);
    },
  };
  const deps: OnboardingDeps = { stores: db.stores, events: bus, workflows, verifier: options.verifier, prices: loadPriceCatalog(), clock: () => new Date(), log };
  const { lambdas, substitutions } = onboardingMachineOptions(buildOnboardingStepHandlers(() => deps));
  runner = new LocalWorkflowStarter({
    machines: { [WorkflowId.onboardAccount]: join(ROOT, 'statemachines/onboard-account.asl.json') },
    lambdas,
    substitutions,
    timeFactor: 0,
  });
  const outcomes: VendingOutcome[] = [];
  const vending = makeVendingHandler(() => ({ stores: db.stores, workflows, clock: () => new Date(), log }));
  wireAccountVending(bus, async (event: EventEnvelope) => {
    const outcome = await vending(event as VendingEvent);
    outcomes.push(outcome);
    return outcome;
  });

  const started = runner;
  return {
    stores: db.stores,
    bus,
    runner: started,
    workflows,
    provisions: provisions.starts,
    outcomes,
    async settle(accountId) {
      await bus.drain();
      // The account's latest attempt (a retry runs under a new name).
      const name = (await db.stores.accounts.get(accountId))?.executionName;
      if (name === undefined || !started.list().some((e) => e.name === name)) return null;
      const done = await started.waitFor(name, { workflow: WorkflowId.onboardAccount, timeoutMs: 30_000 });
      // The outcome events are put by the last step; let their deliveries finish too.
      await bus.drain();
      return done;
    },
    async close() {
      await started.stopAll();
      await db.drop();
    },
  };
}

/** The admin configuration a baseline cluster needs: access-independent plans, templates, a global policy. */
export async function seedClusterConfig(stores: Stores, policyRules: Partial<typeof policy.rules> = {}): Promise<void> {
  await stores.networkPlans.create(CreateNetworkPlanBody.parse(networkPlan), ADMIN);
  await stores.packages.create(CreatePackageBody.parse(pkg), ADMIN);
  const { id, ...spec } = CreateClusterPlanBody.parse(clusterPlan);
  await stores.clusterPlans.create(id, spec, ADMIN);
  await stores.computeTemplates.create(CreateComputeTemplateBody.parse(computeTemplate), ADMIN);
  await stores.policies.create(CreatePolicyBody.parse({ ...policy, rules: { ...policy.rules, ...policyRules } }), ADMIN);
}

export async function addRule(stores: Stores, rule: unknown): Promise<void> {
  await stores.onboardingRules.create(CreateOnboardingRuleBody.parse(rule), ADMIN);
}

/** A cloud access an admin registered beforehand (to check onboarding never deletes what it did not create). */
export async function addAccess(stores: Stores, body: unknown): Promise<void> {
  const parsed = CreateCloudAccessBody.parse(body);
  await stores.cloudAccesses.create({ ...parsed, verification: { status: 'Pending' } }, ADMIN);
}
