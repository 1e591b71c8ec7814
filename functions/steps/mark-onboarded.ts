/** onboard-account: mark the account Onboarded and publish Account Onboarded. */
import { markOnboarded, type OnboardingDeps, onboardingStep } from '../../shared/onboarding/steps.ts';
import { awsOnboardingDeps } from './onboarding-deps.ts';

export const STEP = 'mark-onboarded';

export const makeHandler = (deps: () => OnboardingDeps) => onboardingStep(STEP, deps, markOnboarded);

export const handler = makeHandler(awsOnboardingDeps);
