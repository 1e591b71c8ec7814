/**
 * The shapes of the objects the simulated controllers read and write: only the fields they use, all optional
 * where a user may leave them out. Objects come from the store as plain JSON and are viewed through these types.
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** v1beta2 contract reference (`apiGroup`, `kind`, `name`; same namespace). */
export interface ContractRef {
  apiGroup: string;
  kind: string;
  name: string;
}

/** ClusterClass template reference. */
export interface TemplateRef {
  apiVersion: string;
  kind: string;
  name: string;
}

export interface ReplicaCounters {
  desiredReplicas?: number;
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  upToDateReplicas?: number;
}

export interface MachineDeploymentTopology {
  class: string;
  name: string;
  replicas?: number;
}

export interface Cluster extends KObject {
  spec?: {
    paused?: boolean;
    topology?: {
      classRef?: { name?: string; namespace?: string };
      version?: string;
      controlPlane?: { replicas?: number };
      workers?: { machineDeployments?: MachineDeploymentTopology[] };
    };
    infrastructureRef?: ContractRef;
    controlPlaneRef?: ContractRef;
    controlPlaneEndpoint?: { host?: string; port?: number };
  };
  status?: {
    phase?: string;
    observedGeneration?: number;
    initialization?: { infrastructureProvisioned?: boolean; controlPlaneInitialized?: boolean };
    conditions?: Condition[];
    controlPlane?: ReplicaCounters;
    workers?: ReplicaCounters;
  };
}

export interface ClusterClass extends KObject {
  spec?: {
    infrastructure?: { templateRef?: TemplateRef };
    controlPlane?: { templateRef?: TemplateRef; machineInfrastructure?: { templateRef?: TemplateRef } };
    workers?: {
      machineDeployments?: {
        class: string;
        bootstrap?: { templateRef?: TemplateRef };
        infrastructure?: { templateRef?: TemplateRef };
      }[];
    };
  };
}

export interface Template extends KObject {
  spec?: { template?: { metadata?: unknown; spec?: Record<string, unknown> } };
}

export interface MachineTemplateSpec {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    clusterName?: string;
    version?: string;
    bootstrap?: { configRef?: ContractRef; dataSecretName?: string };
    infrastructureRef?: ContractRef;
  };
}

export interface KubeadmControlPlane extends KObject {
  spec?: {
    replicas?: number;
    version?: string;
    machineTemplate?: { metadata?: { labels?: Record<string, string> }; spec?: { infrastructureRef?: ContractRef } };
    kubeadmConfigSpec?: Record<string, unknown>;
    rollout?: unknown;
  };
  status?: {
    initialization?: { controlPlaneInitialized?: boolean };
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    upToDateReplicas?: number;
    version?: string;
    selector?: string;
    observedGeneration?: number;
    conditions?: Condition[];
  };
}

export interface MachineDeployment extends KObject {
  spec?: {
    clusterName?: string;
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template?: MachineTemplateSpec;
  };
  status?: ReplicaCounters & { observedGeneration?: number; phase?: string; selector?: string; conditions?: Condition[] };
}

export type MachineSet = MachineDeployment;

export interface Machine extends KObject {
  spec?: {
    clusterName?: string;
    version?: string;
    providerID?: string;
    bootstrap?: { configRef?: ContractRef; dataSecretName?: string };
    infrastructureRef?: ContractRef;
  };
  status?: {
    phase?: string;
    nodeRef?: { name: string };
    addresses?: { type: string; address: string }[];
    initialization?: { infrastructureProvisioned?: boolean; bootstrapDataSecretCreated?: boolean };
    conditions?: Condition[];
    observedGeneration?: number;
    deprecated?: { v1beta1?: { failureReason?: string; failureMessage?: string } };
  };
}

export interface SimMachine extends KObject {
  spec?: { providerID?: string; instanceType?: string; image?: string };
  status?: {
    initialization?: { provisioned?: boolean };
    instanceState?: string;
    addresses?: { type: string; address: string }[];
    failureReason?: string;
    failureMessage?: string;
    conditions?: Condition[];
  };
}

export interface SimCluster extends KObject {
  spec?: { region?: string; controlPlaneEndpoint?: { host?: string; port?: number } };
  status?: { initialization?: { provisioned?: boolean }; conditions?: Condition[] };
}

export interface KubeadmConfig extends KObject {
  spec?: Record<string, unknown>;
  status?: {
    dataSecretName?: string;
    initialization?: { dataSecretCreated?: boolean };
    conditions?: Condition[];
    observedGeneration?: number;
  };
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export interface NodeObject extends KObject {
  spec?: { providerID?: string; taints?: Taint[]; unschedulable?: boolean };
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string; lastHeartbeatTime?: string; lastTransitionTime?: string }[];
    nodeInfo?: Record<string, string>;
    addresses?: { type: string; address: string }[];
  };
}

/** A pod volume: only the sources the kubelet must find before a container can start. */
export interface Volume {
  name: string;
  secret?: { secretName?: string; optional?: boolean };
  configMap?: { name?: string; optional?: boolean };
  projected?: { sources?: { secret?: { name?: string; optional?: boolean }; configMap?: { name?: string; optional?: boolean } }[] };
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec?: {
    tolerations?: Toleration[];
    nodeSelector?: Record<string, string>;
    containers?: { args?: string[]; env?: { name: string; value?: string }[] }[];
    volumes?: Volume[];
  };
}

export interface Deployment extends KObject {
  spec?: { replicas?: number; template?: PodTemplate };
  status?: Record<string, unknown>;
}

export interface DaemonSet extends KObject {
  spec?: { template?: PodTemplate };
  status?: Record<string, unknown>;
}

export interface HelmChartProxy extends KObject {
  spec?: {
    clusterSelector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
    repoURL?: string;
    chartName?: string;
    version?: string;
    releaseName?: string;
    namespace?: string;
    valuesTemplate?: string;
    reconcileStrategy?: string;
    options?: { install?: { createNamespace?: boolean }; wait?: boolean; timeout?: string; atomic?: boolean };
  };
  status?: Record<string, unknown>;
}

export interface HelmReleaseProxy extends KObject {
  spec?: {
    clusterRef?: { apiVersion?: string; kind?: string; name: string; namespace?: string };
    repoURL?: string;
    chartName?: string;
    version?: string;
    releaseName?: string;
    namespace?: string;
    values?: string;
    reconcileStrategy?: string;
    options?: { install?: { createNamespace?: boolean } };
  };
  status?: { status?: string; revision?: number; conditions?: Condition[]; observedGeneration?: number };
}
