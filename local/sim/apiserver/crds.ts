/**
 * CustomResourceDefinition objects for the custom kinds the simulator serves, shaped and labelled as clusterctl
 * leaves them (`clusterctl.cluster.x-k8s.io` and `cluster.x-k8s.io/provider`), so that code discovering types
 * the way `clusterctl move` does — listing CRDs by label — finds them. Schemas are permissive
 * (`x-kubernetes-preserve-unknown-fields`): the simulator does not prune or validate against OpenAPI.
 */
import type { KindInfo } from './kinds.ts';
import { KINDS } from './kinds.ts';
import type { KubeObject } from './types.ts';

/** The name a real CRD must have for a kind: `<plural>.<group>`. */
export function crdName(info: Pick<KindInfo, 'plural' | 'group'>): string {
  return `${info.plural}.${info.group}`;
}

export function crdFor(info: KindInfo): KubeObject {
  const labels: Record<string, string> = { 'clusterctl.cluster.x-k8s.io': '' };
  // clusterctl marks its own inventory CRD and the cert-manager it installs as "core" components, not providers.
  if (info.provider === 'inventory' || info.provider === 'cert-manager') labels['clusterctl.cluster.x-k8s.io/core'] = info.provider;
  else if (info.provider !== undefined) {
    labels['cluster.x-k8s.io/provider'] = info.provider;
    // The contract label CAPI reads to pick the version of a provider's kind for a given contract.
    labels['cluster.x-k8s.io/v1beta2'] = info.versions[0] ?? 'v1beta2';
  }
  const names: Record<string, unknown> = { kind: info.kind, listKind: `${info.kind}List`, plural: info.plural, singular: info.singular };
  if (info.shortNames) names.shortNames = [...info.shortNames];
  if (info.group.endsWith('cluster.x-k8s.io')) names.categories = ['cluster-api'];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(info), labels },
    spec: {
      group: info.group,
      names,
      scope: info.namespaced ? 'Namespaced' : 'Cluster',
      versions: info.versions.map((v, i) => ({
        name: v,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        ...(info.statusSubresource ? { subresources: { status: {} } } : {}),
      })),
    },
  };
}

/** CRDs of the registry's custom kinds, optionally only those of some providers (`cluster-api`, `inventory`, `cert-manager`, …). */
export function crdsFor(providers?: readonly string[], kinds: readonly KindInfo[] = KINDS): KubeObject[] {
  return kinds.filter((k) => k.custom && (providers === undefined || (k.provider !== undefined && providers.includes(k.provider)))).map(crdFor);
}
