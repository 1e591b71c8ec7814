/** /v1/accounts — vended AWS accounts and how their onboarding went (lists summarise). Admins only; read-only. */
import { requireAdmin } from '../../shared/auth/authorize.ts';
import { summariseAccount } from '../../shared/domain/onboarding.ts';
import { AwsAccountId } from '../../shared/domain/schemas.ts';
import { NotFoundError } from '../../shared/errors.ts';
import { ok, pageParams, parseWith, type Route, routeGroup } from '../../shared/http/api.ts';
import { type ApiDeps, awsApiDeps } from './deps.ts';

export const accountRoutes: Record<string, Route<ApiDeps>> = {
  'GET /v1/accounts': async (req, deps) => {
    requireAdmin(req.caller);
    const page = await deps.stores.accounts.list(pageParams(req.query));
    return ok({ items: page.items.map(summariseAccount), nextToken: page.nextToken });
  },
  'GET /v1/accounts/{accountId}': async (req, deps) => {
    requireAdmin(req.caller);
    const accountId = parseWith(AwsAccountId, req.params.accountId, 'accountId');
    const account = await deps.stores.accounts.get(accountId);
    if (!account) throw new NotFoundError(`account ${accountId} not found`);
    return ok(account);
  },
};

export const makeHandler = (deps: () => ApiDeps) => routeGroup(accountRoutes, deps);
export const handler = makeHandler(awsApiDeps);
