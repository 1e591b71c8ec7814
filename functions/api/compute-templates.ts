/** /v1/compute-templates — admins write; anyone in a workspace reads. */
import { CreateComputeTemplateBody, UpdateComputeTemplateBody } from '../../shared/domain/schemas.ts';
import { routeGroup } from '../../shared/http/api.ts';
import { configRoutes } from './config-routes.ts';
import { type ApiDeps, awsApiDeps } from './deps.ts';

// Clusters keep the pools they were created with, so a template can change or go without touching them.
export const computeTemplateRoutes = configRoutes({
  basePath: '/v1/compute-templates',
  noun: 'compute template',
  collection: (d) => d.stores.computeTemplates,
  createSchema: CreateComputeTemplateBody,
  updateSchema: UpdateComputeTemplateBody,
  readers: 'members',
});

export const makeHandler = (deps: () => ApiDeps) => routeGroup(computeTemplateRoutes, deps);
export const handler = makeHandler(awsApiDeps);
