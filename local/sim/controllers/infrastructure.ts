/**
 * The simulated infrastructure provider (SimCluster, SimMachine), modelled on CAPA: a SimMachine finds its
 * instance by `spec.providerID` first, then by the Machine identity tag, and launches one only when neither
 * exists — so controllers that take over moved objects adopt the running instances instead of creating new
 * ones. A launch refused by the cloud (injected fault) marks the SimMachine failed, terminally, as CAPA does.
 * Deletion terminates the instance, except for the source copy of a `clusterctl move`.
 */
import { API_CORE, API_INFRA } from '../classes.ts';
import { InstanceLaunchError } from '../cloud.ts';
import type { SimContext } from './context.ts';
import { clusterKey, machineKey, workloadClusterName } from './naming.ts';
import type { ClusterRuntime, Key, Reconciler, ReconcileResult } from './runtime.ts';
import type { Cluster, Machine, SimCluster, SimMachine } from './types.ts';
import {
  A_DELETE_FOR_MOVE,
  clusterNameOf,
  cond,
  conditionsFrom,
  ensureFinalizer,
  FIN_SIM_CLUSTER,
  FIN_SIM_MACHINE,
  hasAnnotation,
  isDeleting,
  isPaused,
  removeFinalizer,
  writeStatus,
} from './util.ts';

export function simClusterReconciler(sim: SimContext): Reconciler {
  const startedAt = new Map<string, number>();
  return {
    name: 'simcluster',
    gate: 'infrastructure-sim',
    apiVersion: API_INFRA,
    kind: 'SimCluster',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const client = rt.client;
      let infra = await client.get<SimCluster>(API_INFRA, 'SimCluster', key.name, key.namespace);
      if (infra === undefined) return undefined;
      const clusterName = clusterNameOf(infra);
      const cluster = clusterName === undefined ? undefined : await client.get<Cluster>(API_CORE, 'Cluster', clusterName, key.namespace);
      if (isPaused(cluster, infra)) return undefined;
      if (isDeleting(infra)) {
        if (!hasAnnotation(infra, A_DELETE_FOR_MOVE)) await removeFinalizer(client, infra, FIN_SIM_CLUSTER);
        return undefined;
      }
      // Wait for the Cluster to own it (CAPI's contract), as the real provider does.
      if (cluster === undefined || !(infra.metadata.ownerReferences ?? []).some((r) => r.kind === 'Cluster')) return undefined;
      infra = await ensureFinalizer(client, infra, FIN_SIM_CLUSTER);
      if (infra.status?.initialization?.provisioned === true && infra.spec?.controlPlaneEndpoint?.host !== undefined) return undefined;
      const uid = infra.metadata.uid ?? key.name;
      const start = startedAt.get(uid) ?? Date.now();
      startedAt.set(uid, start);
      const wait = start + sim.timing.infraProvisionMs - Date.now();
      if (wait > 0) {
        await writeStatus(client, infra, {
          initialization: { provisioned: false },
          conditions: conditionsFrom(infra.status?.conditions, [cond('Ready', false, 'Provisioning', 'Creating network and load balancer')]),
        });
        return { requeueAfterMs: wait };
      }
      if (infra.spec?.controlPlaneEndpoint?.host === undefined) {
        const port = Number(new URL(sim.baseUrl()).port || 80);
        infra = await client.mergePatch<SimCluster>(API_INFRA, 'SimCluster', key.name, key.namespace, { spec: { controlPlaneEndpoint: { host: '127.0.0.1', port } } });
      }
      startedAt.delete(uid);
      await writeStatus(client, infra, {
        initialization: { provisioned: true },
        conditions: conditionsFrom(infra.status?.conditions, [cond('Ready', true, 'Ready')]),
      });
      return undefined;
    },
  };
}

