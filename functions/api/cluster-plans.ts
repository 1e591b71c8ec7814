/** /v1/cluster-plans — versioned plans; every change is a new immutable revision. Admins write, members read. */
import { requireAdmin, requireReader } from '../../shared/auth/authorize.ts';
import { type ClusterPlanSpec, ClusterPlanRevisionBody, CreateClusterPlanBody } from '../../shared/domain/schemas.ts';
import { type FieldError, NotFoundError, UnprocessableError, ValidationError } from '../../shared/errors.ts';
import { created, ok, pageParams, parseWith, type Route, routeGroup } from '../../shared/http/api.ts';
import { type ApiDeps, awsApiDeps } from './deps.ts';

export const clusterPlanRoutes: Record<string, Route<ApiDeps>> = {
  'POST /v1/cluster-plans': async (req, deps) => {
    requireAdmin(req.caller);
    const { id, ...spec } = parseWith(CreateClusterPlanBody, req.body);
    await checkReferences(spec, deps);
    const plan = await deps.stores.clusterPlans.create(id, spec, { principal: req.caller.principal });
    return created(plan, `/v1/cluster-plans/${id}`);
  },
  'GET /v1/cluster-plans': async (req, deps) => {
    await requireReader(req.caller, deps.stores.workspaces);
    return ok(await deps.stores.clusterPlans.list(pageParams(req.query)));
  },
  'GET /v1/cluster-plans/{id}': async (req, deps) => {
    await requireReader(req.caller, deps.stores.workspaces);
    const id = req.params.id ?? '';
    const plan = await deps.stores.clusterPlans.get(id);
    if (!plan) throw new NotFoundError(`cluster plan ${id} not found`);
    return ok(plan);
  },
  'POST /v1/cluster-plans/{id}/revisions': async (req, deps) => {
    requireAdmin(req.caller);
    const id = req.params.id ?? '';
    const spec = parseWith(ClusterPlanRevisionBody, req.body);
    if (!(await deps.stores.clusterPlans.get(id))) throw new NotFoundError(`cluster plan ${id} not found`);
    await checkReferences(spec, deps);
    const revision = await deps.stores.clusterPlans.addRevision(id, spec, { principal: req.caller.principal });
    return created(revision, `/v1/cluster-plans/${id}/revisions/${revision.revision}`);
  },
  'GET /v1/cluster-plans/{id}/revisions': async (req, deps) => {
    await requireReader(req.caller, deps.stores.workspaces);
    const id = req.params.id ?? '';
    if (!(await deps.stores.clusterPlans.get(id))) throw new NotFoundError(`cluster plan ${id} not found`);
    return ok(await deps.stores.clusterPlans.listRevisions(id, pageParams(req.query)));
  },
  'GET /v1/cluster-plans/{id}/revisions/{rev}': async (req, deps) => {
    await requireReader(req.caller, deps.stores.workspaces);
    const id = req.params.id ?? '';
    const rev = Number(req.params.rev);
    if (!Number.isInteger(rev) || rev < 1) throw new ValidationError('revision must be a positive integer', { errors: [{ field: 'rev', message: 'positive integer' }] });
    const revision = await deps.stores.clusterPlans.getRevision(id, rev);
    if (!revision) throw new NotFoundError(`cluster plan ${id} revision ${rev} not found`);
    return ok(revision);
  },
};

/** A plan must only name things that exist: its network plan and every package version. */
async function checkReferences(spec: ClusterPlanSpec, deps: ApiDeps): Promise<void> {
  const errors: FieldError[] = [];
  if (!(await deps.stores.networkPlans.get(spec.networkPlanId))) {
    errors.push({ field: 'networkPlanId', message: `network plan ${spec.networkPlanId} does not exist`, code: 'reference.not_found' });
  }
  const found = await Promise.all(spec.packages.map((p) => deps.stores.packages.get(p.name, p.version)));
  found.forEach((pkg, i) => {
    const ref = spec.packages[i];
    if (!pkg && ref) errors.push({ field: `packages[${i}]`, message: `package ${ref.name}@${ref.version} does not exist`, code: 'reference.not_found' });
  });
  if (errors.length > 0) throw new UnprocessableError('the plan references things that do not exist', { errors });
}

export const makeHandler = (deps: () => ApiDeps) => routeGroup(clusterPlanRoutes, deps);
export const handler = makeHandler(awsApiDeps);
