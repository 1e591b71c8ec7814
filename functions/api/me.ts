/** GET /v1/me — who the caller is to Slipway: principals, admin flag, workspaces. */
import { ok, type Route, routeGroup } from '../../shared/http/api.ts';
import { type ApiDeps, awsApiDeps } from './deps.ts';

export const meRoutes: Record<string, Route<ApiDeps>> = {
  'GET /v1/me': async (req, deps) => {
    const workspaces = await deps.stores.workspaces.membershipsOf(req.caller.principals);
    return ok({
      principal: req.caller.principal,
      principals: req.caller.principals,
      email: req.caller.email,
      admin: req.caller.isAdmin,
      workspaces,
    });
  },
};

export const makeHandler = (deps: () => ApiDeps) => routeGroup(meRoutes, deps);
export const handler = makeHandler(awsApiDeps);
