/**
 * Every HTTP route and the handler (route group) that serves it. The CDK API stack wires exactly these
 * routes to these functions, and the local HTTP adapter dispatches with the same table.
 */
export const RouteGroup = {
  me: 'me',
  cloudAccesses: 'cloud-accesses',
  networkPlans: 'network-plans',
  clusterPlans: 'cluster-plans',
  computeTemplates: 'compute-templates',
  packages: 'packages',
  policies: 'policies',
  workspaces: 'workspaces',
  clusters: 'clusters',
  /** Its own function: the only API route that talks to Kubernetes (kept out of the other bundles). */
  kubeconfig: 'kubeconfig',
  onboardingRules: 'onboarding-rules',
  accounts: 'accounts',
  openapi: 'openapi',
} as const;
export type RouteGroup = (typeof RouteGroup)[keyof typeof RouteGroup];

export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway HTTP API path syntax: `{param}`. */
  path: string;
  group: RouteGroup;
  /** Public routes skip the JWT authorizer. */
  public?: boolean;
}

const r = (method: RouteDef['method'], path: string, group: RouteGroup, pub = false): RouteDef =>
  pub ? { method, path, group, public: true } : { method, path, group };

export const ROUTES: readonly RouteDef[] = [
  r('GET', '/openapi.json', RouteGroup.openapi, true),
  r('GET', '/v1/me', RouteGroup.me),

  r('POST', '/v1/cloud-accesses', RouteGroup.cloudAccesses),
  r('GET', '/v1/cloud-accesses', RouteGroup.cloudAccesses),
  r('GET', '/v1/cloud-accesses/{id}', RouteGroup.cloudAccesses),
  r('DELETE', '/v1/cloud-accesses/{id}', RouteGroup.cloudAccesses),

  r('POST', '/v1/network-plans', RouteGroup.networkPlans),
  r('GET', '/v1/network-plans', RouteGroup.networkPlans),
  r('GET', '/v1/network-plans/{id}', RouteGroup.networkPlans),
  r('PUT', '/v1/network-plans/{id}', RouteGroup.networkPlans),
  r('DELETE', '/v1/network-plans/{id}', RouteGroup.networkPlans),

  r('POST', '/v1/cluster-plans', RouteGroup.clusterPlans),
  r('GET', '/v1/cluster-plans', RouteGroup.clusterPlans),
  r('GET', '/v1/cluster-plans/{id}', RouteGroup.clusterPlans),
  r('POST', '/v1/cluster-plans/{id}/revisions', RouteGroup.clusterPlans),
  r('GET', '/v1/cluster-plans/{id}/revisions', RouteGroup.clusterPlans),
  r('GET', '/v1/cluster-plans/{id}/revisions/{rev}', RouteGroup.clusterPlans),

  r('POST', '/v1/compute-templates', RouteGroup.computeTemplates),
  r('GET', '/v1/compute-templates', RouteGroup.computeTemplates),
  r('GET', '/v1/compute-templates/{id}', RouteGroup.computeTemplates),
  r('PUT', '/v1/compute-templates/{id}', RouteGroup.computeTemplates),
  r('DELETE', '/v1/compute-templates/{id}', RouteGroup.computeTemplates),

  r('POST', '/v1/packages', RouteGroup.packages),
  r('GET', '/v1/packages', RouteGroup.packages),
  r('GET', '/v1/packages/{name}/{version}', RouteGroup.packages),

  r('POST', '/v1/policies', RouteGroup.policies),
  r('GET', '/v1/policies', RouteGroup.policies),
  r('GET', '/v1/policies/{id}', RouteGroup.policies),
  r('PUT', '/v1/policies/{id}', RouteGroup.policies),
  r('DELETE', '/v1/policies/{id}', RouteGroup.policies),

  r('POST', '/v1/workspaces', RouteGroup.workspaces),
  r('GET', '/v1/workspaces', RouteGroup.workspaces),
  r('GET', '/v1/workspaces/{ws}', RouteGroup.workspaces),
  r('DELETE', '/v1/workspaces/{ws}', RouteGroup.workspaces),
  r('PUT', '/v1/workspaces/{ws}/members/{principal}', RouteGroup.workspaces),
  r('DELETE', '/v1/workspaces/{ws}/members/{principal}', RouteGroup.workspaces),

  r('POST', '/v1/workspaces/{ws}/clusters', RouteGroup.clusters),
  r('GET', '/v1/workspaces/{ws}/clusters', RouteGroup.clusters),
  r('GET', '/v1/workspaces/{ws}/clusters/{name}', RouteGroup.clusters),
  r('PATCH', '/v1/workspaces/{ws}/clusters/{name}', RouteGroup.clusters),
  r('DELETE', '/v1/workspaces/{ws}/clusters/{name}', RouteGroup.clusters),
  r('GET', '/v1/workspaces/{ws}/clusters/{name}/events', RouteGroup.clusters),
  r('GET', '/v1/workspaces/{ws}/clusters/{name}/kubeconfig', RouteGroup.kubeconfig),

  r('POST', '/v1/onboarding-rules', RouteGroup.onboardingRules),
  r('GET', '/v1/onboarding-rules', RouteGroup.onboardingRules),
  r('GET', '/v1/onboarding-rules/{id}', RouteGroup.onboardingRules),
  r('PUT', '/v1/onboarding-rules/{id}', RouteGroup.onboardingRules),
  r('DELETE', '/v1/onboarding-rules/{id}', RouteGroup.onboardingRules),

  r('GET', '/v1/accounts', RouteGroup.accounts),
  r('GET', '/v1/accounts/{accountId}', RouteGroup.accounts),
  r('POST', '/v1/accounts/{accountId}/retry', RouteGroup.accounts),
];

/** API Gateway v2 route key, e.g. `GET /v1/me`. */
export const routeKey = (route: Pick<RouteDef, 'method' | 'path'>): string => `${route.method} ${route.path}`;
