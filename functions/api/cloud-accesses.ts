/** /v1/cloud-accesses — the accounts Slipway may provision into. Admins only. */
import { requireAdmin } from '../../shared/auth/authorize.ts';
import { CreateCloudAccessBody } from '../../shared/domain/schemas.ts';
import { InUseError, NotFoundError } from '../../shared/errors.ts';
import { created, noContent, ok, pageParams, parseWith, type Route, routeGroup } from '../../shared/http/api.ts';
import { listAll } from '../../shared/store/paging.ts';
import { type ApiDeps, awsApiDeps } from './deps.ts';

export const cloudAccessRoutes: Record<string, Route<ApiDeps>> = {
  'POST /v1/cloud-accesses': async (req, deps) => {
    requireAdmin(req.caller);
    const body = parseWith(CreateCloudAccessBody, req.body);
    // A simulated account has nothing to assume; an AWS one is verified by the onboarding workflow
    // (sts:AssumeRole with the external id), until then it stays Pending.
    const verification =
      body.provider === 'sim'
        ? { status: 'Verified' as const, lastVerifiedAt: deps.clock().toISOString(), message: 'simulated provider: nothing to assume' }
        : { status: 'Pending' as const };
    const access = await deps.stores.cloudAccesses.create({ ...body, verification }, { principal: req.caller.principal });
    return created(access, `/v1/cloud-accesses/${access.id}`);
  },
  'GET /v1/cloud-accesses': async (req, deps) => {
    requireAdmin(req.caller);
    return ok(await deps.stores.cloudAccesses.list(pageParams(req.query)));
  },
  'GET /v1/cloud-accesses/{id}': async (req, deps) => {
    requireAdmin(req.caller);
    const id = req.params.id ?? '';
    const access = await deps.stores.cloudAccesses.get(id);
    if (!access) throw new NotFoundError(`cloud access ${id} not found`);
    return ok(access);
  },
  'DELETE /v1/cloud-accesses/{id}': async (req, deps) => {
    requireAdmin(req.caller);
    const id = req.params.id ?? '';
    // Clusters in a workspace reach their account through this access: keep it while any workspace uses it.
    const workspaces = await listAll((page) => deps.stores.workspaces.list(page));
    const users = workspaces.filter((w) => w.cloudAccessIds.includes(id)).map((w) => w.id);
    if (users.length > 0) throw new InUseError(`cloud access ${id} is allowed in workspace(s) ${users.join(', ')}`);
    await deps.stores.cloudAccesses.delete(id, { principal: req.caller.principal });
    return noContent();
  },
};

export const makeHandler = (deps: () => ApiDeps) => routeGroup(cloudAccessRoutes, deps);
export const handler = makeHandler(awsApiDeps);
