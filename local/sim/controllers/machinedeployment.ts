/**
 * MachineDeployment → MachineSets (one per template revision, named `<md>-<template hash>`) → Machines, with
 * CAPI's defaults: RollingUpdate, maxSurge 1, maxUnavailable 0 — a new machine comes up before an old one goes.
 */
import { API_BOOTSTRAP, API_CORE } from '../classes.ts';
import type { SimContext } from './context.ts';
import { generateName, shortHash } from './naming.ts';
import type { ClusterRuntime, Key, Reconciler, ReconcileResult } from './runtime.ts';
import type { Cluster, Condition, KObject, Machine, MachineDeployment, MachineSet, Template } from './types.ts';
import {
  A_TEMPLATE_CLONED_FROM,
  A_TEMPLATE_CLONED_FROM_KIND,
  cond,
  conditionsFrom,
  copy,
  ensureFinalizer,
  FIN_MD,
  FIN_MS,
  isDeleting,
  isPaused,
  isTrue,
  L_CLUSTER_NAME,
  L_DEPLOYMENT_NAME,
  L_MACHINE_TEMPLATE_HASH,
  L_SET_NAME,
  ownerRef,
  ReferenceNotFoundError,
  removeFinalizer,
  writeStatus,
} from './util.ts';

function templateHash(md: MachineDeployment): string {
  return shortHash(md.spec?.template ?? {}, 10);
}

function byAge(a: KObject, b: KObject): number {
  return (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name);
}

