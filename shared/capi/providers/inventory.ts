/**
 * clusterctl's provider inventory: one `clusterctl.cluster.x-k8s.io/v1alpha3` Provider per installed provider,
 * in its namespace, named by its label, recording type, providerName and version. `clusterctl move` and
 * upgrades read it, and Slipway's installer reads it to know what is already applied. clusterctl installs the
 * inventory's CRD itself (it ships with no provider): so does Slipway.
 */
import type { KubeClient } from '../client.ts';
import { KubeKindNotServedError } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import type { ProviderSpec } from './catalog.ts';

export const INVENTORY_API = 'clusterctl.cluster.x-k8s.io/v1alpha3';
const INVENTORY_GROUP = 'clusterctl.cluster.x-k8s.io';

/** A Provider inventory object as read back. */
export interface InstalledProvider {
  /** Object name: the provider's label. */
  label: string;
  namespace: string;
  type: string;
  providerName: string;
  version: string;
}

/** The Provider kind's CRD (a structural schema of the fields clusterctl writes). */
export function inventoryCrd(): KubeObject {
  const text = { type: 'string' };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `providers.${INVENTORY_GROUP}`,
      labels: { 'clusterctl.cluster.x-k8s.io': '', 'clusterctl.cluster.x-k8s.io/core': 'inventory' },
    },
    spec: {
      group: INVENTORY_GROUP,
      names: { kind: 'Provider', listKind: 'ProviderList', plural: 'providers', singular: 'provider', categories: ['cluster-api'] },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1alpha3',
          served: true,
          storage: true,
          additionalPrinterColumns: [
            { name: 'Type', type: 'string', jsonPath: '.type' },
            { name: 'Provider', type: 'string', jsonPath: '.providerName' },
            { name: 'Version', type: 'string', jsonPath: '.version' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                apiVersion: text,
                kind: text,
                metadata: { type: 'object' },
                providerName: text,
                type: text,
                version: text,
                watchedNamespace: text,
              },
            },
          },
        },
      ],
    },
  };
}

/** The inventory object of a provider installed in `namespace`. */
export function inventoryObject(spec: ProviderSpec, namespace: string): KubeObject {
  return {
    apiVersion: INVENTORY_API,
    kind: 'Provider',
    metadata: {
      name: spec.label,
      namespace,
      labels: { 'clusterctl.cluster.x-k8s.io': '', 'clusterctl.cluster.x-k8s.io/core': 'inventory', 'cluster.x-k8s.io/provider': spec.label },
    },
    providerName: spec.providerName,
    type: spec.type,
    version: spec.version,
  };
}

/** Every Provider inventory object of the cluster (none when the inventory CRD is not installed yet). */
export async function readInventory(client: KubeClient): Promise<InstalledProvider[]> {
  let items: KubeObject[];
  try {
    items = await client.list(INVENTORY_API, 'Provider');
  } catch (err) {
    if (err instanceof KubeKindNotServedError) return [];
    throw err;
  }
  return items.map((o) => ({
    label: o.metadata.name,
    namespace: o.metadata.namespace ?? '',
    type: str(o.type),
    providerName: str(o.providerName),
    version: str(o.version),
  }));
}

/**
 * Orders two `vMAJOR.MINOR.PATCH[-pre][+build]` versions (negative when `a` is older). A pre-release is older
 * than its release; pre-release identifiers compare numerically when both are numbers. Unparseable versions
 * sort before everything, so that they are replaced.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (pa === null || pb === null) return pa === pb ? 0 : pa === null ? -1 : 1;
  for (let i = 0; i < 3; i++) {
    const d = (pa.core[i] ?? 0) - (pb.core[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (pa.pre.length === 0 || pb.pre.length === 0) return pa.pre.length === pb.pre.length ? 0 : pa.pre.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.max(pa.pre.length, pb.pre.length); i++) {
    const x = pa.pre[i];
    const y = pb.pre[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x) ? Number(x) : Number.NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : Number.NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) return Math.sign(nx - ny);
    if (!Number.isNaN(nx) || !Number.isNaN(ny)) return Number.isNaN(nx) ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function parseVersion(v: string): { core: number[]; pre: string[] } | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v.trim());
  if (m === null) return null;
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] === undefined ? [] : m[4].split('.') };
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

