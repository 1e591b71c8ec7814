/**
 * ClusterClasses of the simulated infrastructure provider, named as Cluster Stacks name theirs
 * (`<provider>-<stack>-<k8s major-minor>-<stack version>`), installed in namespace `default` of the management
 * cluster at start. Slipway references them as `spec.topology.classRef {name, namespace: "default"}`.
 *
 * Every class has one worker class, `default-worker`. What differs between classes:
 * - `sim-ferrol-1-31-v1` / `sim-ferrol-1-32-v1`: same machine shape (`sim.medium`), image for their minor;
 * - `sim-ferrol-1-31-v2`: a newer stack release for 1.31 (machine shape `sim.large`, newer image), so a rebase
 *   from v1 to v2 changes the machine templates and rolls every machine, as a Cluster Stacks rebase does.
 *
 * Templates carry the `clusterctl.cluster.x-k8s.io/move` label; the ClusterClass controller additionally makes
 * the ClusterClass own them, as CAPI does, so `clusterctl move` carries them with the class.
 */

export const CLUSTER_CLASS_NAMESPACE = 'default';
export const DEFAULT_WORKER_CLASS = 'default-worker';
export const CLUSTER_CLASS_NAMES = ['sim-ferrol-1-31-v1', 'sim-ferrol-1-32-v1', 'sim-ferrol-1-31-v2'] as const;
export type ClusterClassName = (typeof CLUSTER_CLASS_NAMES)[number];

export const GROUP_CORE = 'cluster.x-k8s.io';
export const API_CORE = 'cluster.x-k8s.io/v1beta2';
export const GROUP_CP = 'controlplane.cluster.x-k8s.io';
export const API_CP = 'controlplane.cluster.x-k8s.io/v1beta2';
export const GROUP_BOOTSTRAP = 'bootstrap.cluster.x-k8s.io';
export const API_BOOTSTRAP = 'bootstrap.cluster.x-k8s.io/v1beta2';
export const GROUP_INFRA = 'infrastructure.cluster.x-k8s.io';
export const API_INFRA = 'infrastructure.cluster.x-k8s.io/v1beta2';
export const API_ADDONS = 'addons.cluster.x-k8s.io/v1alpha1';
export const API_CLUSTERCTL = 'clusterctl.cluster.x-k8s.io/v1alpha3';

export interface ClassObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

interface StackRelease {
  name: ClusterClassName;
  kubernetesMinor: string;
  instanceType: string;
  image: string;
}

const RELEASES: readonly StackRelease[] = [
  { name: 'sim-ferrol-1-31-v1', kubernetesMinor: '1.31', instanceType: 'sim.medium', image: 'sim-ferrol-1-31-v1' },
  { name: 'sim-ferrol-1-32-v1', kubernetesMinor: '1.32', instanceType: 'sim.medium', image: 'sim-ferrol-1-32-v1' },
  { name: 'sim-ferrol-1-31-v2', kubernetesMinor: '1.31', instanceType: 'sim.large', image: 'sim-ferrol-1-31-v2' },
];

function labels(release: StackRelease): Record<string, string> {
  return {
    'clusterctl.cluster.x-k8s.io/move': '',
    'clusterstack.x-k8s.io/name': 'ferrol',
    'clusterstack.x-k8s.io/kubernetes-version': release.kubernetesMinor,
  };
}

/** The ClusterClass and its four templates for one stack release, in creation order (templates first). */
export function clusterClassObjects(name: ClusterClassName, namespace = CLUSTER_CLASS_NAMESPACE): ClassObject[] {
  const release = RELEASES.find((r) => r.name === name);
  if (release === undefined) throw new RangeError(`unknown ClusterClass ${name}`);
  const meta = (suffix: string) => ({ name: `${name}${suffix}`, namespace, labels: labels(release) });
  const clusterTemplate: ClassObject = {
    apiVersion: API_INFRA,
    kind: 'SimClusterTemplate',
    metadata: meta(''),
    spec: { template: { spec: { region: 'sim-region-1' } } },
  };
  const controlPlaneTemplate: ClassObject = {
    apiVersion: API_CP,
    kind: 'KubeadmControlPlaneTemplate',
    metadata: meta('-control-plane'),
    spec: {
      template: {
        spec: {
          kubeadmConfigSpec: {
            clusterConfiguration: { etcd: { local: { dataDir: '/var/lib/etcd' } } },
            initConfiguration: { nodeRegistration: { kubeletExtraArgs: [{ name: 'cloud-provider', value: 'external' }] } },
            joinConfiguration: { nodeRegistration: { kubeletExtraArgs: [{ name: 'cloud-provider', value: 'external' }] } },
          },
          rollout: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } },
        },
      },
    },
  };
  const machineTemplate = (suffix: string): ClassObject => ({
    apiVersion: API_INFRA,
    kind: 'SimMachineTemplate',
    metadata: meta(suffix),
    spec: { template: { spec: { instanceType: release.instanceType, image: release.image } } },
  });
  const workerBootstrap: ClassObject = {
    apiVersion: API_BOOTSTRAP,
    kind: 'KubeadmConfigTemplate',
    metadata: meta(`-${DEFAULT_WORKER_CLASS}`),
    spec: {
      template: {
        spec: { joinConfiguration: { nodeRegistration: { kubeletExtraArgs: [{ name: 'cloud-provider', value: 'external' }] } } },
      },
    },
  };
  const cpMachine = machineTemplate('-control-plane');
  const workerMachine = machineTemplate(`-${DEFAULT_WORKER_CLASS}`);
  const ref = (o: ClassObject) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name });
  const clusterClass: ClassObject = {
    apiVersion: API_CORE,
    kind: 'ClusterClass',
    metadata: { ...meta(''), annotations: { 'sim.slipway.dev/kubernetes-minor': release.kubernetesMinor } },
    spec: {
      infrastructure: { templateRef: ref(clusterTemplate) },
      controlPlane: { templateRef: ref(controlPlaneTemplate), machineInfrastructure: { templateRef: ref(cpMachine) } },
      workers: {
        machineDeployments: [
          {
            class: DEFAULT_WORKER_CLASS,
            bootstrap: { templateRef: ref(workerBootstrap) },
            infrastructure: { templateRef: ref(workerMachine) },
          },
        ],
      },
    },
  };
  return [clusterTemplate, controlPlaneTemplate, cpMachine, workerBootstrap, workerMachine, clusterClass];
}

export function allClusterClassObjects(namespace = CLUSTER_CLASS_NAMESPACE): ClassObject[] {
  return CLUSTER_CLASS_NAMES.flatMap((name) => clusterClassObjects(name, namespace));
}