export function machineDeploymentReconciler(_sim: SimContext): Reconciler {
  return {
    name: 'machinedeployment',
    gate: 'cluster-api',
    apiVersion: API_CORE,
    kind: 'MachineDeployment',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const client = rt.client;
      let md = await client.get<MachineDeployment>(API_CORE, 'MachineDeployment', key.name, key.namespace);
      if (md === undefined) return undefined;
      const ns = key.namespace;
      const clusterName = md.spec?.clusterName ?? '';
      const cluster = await client.get<Cluster>(API_CORE, 'Cluster', clusterName, ns);
      if (isPaused(cluster, md)) return undefined;
      const sets = (await client.list<MachineSet>(API_CORE, 'MachineSet', { namespace: ns, labels: { [L_CLUSTER_NAME]: clusterName, [L_DEPLOYMENT_NAME]: md.metadata.name } })).filter((s) =>
        (s.metadata.ownerReferences ?? []).some((r) => r.kind === 'MachineDeployment' && r.name === md?.metadata.name),
      );
      if (isDeleting(md)) {
        for (const s of sets) await client.delete(API_CORE, 'MachineSet', s.metadata.name, ns);
        if (sets.length === 0) await removeFinalizer(client, md, FIN_MD);
        return undefined;
      }
      if (cluster === undefined) return undefined;
      md = await ensureFinalizer(client, md, FIN_MD);
      const desired = md.spec?.replicas ?? 1;
      const hash = templateHash(md);
      let current = sets.find((s) => s.metadata.labels?.[L_MACHINE_TEMPLATE_HASH] === hash);
      const old = sets.filter((s) => s !== current && !isDeleting(s));
      if (current === undefined) {
        const name = `${md.metadata.name}-${hash}`.slice(0, 63);
        const labels = { ...(md.spec?.template?.metadata?.labels ?? {}), [L_CLUSTER_NAME]: clusterName, [L_DEPLOYMENT_NAME]: md.metadata.name, [L_MACHINE_TEMPLATE_HASH]: hash };
        const template = copy(md.spec?.template ?? {});
        template.metadata = { ...(template.metadata ?? {}), labels };
        current = await client.create<MachineSet>({
          apiVersion: API_CORE,
          kind: 'MachineSet',
          metadata: { name, namespace: ns, labels, ownerReferences: [ownerRef(md, true)] },
          spec: {
            clusterName,
            replicas: old.length === 0 ? desired : 0,
            selector: { matchLabels: { [L_CLUSTER_NAME]: clusterName, [L_DEPLOYMENT_NAME]: md.metadata.name, [L_MACHINE_TEMPLATE_HASH]: hash } },
            template,
          },
        } as KObject);
      }
      const currentReplicas = current.spec?.replicas ?? 0;
      if (old.length === 0) {
        if (currentReplicas !== desired) await client.mergePatch(API_CORE, 'MachineSet', current.metadata.name, ns, { spec: { replicas: desired } });
      } else {
        // Rolling update, maxSurge 1 / maxUnavailable 0.
        const total = currentReplicas + old.reduce((n, s) => n + (s.spec?.replicas ?? 0), 0);
        const available = (current.status?.availableReplicas ?? 0) + old.reduce((n, s) => n + (s.status?.availableReplicas ?? 0), 0);
        if (total < desired + 1 && currentReplicas < desired) {
          await client.mergePatch(API_CORE, 'MachineSet', current.metadata.name, ns, { spec: { replicas: Math.min(desired, currentReplicas + (desired + 1 - total)) } });
        }
        let canRemove = Math.max(0, available - desired);
        if ((current.status?.availableReplicas ?? 0) >= desired) canRemove = Number.POSITIVE_INFINITY;
        for (const s of old.sort(byAge)) {
          const r = s.spec?.replicas ?? 0;
          if (r === 0) {
            if ((s.status?.replicas ?? 0) === 0) await client.delete(API_CORE, 'MachineSet', s.metadata.name, ns);
            continue;
          }
          if (canRemove <= 0) break;
          const down = Math.min(r, canRemove);
          canRemove -= down;
          await client.mergePatch(API_CORE, 'MachineSet', s.metadata.name, ns, { spec: { replicas: r - down } });
        }
      }
      const all = [current, ...old];
      const replicas = all.reduce((n, s) => n + (s.status?.replicas ?? 0), 0);
      const ready = all.reduce((n, s) => n + (s.status?.readyReplicas ?? 0), 0);
      const availableReplicas = all.reduce((n, s) => n + (s.status?.availableReplicas ?? 0), 0);
      const upToDate = current.status?.replicas ?? 0;
      const rollingOut = old.some((s) => (s.status?.replicas ?? 0) > 0 || (s.spec?.replicas ?? 0) > 0);
      const scalingUp = replicas < desired;
      const scalingDown = replicas > desired && !rollingOut;
      const isAvailable = availableReplicas >= desired;
      const conditions: Omit<Condition, 'lastTransitionTime'>[] = [
        isAvailable ? cond('Available', true, 'Available') : cond('Available', false, 'NotAvailable', `${availableReplicas} available replicas, at least ${desired} required (spec.strategy.rollout.maxUnavailable is 0, spec.replicas is ${desired})`),
        cond('RollingOut', rollingOut, rollingOut ? 'RollingOut' : 'NotRollingOut'),
        cond('ScalingUp', scalingUp, scalingUp ? 'ScalingUp' : 'NotScalingUp', scalingUp ? `Scaling up from ${replicas} to ${desired} replicas` : undefined),
        cond('ScalingDown', scalingDown, scalingDown ? 'ScalingDown' : 'NotScalingDown'),
        cond('Paused', false, 'NotPaused'),
        cond('Deleting', false, 'NotDeleting'),
      ];
      await writeStatus(client, md, {
        observedGeneration: md.metadata.generation,
        selector: `${L_CLUSTER_NAME}=${clusterName},${L_DEPLOYMENT_NAME}=${md.metadata.name}`,
        replicas,
        readyReplicas: ready,
        availableReplicas,
        upToDateReplicas: upToDate,
        phase: scalingUp ? 'ScalingUp' : scalingDown ? 'ScalingDown' : 'Running',
        conditions: conditionsFrom(md.status?.conditions, conditions, md.metadata.generation),
      });
      return undefined;
    },
  };
}

