/** onboard-account: failure path: mark the account Failed with the reason and publish Account Onboarding Failed. */
import { markOnboardingFailed, type OnboardingDeps, onboardingStep } from '../../shared/onboarding/steps.ts';
import { awsOnboardingDeps } from './onboarding-deps.ts';

export const STEP = 'mark-onboarding-failed';

export const makeHandler = (deps: () => OnboardingDeps) => onboardingStep(STEP, deps, markOnboardingFailed);

export const handler = makeHandler(awsOnboardingDeps);
