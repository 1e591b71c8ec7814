/** onboard-account: failure path: take back exactly what this onboarding created or added. */
import { undoOnboarding, type OnboardingDeps, onboardingStep } from '../../shared/onboarding/steps.ts';
import { awsOnboardingDeps } from './onboarding-deps.ts';

export const STEP = 'undo-onboarding';

export const makeHandler = (deps: () => OnboardingDeps) => onboardingStep(STEP, deps, undoOnboarding);

export const handler = makeHandler(awsOnboardingDeps);