export function machineSetReconciler(sim: SimContext): Reconciler {
  return {
    name: 'machineset',
    gate: 'cluster-api',
    apiVersion: API_CORE,
    kind: 'MachineSet',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const client = rt.client;
      let ms = await client.get<MachineSet>(API_CORE, 'MachineSet', key.name, key.namespace);
      if (ms === undefined) return undefined;
      const ns = key.namespace;
      const clusterName = ms.spec?.clusterName ?? '';
      const cluster = await client.get<Cluster>(API_CORE, 'Cluster', clusterName, ns);
      if (isPaused(cluster, ms)) return undefined;
      const machines = (await client.list<Machine>(API_CORE, 'Machine', { namespace: ns, labels: { [L_CLUSTER_NAME]: clusterName, [L_SET_NAME]: ms.metadata.name } })).filter((m) =>
        (m.metadata.ownerReferences ?? []).some((r) => r.kind === 'MachineSet' && r.name === ms?.metadata.name),
      );
      if (isDeleting(ms)) {
        for (const m of machines) await client.delete(API_CORE, 'Machine', m.metadata.name, ns);
        if (machines.length === 0) await removeFinalizer(client, ms, FIN_MS);
        return undefined;
      }
      if (cluster === undefined) return undefined;
      ms = await ensureFinalizer(client, ms, FIN_MS);
      const desired = ms.spec?.replicas ?? 1;
      const live = machines.filter((m) => !isDeleting(m));
      if (live.length < desired) {
        for (let i = live.length; i < desired; i++) await createMachine(sim, rt, ms, clusterName);
      } else if (live.length > desired) {
        // Not-yet-ready machines go first, then the newest ones (CAPI's default "Random" policy prefers unhealthy ones).
        const ordered = [...live].sort((a, b) => Number(isTrue(a.status?.conditions, 'Ready')) - Number(isTrue(b.status?.conditions, 'Ready')) || byAge(b, a));
        for (const m of ordered.slice(0, live.length - desired)) await client.delete(API_CORE, 'Machine', m.metadata.name, ns);
      }
      const ready = live.filter((m) => isTrue(m.status?.conditions, 'Ready')).length;
      await writeStatus(client, ms, {
        observedGeneration: ms.metadata.generation,
        selector: Object.entries(ms.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
        replicas: machines.length,
        readyReplicas: ready,
        availableReplicas: ready,
        upToDateReplicas: machines.length,
        conditions: conditionsFrom(ms.status?.conditions, [
          cond('MachinesReady', ready === live.length, ready === live.length ? 'Ready' : 'NotReady'),
          cond('ScalingUp', live.length < desired, live.length < desired ? 'ScalingUp' : 'NotScalingUp'),
          cond('ScalingDown', live.length > desired, live.length > desired ? 'ScalingDown' : 'NotScalingDown'),
        ], ms.metadata.generation),
      });
      return undefined;
    },
  };
}

async function createMachine(sim: SimContext, rt: ClusterRuntime, ms: MachineSet, clusterName: string): Promise<void> {
  const client = rt.client;
  const ns = ms.metadata.namespace ?? 'default';
  const spec = ms.spec?.template?.spec;
  const infraRef = spec?.infrastructureRef;
  const configRef = spec?.bootstrap?.configRef;
  if (infraRef === undefined || configRef === undefined) throw new ReferenceNotFoundError(`MachineSet ${ns}/${ms.metadata.name} template lacks infrastructureRef or bootstrap.configRef`);
  const infraTemplate = await client.get<Template>(`${infraRef.apiGroup}/v1beta2`, infraRef.kind, infraRef.name, ns);
  const bootstrapTemplate = await client.get<Template>(API_BOOTSTRAP, configRef.kind, configRef.name, ns);
  if (infraTemplate === undefined || bootstrapTemplate === undefined) {
    throw new ReferenceNotFoundError(`MachineSet ${ns}/${ms.metadata.name}: template ${infraTemplate === undefined ? infraRef.name : configRef.name} not found`);
  }
  const name = generateName(sim.rng, `${ms.metadata.name}-`);
  const labels = { ...(ms.spec?.template?.metadata?.labels ?? {}), [L_CLUSTER_NAME]: clusterName, [L_SET_NAME]: ms.metadata.name };
  const bootstrapKind = configRef.kind.replace(/Template$/, '');
  const infraKind = infraRef.kind.replace(/Template$/, '');
  const machine = await client.create<Machine>({
    apiVersion: API_CORE,
    kind: 'Machine',
    metadata: { name, namespace: ns, labels, ownerReferences: [ownerRef(ms, true)] },
    spec: {
      clusterName,
      version: spec?.version,
      bootstrap: { configRef: { apiGroup: configRef.apiGroup, kind: bootstrapKind, name } },
      infrastructureRef: { apiGroup: infraRef.apiGroup, kind: infraKind, name },
    },
  } as KObject);
  await client.create({
    apiVersion: API_BOOTSTRAP,
    kind: bootstrapKind,
    metadata: { name, namespace: ns, labels, annotations: { [A_TEMPLATE_CLONED_FROM]: configRef.name, [A_TEMPLATE_CLONED_FROM_KIND]: `${configRef.kind}.${configRef.apiGroup}` }, ownerReferences: [ownerRef(machine, true)] },
    spec: copy(bootstrapTemplate.spec?.template?.spec ?? {}),
  } as KObject);
  await client.create({
    apiVersion: infraTemplate.apiVersion,
    kind: infraKind,
    metadata: { name, namespace: ns, labels, annotations: { [A_TEMPLATE_CLONED_FROM]: infraRef.name, [A_TEMPLATE_CLONED_FROM_KIND]: `${infraRef.kind}.${infraRef.apiGroup}` }, ownerReferences: [ownerRef(machine, true)] },
    spec: copy(infraTemplate.spec?.template?.spec ?? {}),
  } as KObject);
}
