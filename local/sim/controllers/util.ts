/** Labels, conditions, owner references and pause rules shared by the simulated controllers. */
import { clone } from '../apiserver/json.ts';
import type { Client } from './client.ts';
import type { Cluster, Condition, KObject, OwnerReference } from './types.ts';

export const L_CLUSTER_NAME = 'cluster.x-k8s.io/cluster-name';
export const L_CONTROL_PLANE = 'cluster.x-k8s.io/control-plane';
export const L_CONTROL_PLANE_NAME = 'cluster.x-k8s.io/control-plane-name';
export const L_DEPLOYMENT_NAME = 'cluster.x-k8s.io/deployment-name';
export const L_SET_NAME = 'cluster.x-k8s.io/set-name';
export const L_TOPOLOGY_OWNED = 'topology.cluster.x-k8s.io/owned';
export const L_TOPOLOGY_MD_NAME = 'topology.cluster.x-k8s.io/deployment-name';
export const L_MACHINE_TEMPLATE_HASH = 'machine-template-hash';
export const A_PAUSED = 'cluster.x-k8s.io/paused';
export const A_DELETE_FOR_MOVE = 'clusterctl.cluster.x-k8s.io/delete-for-move';
export const A_TEMPLATE_CLONED_FROM = 'cluster.x-k8s.io/cloned-from-name';
export const A_TEMPLATE_CLONED_FROM_KIND = 'cluster.x-k8s.io/cloned-from-groupkind';
export const NODE_ROLE_CP = 'node-role.kubernetes.io/control-plane';

export const FIN_CLUSTER = 'cluster.cluster.x-k8s.io';
export const FIN_MACHINE = 'machine.cluster.x-k8s.io';
export const FIN_MD = 'cluster.x-k8s.io/machinedeployment';
export const FIN_MS = 'cluster.x-k8s.io/machineset';
export const FIN_KCP = 'kubeadm.controlplane.cluster.x-k8s.io';
export const FIN_SIM_MACHINE = 'simmachine.infrastructure.cluster.x-k8s.io';
export const FIN_SIM_CLUSTER = 'simcluster.infrastructure.cluster.x-k8s.io';
export const FIN_TOPOLOGY = 'topology.cluster.x-k8s.io';
export const FIN_HRP = 'helmreleaseproxy.addons.cluster.x-k8s.io';
export const FIN_HCP = 'helmchartproxy.addons.cluster.x-k8s.io';

/** A controller needs an object (template, owner uid) that is not there (yet); retried with backoff. */
export class ReferenceNotFoundError extends Error {
  override name = 'ReferenceNotFoundError';
}

export function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Sets a condition, keeping lastTransitionTime when the status did not change (as CAPI's conditions do). */
export function setCondition(conditions: Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>, generation?: number): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? list[i] : undefined;
  const c: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    ...(next.message !== undefined && next.message !== '' ? { message: next.message } : {}),
    lastTransitionTime: prev !== undefined && prev.status === next.status && prev.lastTransitionTime !== undefined ? prev.lastTransitionTime : nowIso(),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  if (i >= 0) list[i] = c;
  else list.push(c);
  return list;
}

export function conditionsFrom(prev: Condition[] | undefined, items: Omit<Condition, 'lastTransitionTime'>[], generation?: number): Condition[] {
  let list = prev;
  for (const item of items) list = setCondition(list, item, generation);
  return list ?? [];
}

export function getCondition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

export function cond(type: string, ok: boolean, reason: string, message?: string): Omit<Condition, 'lastTransitionTime'> {
  return { type, status: ok ? 'True' : 'False', reason, ...(message !== undefined ? { message } : {}) };
}

/** CAPI's mirror of a child's condition under another type (status, reason and message kept). */
export function mirror(source: Condition | undefined, type: string): Omit<Condition, 'lastTransitionTime'> | undefined {
  if (source === undefined) return undefined;
  return { type, status: source.status, reason: source.reason, ...(source.message !== undefined ? { message: source.message } : {}) };
}

export function ownerRef(owner: KObject, controller: boolean): OwnerReference {
  if (owner.metadata.uid === undefined) throw new ReferenceNotFoundError(`owner ${owner.kind}/${owner.metadata.name} has no uid`);
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    ...(controller ? { controller: true, blockOwnerDeletion: true } : { blockOwnerDeletion: true }),
  };
}

export function controllerOf(obj: KObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

export function isOwnedBy(obj: KObject, owner: KObject): boolean {
  return (obj.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid);
}

export function isDeleting(obj: KObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined;
}

export function hasAnnotation(obj: KObject, key: string): boolean {
  return obj.metadata.annotations?.[key] !== undefined;
}

/** CAPI's rule: a paused Cluster (spec.paused) or an object carrying the paused annotation is left alone. */
export function isPaused(cluster: Cluster | undefined, obj: KObject): boolean {
  return cluster?.spec?.paused === true || hasAnnotation(obj, A_PAUSED);
}

/** The owning Cluster's name: the Cluster ownerReference (as CAPI's util.GetOwnerCluster), else the label. */
export function clusterNameOf(obj: KObject): string | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.kind === 'Cluster' && r.apiVersion.startsWith('cluster.x-k8s.io/'))?.name ?? obj.metadata.labels?.[L_CLUSTER_NAME];
}

/** Deep copy of a stored object (JSON only: json.ts's clone, several times faster than structuredClone here). */
export function copy<T>(v: T): T {
  return clone(v);
}

/** The object with `finalizer` added, written with an update; no write when already present. */
export async function ensureFinalizer<T extends KObject>(client: Client, obj: T, finalizer: string): Promise<T> {
  if (obj.metadata.finalizers?.includes(finalizer)) return obj;
  // Shallow: a client never keeps or changes what it is given (the store clones it, HTTP serialises it).
  const next: T = { ...obj, metadata: { ...obj.metadata, finalizers: [...(obj.metadata.finalizers ?? []), finalizer] } };
  return client.update<T>(next);
}

export async function removeFinalizer<T extends KObject>(client: Client, obj: T, finalizer: string): Promise<void> {
  if (!obj.metadata.finalizers?.includes(finalizer)) return;
  const next: T = { ...obj, metadata: { ...obj.metadata, finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer) } };
  await client.update(next);
}

/** Writes `status` when it differs from the live one (no-op writes would wake every watcher for nothing). */
export async function writeStatus<T extends KObject>(client: Client, obj: T, status: unknown): Promise<T> {
  if (canonicalEqual(obj.status, status)) return obj;
  // Shallow, as above: only status changes, and the client copies what it writes.
  const next: T = { ...obj, status };
  return client.updateStatus<T>(next);
}

export function canonicalEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    return a.every((v, i) => canonicalEqual(v, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => canonicalEqual(ao[k], bo[k]));
}

export function groupOf(apiVersion: string): string {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}
