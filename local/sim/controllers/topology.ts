/**
 * The topology part of CAPI's Cluster reconciliation (ClusterTopology feature gate): from a ClusterClass and
 * `Cluster.spec.topology`, the InfraCluster, the KubeadmControlPlane, the MachineDeployments and copies of the
 * class's machine templates, all written with server-side apply under one field manager. Version changes go to
 * the control plane first and to the workers only once the control plane runs the new version everywhere;
 * template changes (class rebase) rotate the template copies, which makes KCP and MachineDeployments roll.
 */
import { API_BOOTSTRAP, API_CORE, API_CP, API_INFRA, GROUP_BOOTSTRAP, GROUP_INFRA } from '../classes.ts';
import type { Client } from './client.ts';
import type { SimContext } from './context.ts';
import { compareVersions, generateName, parseVersion } from './naming.ts';
import type { Cluster, ClusterClass, Condition, KObject, KubeadmControlPlane, MachineDeployment, Template, TemplateRef } from './types.ts';
import {
  A_TEMPLATE_CLONED_FROM,
  canonicalEqual,
  A_TEMPLATE_CLONED_FROM_KIND,
  cond,
  copy,
  groupOf,
  L_CLUSTER_NAME,
  L_TOPOLOGY_MD_NAME,
  L_TOPOLOGY_OWNED,
  ownerRef,
} from './util.ts';

const FIELD_MANAGER = 'capi-topology';

export interface TopologyOutcome {
  condition: Omit<Condition, 'lastTransitionTime'>;
  /** Cluster spec fields the topology controller sets (refs to the objects it created). */
  specPatch?: Record<string, unknown>;
}

export class TopologyValidationError extends Error {
  override name = 'TopologyValidationError';
}

/** Webhook-equivalent checks CAPI runs on a topology change; violations block reconciliation with a reason. */
export function validateTopology(cluster: Cluster, currentVersion: string | undefined): void {
  const t = cluster.spec?.topology;
  if (t === undefined) return;
  if (t.version === undefined || parseVersion(t.version) === undefined) {
    throw new TopologyValidationError(`spec.topology.version: Invalid value: "${t.version ?? ''}": must be a valid semantic version`);
  }
  const replicas = t.controlPlane?.replicas;
  if (replicas !== undefined && (replicas < 1 || replicas % 2 === 0)) {
    throw new TopologyValidationError(
      `spec.topology.controlPlane.replicas: Forbidden: cannot be an even number when etcd is stacked (got ${replicas})`,
    );
  }
  if (currentVersion !== undefined) {
    if (compareVersions(t.version, currentVersion) < 0) {
      throw new TopologyValidationError(
        `spec.topology.version: Invalid value: "${t.version}": version cannot be decreased from "${currentVersion}"`,
      );
    }
    const from = parseVersion(currentVersion);
    const to = parseVersion(t.version);
    if (from !== undefined && to !== undefined && (to[0] !== from[0] || to[1] - from[1] > 1)) {
      throw new TopologyValidationError(
        `spec.topology.version: Forbidden: version cannot be increased from "${currentVersion}" to "${t.version}": skipping minor versions is not allowed`,
      );
    }
  }
  const names = new Set<string>();
  for (const md of t.workers?.machineDeployments ?? []) {
    if (names.has(md.name)) throw new TopologyValidationError(`spec.topology.workers.machineDeployments: Duplicate value: "${md.name}"`);
    names.add(md.name);
  }
}

function templateSpec(t: Template): Record<string, unknown> {
  return (t.spec?.template?.spec ?? {}) as Record<string, unknown>;
}

async function getTemplate(client: Client, ref: TemplateRef | undefined, namespace: string, what: string): Promise<Template> {
  if (ref === undefined) throw new TopologyValidationError(`ClusterClass has no ${what} template`);
  const t = await client.get<Template>(ref.apiVersion, ref.kind, ref.name, namespace);
  if (t === undefined) throw new TopologyValidationError(`${ref.kind} ${namespace}/${ref.name} (${what}) not found`);
  return t;
}

/**
 * A template copy for the cluster: the existing one when its spec still matches the class's template,
 * otherwise a new copy with a new name (rotation), as CAPI does on class changes.
 */
