/** Preparing components files as clusterctl does: parsing, labels, inventory, tolerations, apply order. */
import { describe, expect, it } from 'vitest';
import {
  CERT_MANAGER,
  certManagerComponents,
  parseComponents,
  PROVIDERS,
  ProviderComponentsInvalidError,
  providerComponents,
  providerVariables,
  ProviderVariablesMissingError,
  tolerateControlPlane,
} from '../../../shared/capi/providers/index.ts';
import type { KubeObject } from '../../../shared/capi/types.ts';
import { certManagerYaml, providerYaml } from './fixtures.ts';

type Pod = { containers: { args?: string[]; image?: string }[]; tolerations?: { key: string; effect?: string }[] };
const podOf = (d: KubeObject | undefined) => ((d?.spec as { template?: { spec?: Pod } } | undefined)?.template?.spec ?? { containers: [] }) as Pod;

describe('parseComponents', () => {
  it('reads every document, skipping empty ones, and keeps CRD schema fields in wire form', () => {
    // Act
    const objects = parseComponents(providerYaml(PROVIDERS['cluster-api']), 'core-components.yaml');
    // Assess
    expect(objects.map((o) => o.kind)).toEqual([
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Service',
      'Certificate',
      'Issuer',
      'ValidatingWebhookConfiguration',
      'Deployment',
    ]);
    const spec = JSON.stringify(objects[0]?.spec);
    expect(spec).toContain('"x-kubernetes-preserve-unknown-fields":true');
    expect(spec).toContain('"default":false');
    expect(spec).not.toContain('x_kubernetes');
  });

  it('refuses YAML errors and documents that are not Kubernetes objects, naming the line', () => {
    expect(() => parseComponents('kind: A\nmetadata: {name: [\n', 'x.yaml')).toThrow(ProviderComponentsInvalidError);
    expect(() => parseComponents('apiVersion: v1\nkind: A\nmetadata: {name: a}\n---\n- 1\n', 'x.yaml')).toThrow('x.yaml: the document at line 4 is not a Kubernetes object');
    expect(() => parseComponents('---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\n', 'x.yaml')).toThrow('line 3');
  });
});

