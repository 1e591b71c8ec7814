/** /v1/packages — add-ons by name@version (immutable). Admins write; anyone in a workspace reads. */
import { requireAdmin, requireReader } from '../../shared/auth/authorize.ts';
import { CreatePackageBody, SemVer } from '../../shared/domain/schemas.ts';
import { NotFoundError } from '../../shared/errors.ts';
import { created, ok, pageParams, parseWith, type Route, routeGroup } from '../../shared/http/api.ts';
import { type ApiDeps, awsApiDeps } from './deps.ts';

export const packageRoutes: Record<string, Route<ApiDeps>> = {
  'POST /v1/packages': async (req, deps) => {
    requireAdmin(req.caller);
    const body = parseWith(CreatePackageBody, req.body);
    const pkg = await deps.stores.packages.create(body, { principal: req.caller.principal });
    return created(pkg, `/v1/packages/${pkg.name}/${pkg.version}`);
  },
  'GET /v1/packages': async (req, deps) => {
    await requireReader(req.caller, deps.stores.workspaces);
    return ok(await deps.stores.packages.list(pageParams(req.query)));
  },
  'GET /v1/packages/{name}/{version}': async (req, deps) => {
    await requireReader(req.caller, deps.stores.workspaces);
    const name = req.params.name ?? '';
    const version = parseWith(SemVer, req.params.version, 'version');
    const pkg = await deps.stores.packages.get(name, version);
    if (!pkg) throw new NotFoundError(`package ${name}@${version} not found`);
    return ok(pkg);
  },
};

export const makeHandler = (deps: () => ApiDeps) => routeGroup(packageRoutes, deps);
export const handler = makeHandler(awsApiDeps);
