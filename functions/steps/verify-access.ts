/** onboard-account: verify the access (sts:AssumeRole with the external id, EC2 offerings with the assumed role); a refusal fails onboarding. */
import { verifyAccess, type OnboardingDeps, onboardingStep } from '../../shared/onboarding/steps.ts';
import { awsOnboardingDeps } from './onboarding-deps.ts';

export const STEP = 'verify-access';

export const makeHandler = (deps: () => OnboardingDeps) => onboardingStep(STEP, deps, verifyAccess);

export const handler = makeHandler(awsOnboardingDeps);
