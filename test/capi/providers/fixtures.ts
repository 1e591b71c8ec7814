// biome-ignore-all lint/suspicious/noTemplateCurlyInString: components files and their tests are full of literal ${VAR} placeholders
/**
 * Small components files in the shape of the real releases (CRDs with structural schemas, one Namespace,
 * RBAC, a webhook Service, cert-manager Issuer + Certificate, webhook configurations, a controller Deployment
 * whose flags use `${VAR:=default}`), and a local HTTPS server serving them in clusterctl's local-repository
 * layout — so the installer's download, processing and apply run for real, without the network.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate } from '../../../local/sim/apiserver/tls.ts';
import { CERT_MANAGER, type ProviderSpec, PROVIDERS } from '../../../shared/capi/providers/index.ts';

/** A CRD in the shape controller-gen writes (schema fields client-node's models rename included). */
function crd(group: string, kind: string, version: string): string {
  const plural = `${kind.toLowerCase()}s`;
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  annotations:
    controller-gen.kubebuilder.io/version: v0.18.0
  name: ${plural}.${group}
spec:
  group: ${group}
  names:
    kind: ${kind}
    listKind: ${kind}List
    plural: ${plural}
    singular: ${kind.toLowerCase()}
  scope: Namespaced
  versions:
  - name: ${version}
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              paused:
                type: boolean
                default: false
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
    subresources:
      status: {}
`;
}

interface ProviderShape {
  namespace: string;
  deployment: string;
  group: string;
  kinds: string[];
  /** Extra container args, `${…}` allowed. */
  args: string[];
  /** Extra documents. */
  extra?: string;
}

const SHAPES: Record<string, ProviderShape> = {
  'cluster-api': {
    namespace: 'capi-system',
    deployment: 'capi-controller-manager',
    group: 'cluster.x-k8s.io',
    kinds: ['Cluster', 'Machine'],
    args: ['--diagnostics-address=${CAPI_DIAGNOSTICS_ADDRESS:=:8443}', '--feature-gates=MachinePool=${EXP_MACHINE_POOL:=true},ClusterTopology=${CLUSTER_TOPOLOGY:=false}'],
  },
  'bootstrap-kubeadm': {
    namespace: 'capi-kubeadm-bootstrap-system',
    deployment: 'capi-kubeadm-bootstrap-controller-manager',
    group: 'bootstrap.cluster.x-k8s.io',
    kinds: ['KubeadmConfig'],
    args: ['--bootstrap-token-ttl=${KUBEADM_BOOTSTRAP_TOKEN_TTL:=15m}'],
  },
  'control-plane-kubeadm': {
    namespace: 'capi-kubeadm-control-plane-system',
    deployment: 'capi-kubeadm-control-plane-controller-manager',
    group: 'controlplane.cluster.x-k8s.io',
    kinds: ['KubeadmControlPlane'],
    args: ['--feature-gates=MachinePool=${EXP_MACHINE_POOL:=true}'],
  },
  'infrastructure-aws': {
    namespace: 'capa-system',
    deployment: 'capa-controller-manager',
    group: 'infrastructure.cluster.x-k8s.io',
    kinds: ['AWSCluster', 'AWSMachine'],
    args: ['--feature-gates=EKS=${CAPA_EKS:=true},MachinePool=${EXP_MACHINE_POOL:=false}'],
    // CAPA's own shape: static credentials through a Secret, an IRSA annotation through prefix replacement.
    extra: `apiVersion: v1
kind: Secret
metadata:
  name: capa-manager-bootstrap-credentials
  namespace: capa-system
type: Opaque
data:
  credentials: \${AWS_B64ENCODED_CREDENTIALS}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: capa-controller-manager
  namespace: capa-system
  annotations:
    \${AWS_CONTROLLER_IAM_ROLE/#arn/eks.amazonaws.com/role-arn: arn}
`,
  },
  'infrastructure-sim': {
    namespace: 'capi-sim-system',
    deployment: 'capi-sim-controller-manager',
    group: 'infrastructure.cluster.x-k8s.io',
    kinds: ['SimCluster', 'SimMachine'],
    args: [],
  },
  'addon-helm': {
    namespace: 'caaph-system',
    deployment: 'caaph-controller-manager',
    group: 'addons.cluster.x-k8s.io',
    kinds: ['HelmChartProxy', 'HelmReleaseProxy'],
    args: [],
  },
};

/** A provider's components file: CRDs, Namespace, RBAC, webhook Service + certificate, webhooks, Deployment. */
export function providerYaml(spec: ProviderSpec): string {
  const s = SHAPES[spec.label];
  if (s === undefined) throw new Error(`no fixture for ${spec.label}`);
  const args = ['--leader-elect', ...s.args].map((a) => `        - ${a}`).join('\n');
  const docs = [
    ...s.kinds.map((k) => crd(s.group, k, 'v1beta2')),
    `apiVersion: v1
kind: Namespace
metadata:
  labels:
    control-plane: controller-manager
  name: ${s.namespace}`,
    `apiVersion: v1
kind: ServiceAccount
metadata:
  name: manager
  namespace: ${s.namespace}`,
    `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ${s.namespace}-manager-role
rules:
- apiGroups: ["${s.group}"]
  resources: ["*"]
  verbs: ["*"]`,
    `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ${s.namespace}-manager-rolebinding
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ${s.namespace}-manager-role
subjects:
- kind: ServiceAccount
  name: manager
  namespace: ${s.namespace}`,
    `apiVersion: v1
kind: Service
metadata:
  name: webhook-service
  namespace: ${s.namespace}
spec:
  ports:
  - port: 443
    targetPort: webhook-server
  selector:
    cluster.x-k8s.io/provider: ${spec.label}`,
    `apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: serving-cert
  namespace: ${s.namespace}
spec:
  dnsNames:
  - webhook-service.${s.namespace}.svc
  issuerRef:
    kind: Issuer
    name: selfsigned-issuer
  secretName: webhook-server-cert`,
    `apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: selfsigned-issuer
  namespace: ${s.namespace}
spec:
  selfSigned: {}`,
    `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  annotations:
    cert-manager.io/inject-ca-from: ${s.namespace}/serving-cert
  name: ${s.namespace}-validating-webhook-configuration
webhooks:
- admissionReviewVersions: ["v1"]
  clientConfig:
    service:
      name: webhook-service
      namespace: ${s.namespace}
      path: /validate
  failurePolicy: Fail
  name: validation.${s.group}
  sideEffects: None`,
    `apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    control-plane: controller-manager
  name: ${s.deployment}
  namespace: ${s.namespace}
spec:
  replicas: 1
  selector:
    matchLabels:
      control-plane: controller-manager
  template:
    metadata:
      creationTimestamp: null
      labels:
        control-plane: controller-manager
    spec:
      containers:
      - args:
${args}
        image: registry.example/${spec.label}-controller:${spec.version}
        name: manager
      serviceAccountName: manager
      terminationGracePeriodSeconds: 10
      tolerations:
      - effect: NoSchedule
        key: node-role.kubernetes.io/master`,
    ...(s.extra === undefined ? [] : [s.extra]),
  ];
  return `---\n${docs.join('\n---\n')}\n---\n`;
}

/** cert-manager's release in miniature: its CRDs, namespace, RBAC (colon names), webhooks, three Deployments. */
export function certManagerYaml(version = CERT_MANAGER.version): string {
  const deployment = (name: string, component: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: cert-manager
  labels:
    app.kubernetes.io/component: ${component}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/component: ${component}
  template:
    metadata:
      labels:
        app.kubernetes.io/component: ${component}
    spec:
      containers:
      - name: ${component}
        image: quay.io/jetstack/cert-manager-${component}:${version}
        args:
        - --v=2
        # A literal \${...} in a release that clusterctl does not process must stay as it is.
        - --acme-http01-solver-image=quay.io/jetstack/cert-manager-acmesolver:\${TAG}`;
  const docs = [
    crd('cert-manager.io', 'Certificate', 'v1'),
    crd('cert-manager.io', 'Issuer', 'v1'),
    `apiVersion: v1
kind: Namespace
metadata:
  name: cert-manager`,
    `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: cert-manager:leaderelection
  namespace: kube-system
rules:
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "create", "update", "patch"]`,
    `apiVersion: v1
kind: Service
metadata:
  name: cert-manager-webhook
  namespace: cert-manager
spec:
  ports:
  - name: https
    port: 443
    targetPort: https`,
    `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: cert-manager-webhook
webhooks:
- name: webhook.cert-manager.io
  admissionReviewVersions: ["v1"]
  sideEffects: None
  clientConfig:
    service:
      name: cert-manager-webhook
      namespace: cert-manager
      path: /validate`,
    deployment('cert-manager-cainjector', 'cainjector'),
    deployment('cert-manager', 'controller'),
    deployment('cert-manager-webhook', 'webhook'),
  ];
  return `# cert-manager ${version}\n${docs.join('\n---\n')}\n`;
}

/** `<label>/<version>/<file>` → content for every component set of the catalog. */
export function repositoryFiles(overrides: Record<string, string> = {}): Record<string, string> {
  const files: Record<string, string> = { [`cert-manager/${CERT_MANAGER.version}/cert-manager.yaml`]: certManagerYaml() };
  for (const spec of Object.values(PROVIDERS)) files[`${spec.label}/${spec.version}/${spec.file}`] = providerYaml(spec);
  return { ...files, ...overrides };
}

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

export interface TestRepository {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** The server's certificate, to trust. */
  ca: string;
  /** Request paths, in order. */
  requests: string[];
  files: Record<string, string>;
  /** Extra routes by path (redirects, slow answers, errors). */
  routes: Map<string, Route>;
  close(): Promise<void>;
}

let tls: { key: string; cert: string } | undefined;

/** An HTTPS server on 127.0.0.1 with a self-signed certificate, serving `files` under `/` and `routes`. */
export async function startRepository(files: Record<string, string> = repositoryFiles()): Promise<TestRepository> {
  tls ??= selfSignedCertificate(['127.0.0.1', 'localhost']);
  const requests: string[] = [];
  const routes = new Map<string, Route>();
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'https://x').pathname);
    requests.push(path);
    const route = routes.get(path);
    if (route !== undefined) return route(req, res);
    const body = files[path.replace(/^\/+/, '')];
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    ca: tls.cert,
    requests,
    files,
    routes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
