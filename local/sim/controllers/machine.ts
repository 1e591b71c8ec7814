/**
 * CAPI core's Machine controller: waits for the bootstrap data and the infrastructure machine, copies the
 * provider id, finds the Node the kubelet registered in the workload cluster (`status.nodeRef`), and reports
 * phase and v1beta2 conditions. A failed infrastructure machine makes the Machine `Failed`, with the reason and
 * message kept where v1beta2 keeps them (`status.deprecated.v1beta1.failure*`). Deletion (finalizer
 * `machine.cluster.x-k8s.io`) removes the Node, then the infrastructure machine (which terminates the instance)
 * and the bootstrap config.
 */
import { API_CORE } from '../classes.ts';
import type { SimContext } from './context.ts';
import { workloadClusterName } from './naming.ts';
import type { ClusterRuntime, Key, Reconciler, ReconcileResult } from './runtime.ts';
import type { Cluster, Condition, KObject, KubeadmConfig, Machine, NodeObject, SimMachine } from './types.ts';
import {
  A_DELETE_FOR_MOVE,
  cond,
  conditionsFrom,
  ensureFinalizer,
  FIN_MACHINE,
  getCondition,
  hasAnnotation,
  isDeleting,
  isPaused,
  mirror,
  removeFinalizer,
  writeStatus,
} from './util.ts';

