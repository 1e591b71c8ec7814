/**
 * The onboard-account workflow's step handlers by step name (`verify-access` for `${StepVerifyAccessArn}`),
 * built over one set of dependencies: what the local runtime and the tests bind the ASL Tasks to. In AWS
 * each is its own function whose `handler` builds the same from the environment.
 */
import type { OnboardingDeps, OnboardingInput } from '../../shared/onboarding/steps.ts';
import { makeHandler as attachWorkspace } from './attach-workspace.ts';
import { makeHandler as markOnboarded } from './mark-onboarded.ts';
import { makeHandler as markOnboardingFailed } from './mark-onboarding-failed.ts';
import { makeHandler as registerAccess } from './register-access.ts';
import { makeHandler as requestBaseline } from './request-baseline.ts';
import { makeHandler as undoOnboarding } from './undo-onboarding.ts';
import { makeHandler as verifyAccess } from './verify-access.ts';

const ONBOARDING_STEPS = {
  'register-access': registerAccess,
  'verify-access': verifyAccess,
  'attach-workspace': attachWorkspace,
  'request-baseline': requestBaseline,
  'mark-onboarded': markOnboarded,
  'undo-onboarding': undoOnboarding,
  'mark-onboarding-failed': markOnboardingFailed,
} as const;

export type OnboardingStepName = keyof typeof ONBOARDING_STEPS;
export const ONBOARDING_STEP_NAMES = Object.keys(ONBOARDING_STEPS) as OnboardingStepName[];

export function buildOnboardingStepHandlers(deps: () => OnboardingDeps): Record<OnboardingStepName, (input: OnboardingInput) => Promise<unknown>> {
  const built = {} as Record<OnboardingStepName, (input: OnboardingInput) => Promise<unknown>>;
  for (const name of ONBOARDING_STEP_NAMES) built[name] = ONBOARDING_STEPS[name](deps);
  return built;
}
