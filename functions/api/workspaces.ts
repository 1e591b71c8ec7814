/**
 * /v1/workspaces and their members. Admins create, list and delete workspaces; members read their own;
 * owners (and admins) manage members.
 */
import { requireAdmin, roleIn } from '../../shared/auth/authorize.ts';
import { CreateWorkspaceBody, Principal, PutMemberBody } from '../../shared/domain/schemas.ts';
import { ForbiddenError, NotFoundError, UnprocessableError } from '../../shared/errors.ts';
import { type ApiRequest, created, noContent, ok, pageParams, parseWith, type Route, routeGroup } from '../../shared/http/api.ts';
import { type ApiDeps, awsApiDeps } from './deps.ts';

export const workspaceRoutes: Record<string, Route<ApiDeps>> = {
  'POST /v1/workspaces': async (req, deps) => {
    requireAdmin(req.caller);
    const body = parseWith(CreateWorkspaceBody, req.body);
    const accesses = await Promise.all(body.cloudAccessIds.map((id) => deps.stores.cloudAccesses.get(id)));
    const errors = body.cloudAccessIds
      .map((id, i) => (accesses[i] ? null : { field: `cloudAccessIds[${i}]`, message: `cloud access ${id} does not exist`, code: 'reference.not_found' }))
      .filter((e) => e !== null);
    if (errors.length > 0) throw new UnprocessableError('the workspace references cloud accesses that do not exist', { errors });
    const ws = await deps.stores.workspaces.create(body, { principal: req.caller.principal });
    return created(ws, `/v1/workspaces/${ws.id}`);
  },
  'GET /v1/workspaces': async (req, deps) => {
    if (req.caller.isAdmin) return ok(await deps.stores.workspaces.list(pageParams(req.query)));
    // Everyone else sees the workspaces they belong to (one Query per principal, no Scan).
    const memberships = await deps.stores.workspaces.membershipsOf(req.caller.principals);
    const items = (await Promise.all(memberships.map((m) => deps.stores.workspaces.get(m.id)))).filter((w) => w !== null);
    return ok({ items, nextToken: null });
  },
  'GET /v1/workspaces/{ws}': async (req, deps) => {
    const ws = await visibleWorkspace(req, deps);
    return ok(ws);
  },
  'DELETE /v1/workspaces/{ws}': async (req, deps) => {
    if (!req.caller.isAdmin) {
      // Members learn they may not; everyone else learns nothing.
      if (await roleIn(req.caller, req.params.ws ?? '', deps.stores.workspaces)) requireAdmin(req.caller);
      throw new NotFoundError(`workspace ${req.params.ws ?? ''} not found`);
    }
    await deps.stores.workspaces.delete(req.params.ws ?? '', { principal: req.caller.principal });
    return noContent();
  },
  'PUT /v1/workspaces/{ws}/members/{principal}': async (req, deps) => {
    const wsId = await requireOwner(req, deps);
    const principal = parseWith(Principal, req.params.principal, 'principal');
    const { role } = parseWith(PutMemberBody, req.body);
    return ok(await deps.stores.workspaces.putMember(wsId, { principal, role }, { principal: req.caller.principal }));
  },
  'DELETE /v1/workspaces/{ws}/members/{principal}': async (req, deps) => {
    const wsId = await requireOwner(req, deps);
    const principal = parseWith(Principal, req.params.principal, 'principal');
    await deps.stores.workspaces.removeMember(wsId, principal, { principal: req.caller.principal });
    return noContent();
  },
};

async function visibleWorkspace(req: ApiRequest, deps: ApiDeps) {
  const id = req.params.ws ?? '';
  if (!req.caller.isAdmin && !(await roleIn(req.caller, id, deps.stores.workspaces))) throw new NotFoundError(`workspace ${id} not found`);
  const ws = await deps.stores.workspaces.get(id);
  if (!ws) throw new NotFoundError(`workspace ${id} not found`);
  return ws;
}

/** Admins and owners manage members; a plain member gets 403, a stranger 404. */
async function requireOwner(req: ApiRequest, deps: ApiDeps): Promise<string> {
  const id = req.params.ws ?? '';
  if (req.caller.isAdmin) {
    if (!(await deps.stores.workspaces.get(id))) throw new NotFoundError(`workspace ${id} not found`);
    return id;
  }
  const role = await roleIn(req.caller, id, deps.stores.workspaces);
  if (!role) throw new NotFoundError(`workspace ${id} not found`);
  if (role !== 'owner') throw new ForbiddenError('only owners and admins manage members');
  return id;
}

export const makeHandler = (deps: () => ApiDeps) => routeGroup(workspaceRoutes, deps);
export const handler = makeHandler(awsApiDeps);