async function ensureTemplateCopy(
  sim: SimContext,
  client: Client,
  cluster: Cluster,
  source: Template,
  existingName: string | undefined,
  prefix: string,
  extraLabels: Record<string, string>,
): Promise<{ name: string; rotatedFrom?: string }> {
  const ns = cluster.metadata.namespace ?? 'default';
  if (existingName !== undefined) {
    const existing = await client.get<Template>(source.apiVersion, source.kind, existingName, ns);
    if (existing !== undefined && canonicalEqual(templateSpec(existing), templateSpec(source))) return { name: existingName };
  }
  const name = generateName(sim.rng, prefix);
  const copyObj: Template = {
    apiVersion: source.apiVersion,
    kind: source.kind,
    metadata: {
      name,
      namespace: ns,
      labels: { [L_CLUSTER_NAME]: cluster.metadata.name, [L_TOPOLOGY_OWNED]: '', ...extraLabels },
      annotations: {
        [A_TEMPLATE_CLONED_FROM]: source.metadata.name,
        [A_TEMPLATE_CLONED_FROM_KIND]: `${source.kind}.${groupOf(source.apiVersion)}`,
      },
      ownerReferences: [ownerRef(cluster, false)],
    },
    spec: { template: { spec: copy(templateSpec(source)) } },
  };
  await client.apply(copyObj, FIELD_MANAGER);
  return existingName === undefined ? { name } : { name, rotatedFrom: existingName };
}

