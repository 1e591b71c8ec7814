/** /v1/network-plans — admins write; anyone in a workspace reads (plans show what network a cluster gets). */
import { CreateNetworkPlanBody, UpdateNetworkPlanBody } from '../../shared/domain/schemas.ts';
import { InUseError } from '../../shared/errors.ts';
import { routeGroup } from '../../shared/http/api.ts';
import { listAll } from '../../shared/store/paging.ts';
import { configRoutes } from './config-routes.ts';
import { type ApiDeps, awsApiDeps } from './deps.ts';

export const networkPlanRoutes = configRoutes({
  basePath: '/v1/network-plans',
  noun: 'network plan',
  collection: (d) => d.stores.networkPlans,
  createSchema: CreateNetworkPlanBody,
  updateSchema: UpdateNetworkPlanBody,
  readers: 'members',
  beforeDelete: async (id, deps) => {
    // A plan whose latest revision uses this network could no longer provision.
    const plans = await listAll((page) => deps.stores.clusterPlans.list(page));
    const users = plans.filter((p) => p.networkPlanId === id).map((p) => p.id);
    if (users.length > 0) throw new InUseError(`network plan ${id} is used by cluster plan(s) ${users.join(', ')}`);
  },
});

export const makeHandler = (deps: () => ApiDeps) => routeGroup(networkPlanRoutes, deps);
export const handler = makeHandler(awsApiDeps);