export function machineReconciler(sim: SimContext): Reconciler {
  return {
    name: 'machine',
    gate: 'cluster-api',
    apiVersion: API_CORE,
    kind: 'Machine',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const client = rt.client;
      let machine = await client.get<Machine>(API_CORE, 'Machine', key.name, key.namespace);
      if (machine === undefined) return undefined;
      const ns = key.namespace;
      const clusterName = machine.spec?.clusterName ?? '';
      const cluster = await client.get<Cluster>(API_CORE, 'Cluster', clusterName, ns);
      if (isPaused(cluster, machine)) {
        await writeStatus(client, machine, { ...(machine.status ?? {}), conditions: conditionsFrom(machine.status?.conditions, [cond('Paused', true, 'Paused')]) });
        return undefined;
      }
      const bootstrapRef = machine.spec?.bootstrap?.configRef;
      const infraRef = machine.spec?.infrastructureRef;
      const bootstrap = bootstrapRef === undefined ? undefined : await client.get<KubeadmConfig>(`${bootstrapRef.apiGroup}/v1beta2`, bootstrapRef.kind, bootstrapRef.name, ns);
      const infra = infraRef === undefined ? undefined : await client.get<SimMachine>(`${infraRef.apiGroup}/v1beta2`, infraRef.kind, infraRef.name, ns);
      const vc = workloadClusterName(ns, clusterName);

      if (isDeleting(machine)) {
        if (hasAnnotation(machine, A_DELETE_FOR_MOVE)) return undefined;
        const nodeName = machine.status?.nodeRef?.name;
        const workload = sim.workloadClient(vc);
        if (nodeName !== undefined && workload !== undefined) await workload.delete('v1', 'Node', nodeName);
        if (infra !== undefined) await client.delete(infra.apiVersion, infra.kind, infra.metadata.name, ns);
        if (bootstrap !== undefined) await client.delete(bootstrap.apiVersion, bootstrap.kind, bootstrap.metadata.name, ns);
        if (infra === undefined) {
          await removeFinalizer(client, machine, FIN_MACHINE);
          return undefined;
        }
        await writeStatus(client, machine, {
          ...(machine.status ?? {}),
          phase: 'Deleting',
          conditions: conditionsFrom(machine.status?.conditions, [cond('Deleting', true, 'WaitingForInfrastructureDeletion', `* ${infra.kind} is deleting`), cond('Ready', false, 'Deleting')]),
        });
        return undefined;
      }
      if (cluster === undefined) return { requeueAfterMs: sim.timing.requeueMs };
      machine = await ensureFinalizer(client, machine, FIN_MACHINE);

      const spec: Record<string, unknown> = {};
      const dataSecretName = bootstrap?.status?.dataSecretName;
      if (dataSecretName !== undefined && machine.spec?.bootstrap?.dataSecretName === undefined) spec.bootstrap = { dataSecretName };
      const providerID = infra?.spec?.providerID;
      const infraProvisioned = infra?.status?.initialization?.provisioned === true;
      if (infraProvisioned && providerID !== undefined && machine.spec?.providerID === undefined) spec.providerID = providerID;
      if (Object.keys(spec).length > 0) machine = await client.mergePatch<Machine>(API_CORE, 'Machine', machine.metadata.name, ns, { spec });

      const bootstrapReady = (machine.spec?.bootstrap?.dataSecretName ?? dataSecretName) !== undefined;
      const failureReason = infra?.status?.failureReason;
      const failureMessage = infra?.status?.failureMessage;
      let node: NodeObject | undefined;
      const workload = sim.workloadClient(vc);
      const machineProviderID = machine.spec?.providerID;
      if (workload !== undefined && machineProviderID !== undefined) {
        // The simulated provider names nodes after their Machine; a nodeRef is only trusted with a matching providerID.
        const candidate = await workload.get<NodeObject>('v1', 'Node', machine.status?.nodeRef?.name ?? machine.metadata.name);
        if (candidate?.spec?.providerID === machineProviderID) node = candidate;
      }
      const nodeReady = node?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

      let phase: string;
      if (failureReason !== undefined) phase = 'Failed';
      else if (node !== undefined) phase = 'Running';
      else if (infraProvisioned) phase = 'Provisioned';
      else if (bootstrapReady) phase = 'Provisioning';
      else phase = 'Pending';

      const conditions: Omit<Condition, 'lastTransitionTime'>[] = [
        bootstrapReady ? cond('BootstrapConfigReady', true, 'Ready') : cond('BootstrapConfigReady', false, 'NotReady', `${bootstrapRef?.kind ?? 'Bootstrap config'} status.initialization.dataSecretCreated is false`),
        failureReason !== undefined
          ? cond('InfrastructureReady', false, getCondition(infra?.status?.conditions, 'Ready')?.reason ?? 'NotReady', `${infraRef?.kind ?? 'Infrastructure machine'} failed: ${failureMessage ?? failureReason}`)
          : infra === undefined
            ? cond('InfrastructureReady', false, 'DoesNotExist', `${infraRef?.kind ?? 'Infrastructure machine'} does not exist`)
            : (mirror(getCondition(infra.status?.conditions, 'Ready'), 'InfrastructureReady') ??
              (infraProvisioned ? cond('InfrastructureReady', true, 'Ready') : cond('InfrastructureReady', false, 'NotReady', `${infraRef?.kind} status.initialization.provisioned is false`))),
        node === undefined
          ? cond('NodeReady', false, 'NodeDoesNotExist', 'Waiting for a Node with spec.providerID to exist')
          : nodeReady
            ? cond('NodeReady', true, 'NodeReady')
            : cond('NodeReady', false, 'NodeNotReady', `* Node.Ready: ${node.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? 'not ready'}`),
        cond('NodeHealthy', nodeReady, nodeReady ? 'NodeHealthy' : 'NodeNotHealthy'),
        cond('Deleting', false, 'NotDeleting'),
        cond('Paused', false, 'NotPaused'),
      ];
      const ready = nodeReady && failureReason === undefined;
      conditions.push(ready ? cond('Ready', true, 'Ready') : cond('Ready', false, 'NotReady', failureReason !== undefined ? `* InfrastructureReady: ${failureMessage ?? failureReason}` : node === undefined ? '* NodeHealthy: Waiting for a Node' : '* NodeHealthy: Node is not ready'));
      conditions.push(cond('Available', ready, ready ? 'Available' : 'NotReady'));
      const status: Machine['status'] & Record<string, unknown> = {
        phase,
        observedGeneration: machine.metadata.generation,
        initialization: { bootstrapDataSecretCreated: bootstrapReady, infrastructureProvisioned: infraProvisioned },
        conditions: conditionsFrom(machine.status?.conditions, conditions, machine.metadata.generation),
      };
      if (node !== undefined) status.nodeRef = { name: node.metadata.name };
      if (infra?.status?.addresses !== undefined) status.addresses = infra.status.addresses;
      if (failureReason !== undefined) status.deprecated = { v1beta1: { failureReason, ...(failureMessage !== undefined ? { failureMessage } : {}) } };
      await writeStatus(client, machine as KObject, status);
      return undefined;
    },
  };
}
