/** /v1/policies — provisioning policies, admins only. */
import { CreatePolicyBody, UpdatePolicyBody } from '../../shared/domain/schemas.ts';
import { UnprocessableError } from '../../shared/errors.ts';
import { routeGroup } from '../../shared/http/api.ts';
import { configRoutes } from './config-routes.ts';
import { type ApiDeps, awsApiDeps } from './deps.ts';

export const policyRoutes = configRoutes({
  basePath: '/v1/policies',
  noun: 'policy',
  collection: (d) => d.stores.policies,
  createSchema: CreatePolicyBody,
  updateSchema: UpdatePolicyBody,
  readers: 'admins',
  validate: async (policy, deps) => {
    if (policy.workspaceId !== null && !(await deps.stores.workspaces.get(policy.workspaceId))) {
      throw new UnprocessableError(`workspace ${policy.workspaceId} does not exist`, {
        errors: [{ field: 'workspaceId', message: 'unknown workspace', code: 'reference.not_found' }],
      });
    }
  },
});

export const makeHandler = (deps: () => ApiDeps) => routeGroup(policyRoutes, deps);
export const handler = makeHandler(awsApiDeps);