export function simMachineReconciler(sim: SimContext): Reconciler {
  return {
    name: 'simmachine',
    gate: 'infrastructure-sim',
    apiVersion: API_INFRA,
    kind: 'SimMachine',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const client = rt.client;
      let sm = await client.get<SimMachine>(API_INFRA, 'SimMachine', key.name, key.namespace);
      if (sm === undefined) return undefined;
      const ns = key.namespace;
      const clusterName = clusterNameOf(sm);
      const cluster = clusterName === undefined ? undefined : await client.get<Cluster>(API_CORE, 'Cluster', clusterName, ns);
      if (isPaused(cluster, sm)) return undefined;
      const providerID = sm.spec?.providerID;

      if (isDeleting(sm)) {
        // The source copy of a move: the instance now belongs to the target's SimMachine.
        if (hasAnnotation(sm, A_DELETE_FOR_MOVE)) return undefined;
        const instances = providerID !== undefined ? [sim.cloud.describe(providerID)] : sim.cloud.findLiveByMachine(machineKey(ns, clusterName ?? '', sm.metadata.name));
        let waiting = false;
        for (const instance of instances) {
          if (instance === undefined || instance.state === 'terminated') continue;
          sim.cloud.terminate(instance.providerID);
          waiting = true;
        }
        if (waiting) {
          await writeStatus(client, sm, { ...(sm.status ?? {}), instanceState: 'shutting-down', conditions: conditionsFrom(sm.status?.conditions, [cond('Ready', false, 'Deleting', 'Terminating instance')]) });
          return undefined;
        }
        await removeFinalizer(client, sm, FIN_SIM_MACHINE);
        return undefined;
      }
      if (cluster === undefined || clusterName === undefined) return undefined;
      const owner = sm.metadata.ownerReferences?.find((r) => r.kind === 'Machine');
      if (owner === undefined) return undefined;
      const machine = await client.get<Machine>(API_CORE, 'Machine', owner.name, ns);
      if (machine === undefined) return undefined;
      sm = await ensureFinalizer(client, sm, FIN_SIM_MACHINE);
      if (sm.status?.failureReason !== undefined) return undefined;
      if (cluster.status?.initialization?.infrastructureProvisioned !== true) return undefined;
      if (machine.spec?.bootstrap?.dataSecretName === undefined) {
        await writeStatus(client, sm, {
          ...(sm.status ?? {}),
          initialization: { provisioned: false },
          conditions: conditionsFrom(sm.status?.conditions, [cond('Ready', false, 'WaitingForBootstrapData', 'Waiting for the bootstrap data secret')]),
        });
        return undefined;
      }
      const mKey = machineKey(ns, clusterName, machine.metadata.name);
      let instance = providerID !== undefined ? sim.cloud.describe(providerID) : sim.cloud.findLiveByMachine(mKey)[0];
      if (providerID !== undefined && (instance === undefined || instance.state === 'terminated' || instance.state === 'shutting-down')) {
        await writeStatus(client, sm, {
          ...(sm.status ?? {}),
          instanceState: instance?.state ?? 'unknown',
          failureReason: 'UpdateError',
          failureMessage: `Instance ${providerID} ${instance === undefined ? 'not found' : `state changed to ${instance.state}`}`,
          conditions: conditionsFrom(sm.status?.conditions, [cond('Ready', false, 'InstanceNotFound', `Instance ${providerID} is gone`)]),
        });
        return undefined;
      }
      if (instance === undefined) {
        try {
          instance = sim.cloud.runInstance({
            machineKey: mKey,
            clusterKey: clusterKey(ns, clusterName),
            workloadCluster: workloadClusterName(ns, clusterName),
            controlPlane: machine.metadata.labels?.['cluster.x-k8s.io/control-plane'] !== undefined,
            version: machine.spec?.version ?? '',
            nodeName: machine.metadata.name,
            ...(sm.spec?.instanceType !== undefined ? { instanceType: sm.spec.instanceType } : {}),
          });
        } catch (err) {
          if (!(err instanceof InstanceLaunchError)) throw err;
          await writeStatus(client, sm, {
            ...(sm.status ?? {}),
            initialization: { provisioned: false },
            failureReason: 'CreateError',
            failureMessage: `Failed to launch instance: ${err.code}: ${err.message}`,
            conditions: conditionsFrom(sm.status?.conditions, [cond('Ready', false, 'InstanceProvisionFailed', `${err.code}: ${err.message}`)]),
          });
          return undefined;
        }
      }
      if (sm.spec?.providerID !== instance.providerID) {
        sm = await client.mergePatch<SimMachine>(API_INFRA, 'SimMachine', sm.metadata.name, ns, { spec: { providerID: instance.providerID } });
      }
      const running = instance.state === 'running';
      await writeStatus(client, sm, {
        initialization: { provisioned: running },
        instanceState: instance.state,
        addresses: [
          { type: 'InternalIP', address: instance.privateIp },
          { type: 'InternalDNS', address: machine.metadata.name },
        ],
        conditions: conditionsFrom(sm.status?.conditions, [running ? cond('Ready', true, 'Ready') : cond('Ready', false, 'InstanceProvisioning', `Instance ${instance.id} is ${instance.state}`)]),
      });
      return undefined;
    },
  };
}
