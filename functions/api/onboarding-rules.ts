/** /v1/onboarding-rules — how vended AWS accounts are onboarded (account vending). Admins only. */
import { CreateOnboardingRuleBody, UpdateOnboardingRuleBody } from '../../shared/domain/onboarding.ts';
import { type FieldError, UnprocessableError } from '../../shared/errors.ts';
import { routeGroup } from '../../shared/http/api.ts';
import { configRoutes } from './config-routes.ts';
import { type ApiDeps, awsApiDeps } from './deps.ts';

export const onboardingRuleRoutes = configRoutes({
  basePath: '/v1/onboarding-rules',
  noun: 'onboarding rule',
  collection: (d) => d.stores.onboardingRules,
  createSchema: CreateOnboardingRuleBody,
  updateSchema: UpdateOnboardingRuleBody,
  readers: 'admins',
  // A baseline naming a plan or template that does not exist would only fail later, at some account's
  // onboarding: refuse it now. (Policies are checked per account, when the cluster is requested.)
  validate: async (rule, deps) => {
    if (!rule.baseline) return;
    const errors: FieldError[] = [];
    const { plan, computeTemplateId } = rule.baseline;
    const found = plan.revision === undefined ? await deps.stores.clusterPlans.get(plan.id) : await deps.stores.clusterPlans.getRevision(plan.id, plan.revision);
    if (!found) errors.push({ field: 'baseline.plan', message: `cluster plan ${plan.id}${plan.revision === undefined ? '' : ` revision ${plan.revision}`} does not exist`, code: 'reference.not_found' });
    if (!(await deps.stores.computeTemplates.get(computeTemplateId))) {
      errors.push({ field: 'baseline.computeTemplateId', message: `compute template ${computeTemplateId} does not exist`, code: 'reference.not_found' });
    }
    if (errors.length > 0) throw new UnprocessableError('the baseline cluster names unknown configuration', { errors });
  },
});

export const makeHandler = (deps: () => ApiDeps) => routeGroup(onboardingRuleRoutes, deps);
export const handler = makeHandler(awsApiDeps);
