/**
 * The kubeadm bootstrap provider: one bootstrap data Secret per KubeadmConfig (named after it, owned by it).
 * Join configurations (workers and additional control-plane machines) wait until the control plane is
 * initialised, as CABPK does; the init configuration of the first control-plane machine does not.
 * A Secret that already exists (after a move) is adopted, never regenerated.
 */
import { API_BOOTSTRAP, API_CORE } from '../classes.ts';
import type { SimContext } from './context.ts';
import type { ClusterRuntime, Key, Reconciler, ReconcileResult } from './runtime.ts';
import type { Cluster, KObject, KubeadmConfig, Machine } from './types.ts';
import { clusterNameOf, cond, conditionsFrom, isDeleting, isPaused, L_CLUSTER_NAME, ownerRef, writeStatus } from './util.ts';

export function bootstrapReconciler(_sim: SimContext): Reconciler {
  return {
    name: 'kubeadmconfig',
    gate: 'bootstrap-kubeadm',
    apiVersion: API_BOOTSTRAP,
    kind: 'KubeadmConfig',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const client = rt.client;
      const config = await client.get<KubeadmConfig>(API_BOOTSTRAP, 'KubeadmConfig', key.name, key.namespace);
      if (config === undefined || isDeleting(config)) return undefined;
      const ns = key.namespace;
      const clusterName = clusterNameOf(config);
      const cluster = clusterName === undefined ? undefined : await client.get<Cluster>(API_CORE, 'Cluster', clusterName, ns);
      if (cluster === undefined || clusterName === undefined) return undefined;
      if (isPaused(cluster, config)) return undefined;
      const ownerMachine = config.metadata.ownerReferences?.find((r) => r.kind === 'Machine');
      if (ownerMachine === undefined) return undefined;
      const machine = await client.get<Machine>(API_CORE, 'Machine', ownerMachine.name, ns);
      if (machine === undefined) return undefined;

      const secretName = config.metadata.name;
      const existing = await client.get('v1', 'Secret', secretName, ns);
      if (existing === undefined) {
        const spec = (config.spec ?? {}) as Record<string, unknown>;
        const isInit = spec.initConfiguration !== undefined && spec.joinConfiguration === undefined;
        const initialized = cluster.status?.initialization?.controlPlaneInitialized === true;
        if (!isInit && !initialized) {
          await writeStatus(client, config, {
            ...(config.status ?? {}),
            initialization: { dataSecretCreated: false },
            conditions: conditionsFrom(config.status?.conditions, [
              cond('DataSecretAvailable', false, 'WaitingForControlPlaneInitialization', 'Waiting for the control plane to be initialized'),
              cond('Ready', false, 'NotReady', '* DataSecretAvailable: Waiting for the control plane to be initialized'),
            ]),
          });
          return undefined;
        }
        const role = machine.metadata.labels?.['cluster.x-k8s.io/control-plane'] !== undefined ? 'control-plane' : 'worker';
        const cloudConfig = [
          '## template: jinja',
          '#cloud-config',
          `# simulated kubeadm ${isInit ? 'init' : 'join'} of ${role} machine ${machine.metadata.name}`,
          `# cluster ${ns}/${clusterName}, kubernetes ${machine.spec?.version ?? ''}`,
          'runcmd:',
          `  - kubeadm ${isInit ? 'init' : 'join'} --config /run/kubeadm/kubeadm${isInit ? '' : '-join-config'}.yaml`,
          '',
        ].join('\n');
        await client.create({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: secretName, namespace: ns, labels: { [L_CLUSTER_NAME]: clusterName }, ownerReferences: [ownerRef(config, true)] },
          type: 'cluster.x-k8s.io/secret',
          data: { value: Buffer.from(cloudConfig).toString('base64'), format: Buffer.from('cloud-config').toString('base64') },
        } as KObject);
      }
      await writeStatus(client, config, {
        ...(config.status ?? {}),
        observedGeneration: config.metadata.generation,
        dataSecretName: secretName,
        initialization: { dataSecretCreated: true },
        conditions: conditionsFrom(config.status?.conditions, [cond('DataSecretAvailable', true, 'Available'), cond('Ready', true, 'Ready')]),
      });
      return undefined;
    },
  };
}