/** One topology reconcile; returns the TopologyReconciled condition and the Cluster spec refs to set. */
export async function reconcileTopology(sim: SimContext, client: Client, cluster: Cluster): Promise<TopologyOutcome> {
  const t = cluster.spec?.topology;
  if (t === undefined) return { condition: cond('TopologyReconciled', true, 'NoTopology') };
  const ns = cluster.metadata.namespace ?? 'default';
  const name = cluster.metadata.name;
  const classNs = t.classRef?.namespace ?? ns;
  const className = t.classRef?.name ?? '';
  const clusterClass = await client.get<ClusterClass>(API_CORE, 'ClusterClass', className, classNs);
  if (clusterClass === undefined) {
    return { condition: cond('TopologyReconciled', false, 'ReconcileFailed', `failed to get ClusterClass ${classNs}/${className}: ClusterClass.cluster.x-k8s.io "${className}" not found`) };
  }
  const ccStatus = clusterClass.status as { observedGeneration?: number } | undefined;
  if (ccStatus?.observedGeneration !== clusterClass.metadata.generation) {
    return {
      condition: cond('TopologyReconciled', false, 'ClusterClassNotReconciled', `ClusterClass not reconciled. If this condition persists please check ClusterClass status. A ClusterClass is reconciled if .status.observedGeneration == .metadata.generation is true.`),
    };
  }
  const cpRef = cluster.spec?.controlPlaneRef;
  const kcp = cpRef === undefined ? undefined : await client.get<KubeadmControlPlane>(API_CP, 'KubeadmControlPlane', cpRef.name, ns);
  try {
    validateTopology(cluster, kcp?.spec?.version);
  } catch (err) {
    if (err instanceof TopologyValidationError) return { condition: cond('TopologyReconciled', false, 'ReconcileFailed', err.message) };
    throw err;
  }
  const version = t.version ?? '';
  const specPatch: Record<string, unknown> = {};
  const rotated: { apiVersion: string; kind: string; name: string }[] = [];
  let sources: { infra: Template; cp: Template; cpMachine: Template };
  try {
    sources = {
      infra: await getTemplate(client, clusterClass.spec?.infrastructure?.templateRef, classNs, 'infrastructure'),
      cp: await getTemplate(client, clusterClass.spec?.controlPlane?.templateRef, classNs, 'control plane'),
      cpMachine: await getTemplate(client, clusterClass.spec?.controlPlane?.machineInfrastructure?.templateRef, classNs, 'control plane machine infrastructure'),
    };
  } catch (err) {
    if (err instanceof TopologyValidationError) return { condition: cond('TopologyReconciled', false, 'ReconcileFailed', err.message) };
    throw err;
  }
  const topologyLabels = { [L_CLUSTER_NAME]: name, [L_TOPOLOGY_OWNED]: '' };

  // InfraCluster: created from the class's template; later template changes are applied in place.
  const infraKind = sources.infra.kind.replace(/Template$/, '');
  const infraName = cluster.spec?.infrastructureRef?.name ?? generateName(sim.rng, `${name}-`);
  await client.apply(
    {
      apiVersion: sources.infra.apiVersion,
      kind: infraKind,
      metadata: {
        name: infraName,
        namespace: ns,
        labels: topologyLabels,
        annotations: { [A_TEMPLATE_CLONED_FROM]: sources.infra.metadata.name, [A_TEMPLATE_CLONED_FROM_KIND]: `${sources.infra.kind}.${groupOf(sources.infra.apiVersion)}` },
        ownerReferences: [ownerRef(cluster, true)],
      },
      spec: copy(templateSpec(sources.infra)),
    },
    FIELD_MANAGER,
  );
  if (cluster.spec?.infrastructureRef === undefined) specPatch.infrastructureRef = { apiGroup: groupOf(sources.infra.apiVersion), kind: infraKind, name: infraName };

  // Control plane: version goes first to the control plane; a change waits while it still rolls out.
  const cpUpgrading = kcp !== undefined && isControlPlaneRollingOut(kcp);
  const cpVersion = kcp?.spec?.version !== undefined && kcp.spec.version !== version && cpUpgrading ? kcp.spec.version : version;
  const currentCpMachineTemplate = kcp?.spec?.machineTemplate?.spec?.infrastructureRef?.name;
  const cpMachineCopy = await ensureTemplateCopy(sim, client, cluster, sources.cpMachine, currentCpMachineTemplate, `${name}-control-plane-`, {});
  if (cpMachineCopy.rotatedFrom !== undefined) rotated.push({ apiVersion: sources.cpMachine.apiVersion, kind: sources.cpMachine.kind, name: cpMachineCopy.rotatedFrom });
  const kcpName = cpRef?.name ?? generateName(sim.rng, `${name}-`);
  const cpTemplateSpec = templateSpec(sources.cp);
  await client.apply(
    {
      apiVersion: API_CP,
      kind: 'KubeadmControlPlane',
      metadata: {
        name: kcpName,
        namespace: ns,
        labels: topologyLabels,
        annotations: { [A_TEMPLATE_CLONED_FROM]: sources.cp.metadata.name, [A_TEMPLATE_CLONED_FROM_KIND]: `${sources.cp.kind}.${groupOf(sources.cp.apiVersion)}` },
        ownerReferences: [ownerRef(cluster, true)],
      },
      spec: {
        ...copy(cpTemplateSpec),
        replicas: t.controlPlane?.replicas ?? 1,
        version: cpVersion,
        machineTemplate: {
          metadata: { labels: topologyLabels },
          spec: { infrastructureRef: { apiGroup: GROUP_INFRA, kind: sources.cpMachine.kind, name: cpMachineCopy.name } },
        },
      },
    } as KObject,
    FIELD_MANAGER,
  );
  if (cpRef === undefined) specPatch.controlPlaneRef = { apiGroup: groupOf(API_CP), kind: 'KubeadmControlPlane', name: kcpName };

  // Workers move to a new version only once the whole control plane runs it.
  const cpStable = kcp !== undefined && kcp.spec?.version === version && !isControlPlaneRollingOut(kcp) && kcp.status?.version === version;
  const existingMds = await client.list<MachineDeployment>(API_CORE, 'MachineDeployment', { namespace: ns, labels: { [L_CLUSTER_NAME]: name } });
  const wanted = t.workers?.machineDeployments ?? [];
  const mdsPending: string[] = [];
  const mdsUpgrading: string[] = [];
  for (const mdTopology of wanted) {
    const classDef = clusterClass.spec?.workers?.machineDeployments?.find((c) => c.class === mdTopology.class);
    if (classDef === undefined) {
      return { condition: cond('TopologyReconciled', false, 'ReconcileFailed', `MachineDeployment class "${mdTopology.class}" not found in ClusterClass ${className}`), specPatch };
    }
    const bootstrapSource = await getTemplate(client, classDef.bootstrap?.templateRef, classNs, `${mdTopology.class} bootstrap`);
    const infraSource = await getTemplate(client, classDef.infrastructure?.templateRef, classNs, `${mdTopology.class} infrastructure`);
    const existing = existingMds.find((m) => m.metadata.labels?.[L_TOPOLOGY_MD_NAME] === mdTopology.name && m.metadata.labels?.[L_TOPOLOGY_OWNED] !== undefined);
    const mdLabels = { ...topologyLabels, [L_TOPOLOGY_MD_NAME]: mdTopology.name };
    const bootstrapCopy = await ensureTemplateCopy(sim, client, cluster, bootstrapSource, existing?.spec?.template?.spec?.bootstrap?.configRef?.name, `${name}-${mdTopology.name}-`, { [L_TOPOLOGY_MD_NAME]: mdTopology.name });
    const infraCopy = await ensureTemplateCopy(sim, client, cluster, infraSource, existing?.spec?.template?.spec?.infrastructureRef?.name, `${name}-${mdTopology.name}-`, { [L_TOPOLOGY_MD_NAME]: mdTopology.name });
    if (bootstrapCopy.rotatedFrom !== undefined) rotated.push({ apiVersion: API_BOOTSTRAP, kind: bootstrapSource.kind, name: bootstrapCopy.rotatedFrom });
    if (infraCopy.rotatedFrom !== undefined) rotated.push({ apiVersion: API_INFRA, kind: infraSource.kind, name: infraCopy.rotatedFrom });
    const currentMdVersion = existing?.spec?.template?.spec?.version;
    let mdVersion = version;
    if (!cpStable) {
      mdVersion = currentMdVersion ?? kcp?.status?.version ?? kcp?.spec?.version ?? version;
      if (mdVersion !== version) mdsPending.push(existing?.metadata.name ?? mdTopology.name);
    } else if (existing !== undefined && currentMdVersion === version && (existing.status?.upToDateReplicas ?? 0) < (existing.spec?.replicas ?? 0)) {
      mdsUpgrading.push(existing.metadata.name);
    }
    const mdName = existing?.metadata.name ?? generateName(sim.rng, `${name}-${mdTopology.name}-`);
    await client.apply(
      {
        apiVersion: API_CORE,
        kind: 'MachineDeployment',
        metadata: { name: mdName, namespace: ns, labels: mdLabels, ownerReferences: [ownerRef(cluster, false)] },
        spec: {
          clusterName: name,
          replicas: mdTopology.replicas ?? 1,
          selector: { matchLabels: { [L_CLUSTER_NAME]: name, [L_TOPOLOGY_MD_NAME]: mdTopology.name } },
          template: {
            metadata: { labels: mdLabels },
            spec: {
              clusterName: name,
              version: mdVersion,
              bootstrap: { configRef: { apiGroup: GROUP_BOOTSTRAP, kind: bootstrapSource.kind, name: bootstrapCopy.name } },
              infrastructureRef: { apiGroup: GROUP_INFRA, kind: infraSource.kind, name: infraCopy.name },
            },
          },
        },
      } as KObject,
      FIELD_MANAGER,
    );
  }
  // MachineDeployments removed from the topology are deleted.
  for (const md of existingMds) {
    const topologyName = md.metadata.labels?.[L_TOPOLOGY_MD_NAME];
    if (md.metadata.labels?.[L_TOPOLOGY_OWNED] === undefined || topologyName === undefined) continue;
    if (!wanted.some((w) => w.name === topologyName)) await client.delete(API_CORE, 'MachineDeployment', md.metadata.name, ns);
  }
  for (const old of rotated) await client.delete(old.apiVersion, old.kind, old.name, ns);

  // CAPI reports an upgrade as TopologyReconciled False / ClusterUpgrading, listing what is pending or upgrading.
  const upgrading = (detail: string) => ({
    condition: cond('TopologyReconciled', false, 'ClusterUpgrading', `Cluster is upgrading to ${version}\n  * ${detail}`),
    specPatch,
  });
  if (kcp !== undefined && cpVersion !== version) return upgrading(`KubeadmControlPlane ${kcpName} pending upgrade to version ${version}`);
  if (kcp !== undefined && kcp.spec?.version !== version) return upgrading(`KubeadmControlPlane ${kcpName} upgrading to version ${version}`);
  if (kcp !== undefined && (kcp.status?.version ?? version) !== version) return upgrading(`KubeadmControlPlane ${kcpName} upgrading to version ${version}`);
  if (mdsPending.length > 0) return upgrading(`MachineDeployments ${mdsPending.join(', ')} pending upgrade to version ${version}`);
  if (mdsUpgrading.length > 0) return upgrading(`MachineDeployments ${mdsUpgrading.join(', ')} upgrading to version ${version}`);
  return { condition: cond('TopologyReconciled', true, 'ReconcileSucceeded'), specPatch };
}

export function isControlPlaneRollingOut(kcp: KubeadmControlPlane): boolean {
  const s = kcp.status;
  if (s === undefined) return false;
  const desired = kcp.spec?.replicas ?? 1;
  if (s.version !== undefined && kcp.spec?.version !== undefined && s.version !== kcp.spec.version) return true;
  return (s.upToDateReplicas ?? 0) < desired || (s.replicas ?? 0) !== desired;
}
