/** onboard-account: create the workspace from the rule, or attach the access and members to an existing one. */
import { attachWorkspace, type OnboardingDeps, onboardingStep } from '../../shared/onboarding/steps.ts';
import { awsOnboardingDeps } from './onboarding-deps.ts';

export const STEP = 'attach-workspace';

export const makeHandler = (deps: () => OnboardingDeps) => onboardingStep(STEP, deps, attachWorkspace);

export const handler = makeHandler(awsOnboardingDeps);
