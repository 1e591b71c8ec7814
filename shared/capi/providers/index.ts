/**
 * Installing the CAPI providers into a cluster — the `clusterctl init` equivalent (README.md of shared/capi):
 * the catalog of what is installed, where components come from, how they are prepared, and the reconcile.
 */
export {
  CAAPH_VERSION,
  CAPA_VERSION,
  CAPI_VERSION,
  CERT_MANAGER,
  CERT_MANAGER_VERSION,
  type CertManagerSpec,
  type ComponentSetSpec,
  type InfrastructureProvider,
  PROVIDERS,
  type ProviderLabel,
  type ProviderSpec,
  type ProviderType,
  providerSet,
  SIM_PROVIDER_VERSION,
} from './catalog.ts';
export { type ComponentSet, certManagerComponents, CONTROL_PLANE_TOLERATIONS, parseComponents, providerComponents, tolerateControlPlane } from './components.ts';
export {
  type FetchFailure,
  ProviderComponentsFetchError,
  ProviderComponentsInvalidError,
  ProviderSourceError,
  ProviderVariablesMissingError,
} from './errors.ts';
export { type ComponentsFetcher, type ComponentsFetcherOptions, createComponentsFetcher, defaultComponentsFetcher } from './fetch.ts';
export { compareVersions, INVENTORY_API, type InstalledProvider, inventoryCrd, inventoryObject, readInventory } from './inventory.ts';
export {
  AWS_NO_STATIC_CREDENTIALS,
  type ProviderInstallOptions,
  type ProviderStage,
  type ProviderStatus,
  providerStatus,
  providerVariables,
  reconcileProviders,
  SLIPWAY_VARIABLES,
  statusMessage,
} from './reconcile.ts';
export { componentsUrl, type ProviderSource } from './source.ts';
export { substituteVariables, type TemplateVariable, templateVariables } from './variables.ts';
