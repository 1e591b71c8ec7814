/**
 * `clusterctl move` for one Slipway cluster, between two KubeClients (mover.go + objectgraph.go semantics):
 *
 *   discover → preflight → pause → wait for no block-move → create in owner order → delete from the source in
 *   reverse order → unpause in the target.
 *
 * Scope. A workspace namespace holds every cluster of the workspace, so only one Cluster's graph moves: the
 * Cluster, everything that (transitively) names it as owner, the soft-owned Secrets `<cluster>-{kubeconfig,ca,
 * etcd,sa,proxy}`, ClusterResourceSetBindings of it, and objects labelled `cluster.x-k8s.io/cluster-name` or
 * `slipway.dev/cluster` with its name. Its ClusterClass and the class's templates are shared by many clusters
 * (Slipway's live in `default`): they are created in the target when missing and never paused nor deleted in
 * the source — pausing a shared class would stall every other cluster built from it. Cluster-scoped objects
 * (CAPA identities named by `spec.identityRef`) are "global": created if missing, never deleted.
 *
 * Resumability. Every sub-step converges when repeated after a crash at any point:
 * - our pause carries the annotation `slipway.dev/paused-for-move`, so a rerun accepts its own pause (and
 *   refuses a Cluster someone else paused);
 * - objects already in the target (matched by group/kind/namespace/name) are updated in place (adopted);
 *   owners' uids are always those of the target's objects;
 * - the source is deleted children first, so whatever survives a crash still has all its owners; a source
 *   object already gone is skipped; a source with no Cluster left but a target Cluster paused by us means
 *   only the unpause remains.
 */
import type { Logger } from '../log.ts';
import type { KubeClient } from './client.ts';
import { ClusterClassNotFoundError, KubeAlreadyExistsError, KubeConflictError, KubeKindNotServedError, KubeNotFoundError, MoveBlockedError, MoveError, MovePreflightError } from './errors.ts';
import { deploymentAvailable, machineFailure } from './status.ts';
import { describeRef, groupOf, isRecord, type KubeObject, type ObjectRef, type OwnerReference, refOf } from './types.ts';

export const ANNOTATION_PAUSED = 'cluster.x-k8s.io/paused';
export const ANNOTATION_BLOCK_MOVE = 'clusterctl.cluster.x-k8s.io/block-move';
export const ANNOTATION_DELETE_FOR_MOVE = 'clusterctl.cluster.x-k8s.io/delete-for-move';
/** Marks a pause Slipway made for a move, so an interrupted move can resume over it. */
export const ANNOTATION_SLIPWAY_PAUSED = 'slipway.dev/paused-for-move';
export const LABEL_CLUSTER_NAME = 'cluster.x-k8s.io/cluster-name';
export const LABEL_SLIPWAY_CLUSTER = 'slipway.dev/cluster';
export const LABEL_MOVE = 'clusterctl.cluster.x-k8s.io/move';
export const LABEL_MOVE_HIERARCHY = 'clusterctl.cluster.x-k8s.io/move-hierarchy';

const API_CLUSTER = 'cluster.x-k8s.io/v1beta2';
const API_CLUSTERCTL = 'clusterctl.cluster.x-k8s.io/v1alpha3';
const API_INFRA = 'infrastructure.cluster.x-k8s.io/v1beta2';
const SOFT_OWNED_SECRET_SUFFIXES = ['kubeconfig', 'ca', 'etcd', 'sa', 'proxy'];

/** A namespaced kind the mover lists in the source namespace. */
export interface MoveKind {
  apiVersion: string;
  kind: string;
}

