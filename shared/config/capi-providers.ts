/**
 * The properties of the CAPI-providers custom resource, one schema for the CDK construct (infra/capi-providers.ts)
 * and the handlers (functions/custom-resources/). CloudFormation hands every property over as a string, so the
 * schema's input is strings and its output the typed options.
 *
 * Every property is part of what CloudFormation compares: a changed provider version, mirror or option makes
 * it send Update, and the handler reconciles again (an upgrade is a re-apply of the newer components).
 */
import * as z from 'zod';

export const CAPI_PROVIDERS_RESOURCE_TYPE = 'Custom::SlipwayCapiProviders';

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

export const CapiProvidersProperties = z.object({
  /**
   * The infrastructure provider: the stack always writes `aws` (CAPA: Slipway's cloud accesses are AWS roles);
   * `sim` is the simulator's provider, so the handlers can be run against the simulator's release repository.
   */
  Infrastructure: z.enum(['aws', 'sim']),
  /** CAAPH (Helm add-ons) as well. */
  AddonHelm: flag,
  /** Base URL of a mirror in clusterctl's layout; absent: the providers' upstream GitHub releases. */
  ProviderRepository: z.url({ protocol: /^https$/ }).optional(),
  /**
   * The provider versions the stack was synthesised with, as JSON (`{"cluster-api":"v1.14.0",...}`): carried
   * so that a newer catalog changes the resource and CloudFormation sends Update.
   */
  Versions: z.string().min(2),
});
export type CapiProvidersProperties = z.output<typeof CapiProvidersProperties>;
/** What the construct writes (CloudFormation stringifies anyway; the construct passes strings). */
export type CapiProvidersPropertiesInput = z.input<typeof CapiProvidersProperties>;

export class CapiProvidersPropertiesError extends Error {
  override readonly name = 'CapiProvidersPropertiesError';
}

export function parseCapiProvidersProperties(raw: unknown): CapiProvidersProperties {
  const result = CapiProvidersProperties.safeParse(raw);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new CapiProvidersPropertiesError(`invalid ${CAPI_PROVIDERS_RESOURCE_TYPE} properties: ${fields}`);
  }
  return result.data;
}
