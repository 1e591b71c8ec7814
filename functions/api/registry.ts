/**
 * Every route group's handler, built over one set of dependencies: what the local runtime and the API
 * tests serve. (In AWS each group is its own Lambda function whose `handler` builds the same from the
 * environment.)
 */
import type { ApiHandler } from '../../shared/http/api.ts';
import { RouteGroup } from '../../shared/http/routes.ts';
import type { KubeClient } from '../../shared/capi/client.ts';
import { makeHandler as accounts } from './accounts.ts';
import { makeHandler as cloudAccesses } from './cloud-accesses.ts';
import { makeHandler as clusterPlans } from './cluster-plans.ts';
import { makeHandler as clusters } from './clusters.ts';
import { makeHandler as computeTemplates } from './compute-templates.ts';
import type { ApiDeps } from './deps.ts';
import { DEFAULT_KUBECONFIG_TTL, type KubeconfigDeps, type KubeconfigTtl, makeHandler as kubeconfig } from './kubeconfig.ts';
import { makeHandler as me } from './me.ts';
import { makeHandler as networkPlans } from './network-plans.ts';
import { makeHandler as onboardingRules } from './onboarding-rules.ts';
import { makeHandler as openapi } from './openapi.ts';
import { makeHandler as packages } from './packages.ts';
import { makeHandler as policies } from './policies.ts';
import { makeHandler as workspaces } from './workspaces.ts';

/** Raised by the kubeconfig route when the runtime was built without a management cluster. */
export class ManagementClusterUnavailableError extends Error {
  override readonly name = 'ManagementClusterUnavailableError';
}

export function buildApiHandlers(deps: ApiDeps & { management?: () => Promise<KubeClient>; kubeconfigTtl?: KubeconfigTtl }): Record<RouteGroup, ApiHandler> {
  const d = () => deps;
  const withManagement = (): KubeconfigDeps => ({
    ...deps,
    kubeconfigTtl: deps.kubeconfigTtl ?? DEFAULT_KUBECONFIG_TTL,
    management:
      deps.management ??
      (async () => {
        throw new ManagementClusterUnavailableError('no management cluster is configured');
      }),
  });
  return {
    [RouteGroup.me]: me(d),
    [RouteGroup.cloudAccesses]: cloudAccesses(d),
    [RouteGroup.networkPlans]: networkPlans(d),
    [RouteGroup.clusterPlans]: clusterPlans(d),
    [RouteGroup.computeTemplates]: computeTemplates(d),
    [RouteGroup.packages]: packages(d),
    [RouteGroup.policies]: policies(d),
    [RouteGroup.workspaces]: workspaces(d),
    [RouteGroup.clusters]: clusters(d),
    [RouteGroup.kubeconfig]: kubeconfig(withManagement),
    [RouteGroup.onboardingRules]: onboardingRules(d),
    [RouteGroup.accounts]: accounts(d),
    [RouteGroup.openapi]: openapi(d),
  };
}
