/** GET /openapi.json — public; built once per container from the validating schemas. */
import { buildOpenApi } from '../../shared/http/openapi.ts';
import { ok, type Route, routeGroup } from '../../shared/http/api.ts';
import { type ApiDeps, awsApiDeps } from './deps.ts';

let document: Record<string, unknown> | undefined;

export const openApiRoutes: Record<string, Route<ApiDeps>> = {
  'GET /openapi.json': async () => {
    document ??= buildOpenApi();
    return ok(document, { 'cache-control': 'public, max-age=300' });
  },
};

export const makeHandler = (deps: () => ApiDeps) => routeGroup(openApiRoutes, deps, { publicRoutes: ['GET /openapi.json'] });
export const handler = makeHandler(awsApiDeps);