/** The kinds clusterctl would find labelled for move, for the providers Slipway installs (unserved ones are skipped). */
export const DEFAULT_MOVE_KINDS: readonly MoveKind[] = [
  { apiVersion: API_CLUSTER, kind: 'Cluster' },
  { apiVersion: API_CLUSTER, kind: 'MachineDeployment' },
  { apiVersion: API_CLUSTER, kind: 'MachineSet' },
  { apiVersion: API_CLUSTER, kind: 'Machine' },
  { apiVersion: API_CLUSTER, kind: 'MachineHealthCheck' },
  { apiVersion: API_CLUSTER, kind: 'MachinePool' },
  { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2', kind: 'KubeadmControlPlane' },
  { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2', kind: 'KubeadmControlPlaneTemplate' },
  { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2', kind: 'AWSManagedControlPlane' },
  { apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta2', kind: 'KubeadmConfig' },
  { apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta2', kind: 'KubeadmConfigTemplate' },
  { apiVersion: API_INFRA, kind: 'SimCluster' },
  { apiVersion: API_INFRA, kind: 'SimClusterTemplate' },
  { apiVersion: API_INFRA, kind: 'SimMachine' },
  { apiVersion: API_INFRA, kind: 'SimMachineTemplate' },
  { apiVersion: API_INFRA, kind: 'AWSCluster' },
  { apiVersion: API_INFRA, kind: 'AWSClusterTemplate' },
  { apiVersion: API_INFRA, kind: 'AWSMachine' },
  { apiVersion: API_INFRA, kind: 'AWSMachineTemplate' },
  { apiVersion: API_INFRA, kind: 'AWSManagedCluster' },
  { apiVersion: 'addons.cluster.x-k8s.io/v1beta2', kind: 'ClusterResourceSet' },
  { apiVersion: 'addons.cluster.x-k8s.io/v1beta2', kind: 'ClusterResourceSetBinding' },
  { apiVersion: 'addons.cluster.x-k8s.io/v1alpha1', kind: 'HelmChartProxy' },
  { apiVersion: 'addons.cluster.x-k8s.io/v1alpha1', kind: 'HelmReleaseProxy' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
];

export interface MoveOptions {
  /** Namespace of the Cluster in the source (and the target). */
  namespace: string;
  /** The CAPI Cluster to move. */
  clusterName: string;
  /**
   * Kinds to list in the namespace, in addition to those of the CRDs labelled for clusterctl. By default the
   * labelled CRDs (+ Secrets and ConfigMaps) are the list, as for clusterctl; DEFAULT_MOVE_KINDS only when the
   * server has no labelled CRD.
   */
  kinds?: readonly MoveKind[];
  /** How long to wait for `block-move` annotations to go (default 30 s), polling every `pollMs` (1 s). */
  blockMoveTimeoutMs?: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  log?: Logger;
  /** Discover and preflight only: no write anywhere; the report lists what would move, in creation order. */
  dryRun?: boolean;
  /**
   * Let Machines in a terminal failure (failed launch, lost instance) move without a node. clusterctl refuses
   * any Machine without `status.nodeRef`, so that no instance is being launched while its Machine moves; a
   * failed Machine launches nothing, and a cluster about to be deleted must be able to go back with it.
   */
  allowFailedMachines?: boolean;
}

export interface MoveReport {
  cluster: string;
  namespace: string;
  /** Objects of the cluster now in the target, per kind (shared and global objects not counted). */
  moved: Record<string, number>;
  created: number;
  /** Already in the target (a resumed move): updated in place. */
  adopted: number;
  /** Shared/global objects created in the target because they were missing. */
  sharedCreated: number;
  deletedFromSource: number;
  /** The move found work of an earlier, interrupted attempt. */
  resumed: boolean;
  /** Nothing was left to do: the cluster had already moved. */
  alreadyMoved: boolean;
  /** Dry run only: every object in creation order (`moved` objects are deleted from the source afterwards). */
  plan?: { kind: string; namespace?: string; name: string; role: 'moved' | 'shared' | 'global' }[];
}

type Role = 'moved' | 'shared' | 'global';

interface Node {
  key: string;
  obj: KubeObject;
  role: Role;
  /** Keys of owners inside the graph (hard ownerReferences and soft owners). */
  owners: Set<string>;
}

/** Moves one cluster's CAPI objects from `source` to `target`. Safe to call again after any failure. */
export async function move(source: KubeClient, target: KubeClient, opts: MoveOptions): Promise<MoveReport> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;
  const log = opts.log;
  const { namespace, clusterName } = opts;
  const report: MoveReport = {
    cluster: clusterName,
    namespace,
    moved: {},
    created: 0,
    adopted: 0,
    sharedCreated: 0,
    deletedFromSource: 0,
    resumed: false,
    alreadyMoved: false,
  };
  const clusterRef: ObjectRef = { apiVersion: API_CLUSTER, kind: 'Cluster', name: clusterName, namespace };

  const sourceCluster = await source.get(clusterRef);
  if (sourceCluster === null) {
    // Either the move finished its deletions (only the unpause may remain), or there is nothing to move.
    const targetCluster = await target.get(clusterRef);
    if (targetCluster === null) throw new MoveError(`no Cluster ${namespace}/${clusterName} on ${source.cluster} nor on ${target.cluster}`);
    report.alreadyMoved = true;
    const classInTarget = await sharedClassInTarget(target, targetCluster);
    if (isOurPause(targetCluster) || (classInTarget !== null && isOurPause(classInTarget))) {
      report.resumed = true;
      if (opts.dryRun !== true) await unpause(target, targetCluster, classInTarget);
    }
    log?.info('move: cluster already in the target', { cluster: clusterName, namespace, resumed: report.resumed });
    return report;
  }

  // ── discovery ──
  const graph = await discover(source, sourceCluster, opts.kinds);
  const ordered = ownerOrder(graph);
  log?.info('move: discovered', { cluster: clusterName, objects: ordered.length, kinds: countKinds(ordered.filter((n) => n.role === 'moved')) });

  // ── preflight ──
  await preflight(source, target, graph, sourceCluster, opts.allowFailedMachines === true);

  if (opts.dryRun === true) {
    report.moved = countKinds(ordered.filter((n) => n.role === 'moved'));
    report.resumed = isOurPause(sourceCluster);
    report.plan = ordered.map((n) => ({ kind: n.obj.kind, ...(n.obj.metadata.namespace === undefined ? {} : { namespace: n.obj.metadata.namespace }), name: n.obj.metadata.name, role: n.role }));
    return report;
  }

  // ── pause (Cluster only: the shared class stays live, see the file comment) ──
  if (isOurPause(sourceCluster)) report.resumed = true;
  else {
    const paused = await source.mergePatch(clusterRef, { spec: { paused: true }, metadata: { annotations: { [ANNOTATION_SLIPWAY_PAUSED]: 'true' } } });
    const node = graph.get(keyOf(sourceCluster));
    if (node !== undefined) node.obj = paused;
  }

  // ── wait until nothing blocks the move ──
  await waitNoBlockMove(source, ordered, opts.blockMoveTimeoutMs ?? 30_000, opts.pollMs ?? 1000, sleep, now);

  // ── create in the target, owners first ──
  await target.ensureNamespace(namespace);
  const targetUids = new Map<string, string>();
  for (const node of ordered) {
    const result = await createInTarget(target, node, graph, targetUids);
    targetUids.set(node.key, result.uid);
    if (result.outcome === 'adopted' && node.role === 'moved') {
      report.adopted++;
      report.resumed = true;
    }
    if (result.outcome === 'created') {
      if (node.role === 'moved') report.created++;
      else report.sharedCreated++;
    }
    if (node.role === 'moved') report.moved[node.obj.kind] = (report.moved[node.obj.kind] ?? 0) + 1;
  }
  log?.info('move: created in target', { cluster: clusterName, created: report.created, adopted: report.adopted });

  // ── delete from the source, dependents first; the Cluster last, so while it exists the move is unfinished ──
  const toDelete = [...ordered].reverse().filter((n) => n.role === 'moved' && n.obj.kind !== 'Cluster');
  const clusterNode = graph.get(keyOf(sourceCluster));
  if (clusterNode !== undefined) toDelete.push(clusterNode);
  for (const node of toDelete) {
    if (await deleteFromSource(source, node.obj)) report.deletedFromSource++;
  }
  log?.info('move: deleted from source', { cluster: clusterName, deleted: report.deletedFromSource });

  // ── unpause in the target ──
  const targetCluster = await target.get(clusterRef);
  if (targetCluster === null) throw new MoveError(`Cluster ${namespace}/${clusterName} vanished from ${target.cluster} before it could be unpaused`);
  await unpause(target, targetCluster, await sharedClassInTarget(target, targetCluster));
  log?.info('move: done', { cluster: clusterName, moved: report.moved });
  return report;
}

/**
 * Makes a ClusterClass and every template it references exist in `target`, copied from `source` (the management
 * cluster, where Slipway's classes are installed). A pivot carries only the class the Cluster used then; a
 * self-managed cluster moving to a plan revision with another class (a Cluster Stacks rebase or the next minor)
 * needs that class in its own API server before its topology may name it, or the topology controller there
 * fails with "ClusterClass not found". Objects already in the target are left as they are (a class release is
 * immutable); templates first, so the class never names a missing template. Returns how many were created.
 */
export async function ensureClusterClass(source: KubeClient, target: KubeClient, ref: { name: string; namespace: string }): Promise<number> {
  const classRef: ObjectRef = { apiVersion: API_CLUSTER, kind: 'ClusterClass', name: ref.name, namespace: ref.namespace };
  if ((await target.get(classRef)) !== null) return 0;
  const cc = await source.get(classRef);
  // Not there to copy: a plan revision naming a class nobody installed. No retry brings it.
  if (cc === null) throw new ClusterClassNotFoundError(`ClusterClass ${ref.namespace}/${ref.name} does not exist on ${source.cluster}: it cannot be copied to ${target.cluster}`);
  const objects: KubeObject[] = [];
  for (const t of templateRefs(cc.spec)) {
    const template = await source.get({ ...t, namespace: ref.namespace });
    if (template === null) throw new MovePreflightError([`template ${t.kind} ${ref.namespace}/${t.name} of ClusterClass ${ref.name} is missing on ${source.cluster}`]);
    objects.push(template);
  }
  objects.push(cc);
  await target.ensureNamespace(ref.namespace);
  let created = 0;
  for (const obj of objects) {
    // A fresh copy: no server-owned fields, no status, no owner references to uids of the source.
    const { uid: _u, resourceVersion: _rv, creationTimestamp: _ct, managedFields: _mf, generation: _g, selfLink: _sl, ownerReferences: _or, ...metadata } = obj.metadata;
    const { status: _status, metadata: _m, ...rest } = obj;
    try {
      await target.create({ ...rest, apiVersion: obj.apiVersion, kind: obj.kind, metadata });
      created++;
    } catch (err) {
      if (!(err instanceof KubeAlreadyExistsError)) throw err;
    }
  }
  return created;
}

/**
 * Settles a move from `source` that failed after its pause and will not be retried (the cluster is to be deleted):
 * a paused Cluster is never deleted. When `target` has no copy of the Cluster, nothing was copied (the Cluster
 * comes first in owner order) nor deleted: the pause is lifted and the Cluster stays in `source`. Otherwise the
 * move may have deleted part of the source already, and only completing it leaves every object with its owners:
 * the Cluster ends in `target`. A Cluster nobody paused for a move is left alone. `target` answers null when there
 * is no target to reach (then nothing can have been copied). Returns where the Cluster is now.
 */
export async function settleInterruptedMove(source: KubeClient, target: () => Promise<KubeClient | null>, opts: MoveOptions): Promise<'source' | 'target'> {
  const ref: ObjectRef = { apiVersion: API_CLUSTER, kind: 'Cluster', name: opts.clusterName, namespace: opts.namespace };
  const cluster = await source.get(ref);
  if (cluster === null || !isOurPause(cluster)) return 'source';
  const to = await target();
  if (to === null || (await to.get(ref)) === null) {
    await source.mergePatch(ref, { spec: { paused: null }, metadata: { annotations: { [ANNOTATION_SLIPWAY_PAUSED]: null } } });
    return 'source';
  }
  await move(source, to, opts);
  return 'target';
}

/**
 * Moves a self-managed cluster's objects back to the management cluster (before deletion): the same move, except
 * that failed Machines go along (a cluster that failed after its pivot must still be deletable).
 */
export function moveBack(workload: KubeClient, management: KubeClient, opts: MoveOptions): Promise<MoveReport> {
  return move(workload, management, { allowFailedMachines: true, ...opts });
}

// ── discovery ──────────────────────────────────────────────────────────────────────────────────────────────

function keyOf(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${groupOf(obj.apiVersion)}/${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

function refKey(ref: { apiVersion: string; kind: string; name: string }, namespace: string | undefined): string {
  return `${groupOf(ref.apiVersion)}/${ref.kind}/${namespace ?? ''}/${ref.name}`;
}

async function discover(source: KubeClient, cluster: KubeObject, kinds: readonly MoveKind[] | undefined): Promise<Map<string, Node>> {
  const namespace = cluster.metadata.namespace ?? '';
  const clusterName = cluster.metadata.name;
  const all = new Map<string, KubeObject>();
  const byUid = new Map<string, string>();
  for (const k of await kindsToList(source, kinds)) {
    let items: KubeObject[];
    try {
      items = await source.list(k.apiVersion, k.kind, { namespace });
    } catch (err) {
      if (err instanceof KubeKindNotServedError) continue;
      throw err;
    }
    for (const obj of items) {
      const key = keyOf(obj);
      all.set(key, obj);
      if (obj.metadata.uid !== undefined) byUid.set(obj.metadata.uid, key);
    }
  }

  // Owners inside the namespace: hard (ownerReferences by uid) and soft (clusterctl's rules + cluster labels).
  const owners = new Map<string, Set<string>>();
  const clusterKey = keyOf(cluster);
  for (const [key, obj] of all) {
    const set = new Set<string>();
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const ownerKey = byUid.get(ref.uid);
      if (ownerKey !== undefined) set.add(ownerKey);
    }
    if (set.size === 0 && key !== clusterKey && softOwnedByCluster(obj, clusterName)) set.add(clusterKey);
    if (obj.kind === 'ClusterResourceSetBinding' && obj.metadata.name === clusterName) set.add(clusterKey);
    owners.set(key, set);
  }

  // The cluster's graph: everything whose owner chain reaches the Cluster.
  const dependents = new Map<string, string[]>();
  for (const [key, set] of owners) for (const o of set) dependents.set(o, [...(dependents.get(o) ?? []), key]);
  const inGraph = new Set<string>([clusterKey]);
  const queue = [clusterKey];
  while (queue.length > 0) {
    const next = queue.shift() ?? '';
    for (const d of dependents.get(next) ?? []) {
      if (!inGraph.has(d)) {
        inGraph.add(d);
        queue.push(d);
      }
    }
  }
  // An object of the graph with another owner in the namespace brings that owner along (e.g. a Secret owned by
  // both the KCP and a ConfigMap): moving one without the other would leave a dangling reference.
  for (let changed = true; changed; ) {
    changed = false;
    for (const key of [...inGraph]) {
      for (const o of owners.get(key) ?? []) {
        if (!inGraph.has(o)) {
          inGraph.add(o);
          changed = true;
        }
      }
    }
  }

  const graph = new Map<string, Node>();
  for (const key of inGraph) {
    const obj = all.get(key);
    if (obj !== undefined) graph.set(key, { key, obj, role: 'moved', owners: new Set(owners.get(key) ?? []) });
  }
  graph.set(clusterKey, { key: clusterKey, obj: cluster, role: 'moved', owners: new Set() });

  await addSharedClass(source, cluster, graph);
  await addGlobalIdentities(source, graph);
  return graph;
}

function softOwnedByCluster(obj: KubeObject, clusterName: string): boolean {
  if (obj.kind === 'Secret' && SOFT_OWNED_SECRET_SUFFIXES.some((s) => obj.metadata.name === `${clusterName}-${s}`)) return true;
  const labels = obj.metadata.labels ?? {};
  return labels[LABEL_CLUSTER_NAME] === clusterName || labels[LABEL_SLIPWAY_CLUSTER] === clusterName;
}

/**
 * What clusterctl discovers: the namespaced kinds whose CRDs carry the clusterctl label, plus Secrets and
 * ConfigMaps (and any `explicit` kinds). Without labelled CRDs (an API server that serves the kinds without CRD
 * objects), DEFAULT_MOVE_KINDS. Listing only served kinds also spares client-node a discovery call per
 * unknown kind.
 */
async function kindsToList(source: KubeClient, explicit: readonly MoveKind[] | undefined): Promise<MoveKind[]> {
  let crds: KubeObject[];
  try {
    crds = await source.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition', { labelSelector: 'clusterctl.cluster.x-k8s.io' });
  } catch (err) {
    if (!(err instanceof KubeKindNotServedError)) throw err;
    crds = [];
  }
  const fromCrds: MoveKind[] = [];
  for (const crd of crds) {
    const spec = crd.spec as { group?: string; scope?: string; names?: { kind?: string }; versions?: { name?: string; storage?: boolean }[] } | undefined;
    const version = spec?.versions?.find((v) => v.storage)?.name ?? spec?.versions?.[0]?.name;
    const kind = spec?.names?.kind;
    if (spec?.scope !== 'Namespaced' || !spec.group || !version || !kind) continue;
    // clusterctl's own inventory never moves.
    if (spec.group === 'clusterctl.cluster.x-k8s.io') continue;
    fromCrds.push({ apiVersion: `${spec.group}/${version}`, kind });
  }
  const base = fromCrds.length > 0 ? [...fromCrds, { apiVersion: 'v1', kind: 'Secret' }, { apiVersion: 'v1', kind: 'ConfigMap' }] : [...DEFAULT_MOVE_KINDS];
  const out: MoveKind[] = [];
  for (const k of [...base, ...(explicit ?? [])]) {
    if (!out.some((o) => groupOf(o.apiVersion) === groupOf(k.apiVersion) && o.kind === k.kind)) out.push(k);
  }
  return out;
}

/** The Cluster's ClusterClass and the templates its spec references, as shared objects. */
async function addSharedClass(source: KubeClient, cluster: KubeObject, graph: Map<string, Node>): Promise<void> {
  const classRef = classRefOf(cluster);
  if (classRef === undefined) return;
  const cc = await source.get({ apiVersion: API_CLUSTER, kind: 'ClusterClass', name: classRef.name, namespace: classRef.namespace });
  if (cc === null) throw new MovePreflightError([`ClusterClass ${classRef.namespace}/${classRef.name} of the Cluster is missing on ${source.cluster}`]);
  const ccKey = keyOf(cc);
  for (const ref of templateRefs(cc.spec)) {
    const template = await source.get({ ...ref, namespace: classRef.namespace });
    if (template === null) throw new MovePreflightError([`template ${ref.kind} ${classRef.namespace}/${ref.name} of ClusterClass ${classRef.name} is missing`]);
    const key = keyOf(template);
    const existing = graph.get(key);
    // A template the Cluster's graph already moves (same namespace) stays moved; otherwise it is shared.
    if (existing === undefined) graph.set(key, { key, obj: template, role: 'shared', owners: new Set() });
  }
  const existing = graph.get(ccKey);
  if (existing === undefined) graph.set(ccKey, { key: ccKey, obj: cc, role: 'shared', owners: new Set() });
  else existing.role = 'shared';
  // Soft owner: the Cluster comes after its class; templates owned by the class come after it.
  graph.get(keyOf(cluster))?.owners.add(ccKey);
  for (const node of graph.values()) {
    if ((node.obj.metadata.ownerReferences ?? []).some((r) => r.uid === cc.metadata.uid)) {
      node.owners.add(ccKey);
      if (node.role === 'moved' && node.obj.metadata.namespace === cc.metadata.namespace) node.role = 'shared';
    }
  }
}

function classRefOf(cluster: KubeObject): { name: string; namespace: string } | undefined {
  const topology = isRecord(cluster.spec) && isRecord(cluster.spec.topology) ? cluster.spec.topology : undefined;
  const ref = topology !== undefined && isRecord(topology.classRef) ? topology.classRef : undefined;
  // v1beta1 spelling: topology.class (+ classNamespace).
  const name = typeof ref?.name === 'string' ? ref.name : typeof topology?.class === 'string' ? topology.class : undefined;
  if (name === undefined) return undefined;
  const ns = typeof ref?.namespace === 'string' && ref.namespace !== '' ? ref.namespace : typeof topology?.classNamespace === 'string' ? topology.classNamespace : undefined;
  return { name, namespace: ns ?? cluster.metadata.namespace ?? 'default' };
}

/** Every `{apiVersion, kind, name}` under a `templateRef`/`ref` key of a ClusterClass spec. */
function templateRefs(spec: unknown): { apiVersion: string; kind: string; name: string }[] {
  const out: { apiVersion: string; kind: string; name: string }[] = [];
  const walk = (value: unknown, key: string) => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v, key);
      return;
    }
    if (!isRecord(value)) return;
    if ((key === 'templateRef' || key === 'ref') && typeof value.apiVersion === 'string' && typeof value.kind === 'string' && typeof value.name === 'string') {
      if (!out.some((r) => r.kind === value.kind && r.name === value.name)) out.push({ apiVersion: value.apiVersion, kind: value.kind, name: value.name });
      return;
    }
    for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  walk(spec, '');
  return out;
}

/** Cluster-scoped identities (CAPA's `spec.identityRef`) the infrastructure cluster names: global objects. */
async function addGlobalIdentities(source: KubeClient, graph: Map<string, Node>): Promise<void> {
  for (const node of [...graph.values()]) {
    const spec = node.obj.spec;
    if (node.role !== 'moved' || !isRecord(spec) || !isRecord(spec.identityRef)) continue;
    const { kind, name } = spec.identityRef;
    if (typeof kind !== 'string' || typeof name !== 'string') continue;
    const identity = await source.get({ apiVersion: node.obj.apiVersion, kind, name });
    if (identity === null) continue;
    const key = keyOf(identity);
    if (!graph.has(key)) graph.set(key, { key, obj: identity, role: 'global', owners: new Set() });
    node.owners.add(key);
  }
}

/** Kahn's order: every object after all of its owners; ties by kind then name, so runs are reproducible. */
function ownerOrder(graph: Map<string, Node>): Node[] {
  const remaining = new Map<string, Set<string>>();
  for (const node of graph.values()) remaining.set(node.key, new Set([...node.owners].filter((o) => o !== node.key && graph.has(o))));
  const out: Node[] = [];
  while (remaining.size > 0) {
    let ready = [...remaining].filter(([, owners]) => owners.size === 0).map(([key]) => key);
    // An ownership cycle (never expected): break it deterministically rather than loop forever.
    if (ready.length === 0) ready = [[...remaining.keys()].sort()[0] ?? ''];
    ready.sort();
    for (const key of ready) {
      remaining.delete(key);
      const node = graph.get(key);
      if (node !== undefined) out.push(node);
      for (const owners of remaining.values()) owners.delete(key);
    }
  }
  return out;
}

function countKinds(nodes: readonly Node[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of nodes) out[n.obj.kind] = (out[n.obj.kind] ?? 0) + 1;
  return out;
}

// ── preflight ──────────────────────────────────────────────────────────────────────────────────────────────

async function preflight(source: KubeClient, target: KubeClient, graph: Map<string, Node>, cluster: KubeObject, allowFailedMachines: boolean): Promise<void> {
  const problems: string[] = [];
  const withoutNode: string[] = [];
  problems.push(...(await checkProviders(source, target)));
  const status = isRecord(cluster.status) ? cluster.status : {};
  const init = isRecord(status.initialization) ? status.initialization : {};
  if (init.infrastructureProvisioned !== true) problems.push(`Cluster ${cluster.metadata.name}: infrastructure not provisioned`);
  if (init.controlPlaneInitialized !== true) problems.push(`Cluster ${cluster.metadata.name}: control plane not initialized`);
  const spec = isRecord(cluster.spec) ? cluster.spec : {};
  if (spec.paused === true && !isOurPause(cluster)) problems.push(`Cluster ${cluster.metadata.name} is paused by someone else`);
  for (const node of graph.values()) {
    const obj = node.obj;
    if (obj.kind === 'Machine' && node.role === 'moved') {
      const s = isRecord(obj.status) ? obj.status : {};
      const failed = allowFailedMachines && machineFailure(obj) !== undefined;
      if (!failed && (!isRecord(s.nodeRef) || typeof s.nodeRef.name !== 'string')) {
        problems.push(`Machine ${obj.metadata.name} has no node yet`);
        withoutNode.push(obj.metadata.name);
      }
    }
    // A paused ClusterClass in the source would be copied paused: someone else is operating on it.
    if (obj.kind === 'ClusterClass' && obj.metadata.annotations?.[ANNOTATION_PAUSED] !== undefined) {
      problems.push(`ClusterClass ${obj.metadata.name} is paused`);
    }
  }
  if (problems.length > 0) throw new MovePreflightError(problems, withoutNode.sort());
}

interface ProviderInfo {
  name: string;
  namespace: string;
  type: string;
  providerName: string;
  version: string;
}

/** The target must run every provider of the source, at the same or a newer version, with Deployments Available. */
async function checkProviders(source: KubeClient, target: KubeClient): Promise<string[]> {
  const [from, to] = await Promise.all([providers(source), providers(target)]);
  const problems: string[] = [];
  for (const p of from) {
    const match = to.find((t) => t.type === p.type && t.providerName === p.providerName);
    if (match === undefined) {
      problems.push(`provider ${p.type}/${p.providerName} is not installed on ${target.cluster}`);
      continue;
    }
    if (compareVersions(match.version, p.version) < 0) {
      problems.push(`provider ${p.type}/${p.providerName} is ${match.version} on ${target.cluster}, older than ${p.version} on ${source.cluster}`);
      continue;
    }
    const deployments = await target.list('apps/v1', 'Deployment', { namespace: match.namespace, labelSelector: { 'cluster.x-k8s.io/provider': match.name } });
    if (deployments.length === 0 || !deployments.every((d) => deploymentAvailable(d))) {
      problems.push(`provider ${p.type}/${p.providerName} is not Available on ${target.cluster}`);
    }
  }
  return problems;
}

async function providers(client: KubeClient): Promise<ProviderInfo[]> {
  let items: KubeObject[];
  try {
    items = await client.list(API_CLUSTERCTL, 'Provider');
  } catch (err) {
    if (err instanceof KubeKindNotServedError) return [];
    throw err;
  }
  return items.map((p) => ({
    name: p.metadata.name,
    namespace: p.metadata.namespace ?? '',
    type: typeof p.type === 'string' ? p.type : '',
    providerName: typeof p.providerName === 'string' ? p.providerName : p.metadata.name,
    version: typeof p.version === 'string' ? p.version : 'v0.0.0',
  }));
}

/** Semantic-version order of `vX.Y.Z[-pre]` strings (pre-releases sort before their release). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-(.+))?/.exec(v);
    return m === null ? { nums: [0, 0, 0], pre: v } : { nums: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

// ── pause / block-move ─────────────────────────────────────────────────────────────────────────────────────

function isOurPause(cluster: KubeObject): boolean {
  return cluster.metadata.annotations?.[ANNOTATION_SLIPWAY_PAUSED] !== undefined;
}

async function waitNoBlockMove(
  source: KubeClient,
  nodes: readonly Node[],
  timeoutMs: number,
  pollMs: number,
  sleep: (ms: number) => Promise<void>,
  now: () => number,
): Promise<void> {
  let blocked = nodes.filter((n) => n.role === 'moved' && n.obj.metadata.annotations?.[ANNOTATION_BLOCK_MOVE] !== undefined);
  const deadline = now() + timeoutMs;
  while (blocked.length > 0) {
    if (now() >= deadline) {
      throw new MoveBlockedError(`still blocked by ${ANNOTATION_BLOCK_MOVE}: ${blocked.map((n) => describeRef(refOf(n.obj))).join(', ')}`);
    }
    await sleep(pollMs);
    const still: Node[] = [];
    for (const node of blocked) {
      const fresh = await source.get(refOf(node.obj));
      if (fresh === null) continue;
      node.obj = fresh;
      if (fresh.metadata.annotations?.[ANNOTATION_BLOCK_MOVE] !== undefined) still.push(node);
    }
    blocked = still;
  }
}

async function unpause(target: KubeClient, cluster: KubeObject, classInTarget: KubeObject | null): Promise<void> {
  // Only our own pause is lifted: a Cluster someone else paused stays paused.
  if (isOurPause(cluster)) {
    await target.mergePatch(refOf(cluster), { spec: { paused: null }, metadata: { annotations: { [ANNOTATION_SLIPWAY_PAUSED]: null } } });
  }
  // A class the move created carries our pause until the Cluster is live again.
  if (classInTarget !== null && isOurPause(classInTarget)) {
    await target.mergePatch(refOf(classInTarget), { metadata: { annotations: { [ANNOTATION_PAUSED]: null, [ANNOTATION_SLIPWAY_PAUSED]: null } } });
  }
}

async function sharedClassInTarget(target: KubeClient, cluster: KubeObject): Promise<KubeObject | null> {
  const ref = classRefOf(cluster);
  return ref === undefined ? null : target.get({ apiVersion: API_CLUSTER, kind: 'ClusterClass', name: ref.name, namespace: ref.namespace });
}

// ── create in the target ───────────────────────────────────────────────────────────────────────────────────

const uidIndex = new WeakMap<Map<string, Node>, Map<string, string>>();

/** Source uid → graph key (built once per graph). */
function keyByUid(graph: Map<string, Node>): Map<string, string> {
  let index = uidIndex.get(graph);
  if (index === undefined) {
    index = new Map([...graph.values()].map((n) => [n.obj.metadata.uid ?? '', n.key]));
    uidIndex.set(graph, index);
  }
  return index;
}

/** The source object as a new object: no server-owned fields, no status, owner references to the target's uids. */
function targetCopy(node: Node, graph: Map<string, Node>, targetUids: Map<string, string>): KubeObject {
  const { obj } = node;
  const {
    uid: _uid,
    resourceVersion: _rv,
    creationTimestamp: _ct,
    deletionTimestamp: _dt,
    deletionGracePeriodSeconds: _dg,
    managedFields: _mf,
    generation: _g,
    selfLink: _sl,
    ownerReferences,
    ...metadata
  } = obj.metadata;
  const { status: _status, metadata: _m, ...rest } = obj;
  const owners: OwnerReference[] = [];
  for (const ref of ownerReferences ?? []) {
    const ownerKey = keyByUid(graph).get(ref.uid) ?? refKey(ref, obj.metadata.namespace);
    const uid = targetUids.get(ownerKey);
    // An owner that is not in the target would make its garbage collector delete the copy: drop the reference.
    if (uid === undefined) continue;
    const copy: OwnerReference = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid };
    if (ref.controller !== undefined) copy.controller = ref.controller;
    if (ref.blockOwnerDeletion !== undefined) copy.blockOwnerDeletion = ref.blockOwnerDeletion;
    owners.push(copy);
  }
  const out: KubeObject = { ...rest, apiVersion: obj.apiVersion, kind: obj.kind, metadata: { ...metadata, ...(owners.length > 0 ? { ownerReferences: owners } : {}) } };
  if (node.role === 'moved' && obj.kind === 'Cluster') {
    // Whatever the source says, the copy must stay paused until every object is in place.
    out.spec = { ...(isRecord(obj.spec) ? obj.spec : {}), paused: true };
    out.metadata.annotations = { ...(out.metadata.annotations ?? {}), [ANNOTATION_SLIPWAY_PAUSED]: 'true' };
  }
  if (node.role === 'shared' && obj.kind === 'ClusterClass') {
    out.metadata.annotations = { ...(out.metadata.annotations ?? {}), [ANNOTATION_PAUSED]: '', [ANNOTATION_SLIPWAY_PAUSED]: 'true' };
  }
  if (node.role === 'moved') {
    // The source's delete-for-move mark of an interrupted attempt must not follow the object.
    const { [ANNOTATION_DELETE_FOR_MOVE]: _d, ...annotations } = out.metadata.annotations ?? {};
    if (Object.keys(annotations).length > 0) out.metadata.annotations = annotations;
    else delete out.metadata.annotations;
  }
  return out;
}

async function createInTarget(
  target: KubeClient,
  node: Node,
  graph: Map<string, Node>,
  targetUids: Map<string, string>,
): Promise<{ uid: string; outcome: 'created' | 'adopted' | 'existing' }> {
  const copy = targetCopy(node, graph, targetUids);
  const ref = refOf(copy);
  try {
    const created = await target.create(copy);
    return { uid: created.metadata.uid ?? '', outcome: 'created' };
  } catch (err) {
    // Kube errors name the verb, object and cluster already, and KubeTransientError must keep its name for Retry.
    if (!(err instanceof KubeAlreadyExistsError)) throw err;
  }
  // Already there: a shared/global object is left as the target has it; a moved one is brought up to date.
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await target.get(ref);
    if (existing === null) {
      // Deleted between our create and read (e.g. garbage collected): create again.
      const created = await target.create(copy);
      return { uid: created.metadata.uid ?? '', outcome: 'created' };
    }
    if (node.role !== 'moved') return { uid: existing.metadata.uid ?? '', outcome: 'existing' };
    try {
      const updated = await target.replace({ ...copy, metadata: { ...copy.metadata, resourceVersion: existing.metadata.resourceVersion ?? '' } });
      return { uid: updated.metadata.uid ?? '', outcome: 'adopted' };
    } catch (err) {
      if (!(err instanceof KubeConflictError)) throw err;
    }
  }
  throw new MoveError(`${describeRef(ref)} on ${target.cluster} keeps changing; cannot adopt it`);
}

// ── delete from the source ─────────────────────────────────────────────────────────────────────────────────

/**
 * clusterctl's sequence: mark delete-for-move, delete, drop finalizers. Returns false when it was already gone.
 * Works from the discovered object (the cluster is paused, so it does not change): no extra read per object.
 */
async function deleteFromSource(source: KubeClient, obj: KubeObject): Promise<boolean> {
  const ref = refOf(obj);
  try {
    // Without finalizers the delete is immediate and no controller sees the mark: skip that write.
    if ((obj.metadata.finalizers?.length ?? 0) > 0 && obj.metadata.annotations?.[ANNOTATION_DELETE_FOR_MOVE] === undefined) {
      await source.mergePatch(ref, { metadata: { annotations: { [ANNOTATION_DELETE_FOR_MOVE]: '' } } });
    }
    // A terminating object (an interrupted earlier attempt) answers the delete with itself: still 'pending'.
    const outcome = await source.delete(ref);
    if (outcome === 'pending') await source.mergePatch(ref, { metadata: { finalizers: [] } });
    return outcome !== 'absent';
  } catch (err) {
    // Gone between two of our writes: the goal is reached.
    if (err instanceof KubeNotFoundError) return false;
    throw err;
  }
}