describe('providerComponents', () => {
  it('substitutes variables: Slipway turns ClusterTopology and MachinePools on, flag defaults apply', () => {
    // Act
    const set = providerComponents(PROVIDERS['cluster-api'], providerYaml(PROVIDERS['cluster-api']), providerVariables('sim'), 'core');
    // Assess
    const args = podOf(set.rest.find((o) => o.kind === 'Deployment')).containers[0]?.args;
    expect(args).toEqual(['--leader-elect', '--diagnostics-address=:8443', '--feature-gates=MachinePool=true,ClusterTopology=true']);
  });

  it("labels every object with clusterctl's labels and adds the inventory object in the provider's namespace", () => {
    // Act
    const set = providerComponents(PROVIDERS['addon-helm'], providerYaml(PROVIDERS['addon-helm']), providerVariables('sim'), 'addon');
    // Assess
    for (const o of [...set.crds.slice(1), ...set.namespaces, ...set.rest]) {
      expect(o.metadata.labels).toMatchObject({ 'clusterctl.cluster.x-k8s.io': '', 'cluster.x-k8s.io/provider': 'addon-helm' });
    }
    expect(set.namespaces[0]?.metadata.labels).toMatchObject({ 'control-plane': 'controller-manager' });
    expect(set.inventory).toEqual({
      apiVersion: 'clusterctl.cluster.x-k8s.io/v1alpha3',
      kind: 'Provider',
      metadata: {
        name: 'addon-helm',
        namespace: 'caaph-system',
        labels: { 'clusterctl.cluster.x-k8s.io': '', 'clusterctl.cluster.x-k8s.io/core': 'inventory', 'cluster.x-k8s.io/provider': 'addon-helm' },
      },
      providerName: 'helm',
      type: 'AddonProvider',
      version: 'v0.6.0',
    });
  });

  it('orders CRDs (inventory CRD first), Namespaces, then the rest with webhook configurations before workloads', () => {
    // Act
    const set = providerComponents(PROVIDERS['cluster-api'], providerYaml(PROVIDERS['cluster-api']), providerVariables('sim'), 'core');
    // Assess
    expect(set.crds.map((o) => o.metadata.name)).toEqual(['providers.clusterctl.cluster.x-k8s.io', 'clusters.cluster.x-k8s.io', 'machines.cluster.x-k8s.io']);
    expect(set.namespaces.map((o) => o.metadata.name)).toEqual(['capi-system']);
    expect(set.rest.map((o) => o.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Service', 'Issuer', 'Certificate', 'ValidatingWebhookConfiguration', 'Deployment']);
    expect(set.deployments).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'capi-controller-manager', namespace: 'capi-system' }]);
  });

  it('adds the control-plane tolerations a Deployment lacks, once', () => {
    // Act
    const set = providerComponents(PROVIDERS['bootstrap-kubeadm'], providerYaml(PROVIDERS['bootstrap-kubeadm']), providerVariables('sim'), 'bootstrap');
    const deployment = set.rest.find((o) => o.kind === 'Deployment');
    // Assess: the file's master toleration is kept, the control-plane one added
    expect(podOf(deployment).tolerations).toEqual([
      { effect: 'NoSchedule', key: 'node-role.kubernetes.io/master' },
      { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    expect(tolerateControlPlane(deployment as KubeObject)).toBe(deployment);
  });

  it("fills CAPA's credentials Secret with no static credentials, and its IRSA annotation only when a role is given", () => {
    // Act
    const plain = providerComponents(PROVIDERS['infrastructure-aws'], providerYaml(PROVIDERS['infrastructure-aws']), providerVariables('aws'), 'capa');
    const irsa = providerComponents(
      PROVIDERS['infrastructure-aws'],
      providerYaml(PROVIDERS['infrastructure-aws']),
      providerVariables('aws', { AWS_CONTROLLER_IAM_ROLE: 'arn:aws:iam::123456789012:role/capa' }),
      'capa',
    );
    // Assess
    const secret = plain.rest.find((o) => o.kind === 'Secret');
    expect(secret?.data).toEqual({ credentials: 'Cg==' });
    expect(Buffer.from('Cg==', 'base64').toString()).toBe('\n');
    const accountOf = (set: typeof plain) => set.rest.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'capa-controller-manager');
    // An empty `annotations:` is YAML null, as clusterctl sends it.
    expect(accountOf(plain)?.metadata.annotations).toBeNull();
    expect(accountOf(irsa)?.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/capa' });
  });

  it('reports the variables a file needs when the caller drops Slipway defaults and gives none', () => {
    expect(() => providerComponents(PROVIDERS['infrastructure-aws'], providerYaml(PROVIDERS['infrastructure-aws']), {}, 'capa')).toThrow(ProviderVariablesMissingError);
    expect(() => providerComponents(PROVIDERS['infrastructure-aws'], providerYaml(PROVIDERS['infrastructure-aws']), {}, 'capa')).toThrow('AWS_B64ENCODED_CREDENTIALS');
  });

  it('refuses a provider file without exactly one Namespace', () => {
    // Prepare
    const twice = `${providerYaml(PROVIDERS['addon-helm'])}apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n`;
    const none = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: x\n';
    // Act + Assess
    expect(() => providerComponents(PROVIDERS['addon-helm'], twice, {}, 'addon')).toThrow('exactly one Namespace (found 2)');
    expect(() => providerComponents(PROVIDERS['addon-helm'], none, {}, 'addon')).toThrow('exactly one Namespace (found 0)');
  });
});

describe('certManagerComponents', () => {
  it('labels and annotates as clusterctl, tolerates the control plane, and substitutes nothing', () => {
    // Act
    const set = certManagerComponents(CERT_MANAGER, certManagerYaml(), 'cert-manager.yaml');
    // Assess
    expect(set.crds.map((o) => o.metadata.name)).toEqual(['certificates.cert-manager.io', 'issuers.cert-manager.io']);
    expect(set.deployments.map((d) => d.name)).toEqual(['cert-manager-cainjector', 'cert-manager', 'cert-manager-webhook']);
    for (const o of [...set.crds, ...set.namespaces, ...set.rest]) {
      expect(o.metadata.labels).toMatchObject({ 'clusterctl.cluster.x-k8s.io': '', 'clusterctl.cluster.x-k8s.io/core': 'cert-manager' });
      expect(o.metadata.annotations).toMatchObject({ 'cert-manager.clusterctl.cluster.x-k8s.io/version': 'v1.16.2' });
    }
    const pod = podOf(set.rest.find((o) => o.kind === 'Deployment' && o.metadata.name === 'cert-manager-webhook'));
    expect(pod.tolerations?.map((t) => t.key)).toEqual(['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal placeholder is the point
    expect(pod.containers[0]?.args).toContain('--acme-http01-solver-image=quay.io/jetstack/cert-manager-acmesolver:${TAG}');
    expect(set.rest.map((o) => o.kind).at(-1)).toBe('Deployment');
    expect(set.inventory).toBeUndefined();
  });
});
