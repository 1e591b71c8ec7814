/** onboard-account: register the account's cloud access (the rule's role in the account). */
import { registerAccess, type OnboardingDeps, onboardingStep } from '../../shared/onboarding/steps.ts';
import { awsOnboardingDeps } from './onboarding-deps.ts';

export const STEP = 'register-access';

export const makeHandler = (deps: () => OnboardingDeps) => onboardingStep(STEP, deps, registerAccess);

export const handler = makeHandler(awsOnboardingDeps);
