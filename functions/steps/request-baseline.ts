/** onboard-account: request the rule's baseline cluster through the API's own path (policies and quotas apply). */
import { requestBaseline, type OnboardingDeps, onboardingStep } from '../../shared/onboarding/steps.ts';
import { awsOnboardingDeps } from './onboarding-deps.ts';

export const STEP = 'request-baseline';

export const makeHandler = (deps: () => OnboardingDeps) => onboardingStep(STEP, deps, requestBaseline);

export const handler = makeHandler(awsOnboardingDeps);
