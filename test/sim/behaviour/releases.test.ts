/**
 * The provider release repository the simulator serves, and what applying those releases does in a CRD-gated
 * workload cluster: cert-manager issues certificates and injects CA bundles, pods wait for the Secrets they
 * mount, and the providers' controllers run once their Deployments are Available — topology only when
 * CLUSTER_TOPOLOGY=true was substituted — so that a pivot into that cluster works.
 */
import { X509Certificate } from 'node:crypto';
import { type KubernetesObject, loadAllYaml, loadYaml, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CERT_MANAGER_VERSION, PROVIDERS, releaseFiles, type Simulator, startSimulator } from '../../../local/sim/index.ts';
import { connectKubeconfig, connectWorkload } from '../../../shared/capi/connect.ts';
import { move } from '../../../shared/capi/mover.ts';
import {
  applyAll,
  CERT_MANAGER_TEST_RESOURCES,
  certManagerObjects,
  installCertManager,
  installProviders,
  installReleaseSet,
  MissingVariablesError,
  providerObjects,
  SIM_PROVIDERS,
  substituteVariables,
  variablesOf,
} from '../../helpers/releases.ts';
import {
  type CapiObject,
  type Clients,
  clientsFor,
  conditionOf,
  ensureNamespace,
  getCluster,
  installCni,
  isTrue,
  list,
  nodeReady,
  topologyCluster,
  waitFor,
  workloadClients,
} from './helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `${NAME…}` as release text spells a clusterctl variable. */
const v = (inner: string) => `$\{${inner}}`;

function available(d: V1Deployment | undefined): boolean {
  return d?.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') === true;
}

interface Doc extends KubernetesObject {
  spec?: Record<string, unknown>;
  webhooks?: { name: string; clientConfig?: { caBundle?: string; service?: { name: string; namespace: string } } }[];
}

describe('provider release repository', () => {
  let sim: Simulator;

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'fast', seed: 61 });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('serves every release file as YAML without authentication, each document a named object', async () => {
    // Prepare
    const files = releaseFiles();
    // Act
    const answers = await Promise.all(files.map(async (f) => ({ f, res: await fetch(`${sim.releasesUrl}/${f.provider}/${f.version}/${f.file}`) })));
    // Assess
    expect(files.map((f) => `${f.provider}/${f.file}`)).toEqual([
      'cert-manager/cert-manager.yaml',
      'cluster-api/core-components.yaml',
      'cluster-api/metadata.yaml',
      'bootstrap-kubeadm/bootstrap-components.yaml',
      'bootstrap-kubeadm/metadata.yaml',
      'control-plane-kubeadm/control-plane-components.yaml',
      'control-plane-kubeadm/metadata.yaml',
      'infrastructure-sim/infrastructure-components.yaml',
      'infrastructure-sim/metadata.yaml',
      'addon-helm/addon-components.yaml',
      'addon-helm/metadata.yaml',
    ]);
    for (const { f, res } of answers) {
      expect(res.status, `${f.provider}/${f.file}`).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/yaml');
      const docs = loadAllYaml(await res.text()) as Doc[];
      if (f.file === 'metadata.yaml') {
        const p = PROVIDERS.find((x) => x.name === f.provider);
        const [major, minor] = (p?.version ?? '').replace(/^v/, '').split('.').map(Number);
        expect(docs).toHaveLength(1);
        expect(docs[0]).toMatchObject({ apiVersion: 'clusterctl.cluster.x-k8s.io/v1alpha3', kind: 'Metadata' });
        expect((docs[0] as { releaseSeries?: unknown[] }).releaseSeries).toContainEqual({ major, minor, contract: 'v1beta2' });
        continue;
      }
      for (const d of docs) {
        expect(d.apiVersion, JSON.stringify(d).slice(0, 200)).toBeTruthy();
        expect(d.kind).toBeTruthy();
        expect(d.metadata?.name).toBeTruthy();
        // What clusterctl adds at install time is not part of a release.
        expect(d.metadata?.labels?.['clusterctl.cluster.x-k8s.io']).toBeUndefined();
        expect(d.kind).not.toBe('Provider');
      }
    }
  });

  it('answers an unknown file or version with a 404 problem', async () => {
    // Act
    const unknown = await Promise.all(
      ['cluster-api/v0.0.1/core-components.yaml', 'cluster-api/v1.14.0/infrastructure-components.yaml', 'nope/v1/x.yaml', 'cluster-api'].map((p) => fetch(`${sim.releasesUrl}/${p}`)),
    );
    const latest = await fetch(`${sim.releasesUrl}/cluster-api/latest/metadata.yaml`);
    // Assess
    for (const res of unknown) {
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 404, title: 'Not Found' });
    }
    expect(loadYaml<{ kind?: string }>(await latest.text()).kind).toBe('Metadata');
  });

  it('shapes provider components like the real releases: variables with defaults, webhook certificates, CA injection', async () => {
    // Act
    const text = await (await fetch(`${sim.releasesUrl}/cluster-api/v1.14.0/core-components.yaml`)).text();
    const docs = loadAllYaml(text) as Doc[];
    // Assess: every variable has a default, topology is off unless set
    const uses = [...text.matchAll(/\$\{[^}]*\}/g)].map((m) => m[0]);
    expect(uses.length).toBeGreaterThan(5);
    for (const u of uses) expect(u).toMatch(/^\$\{[A-Z0-9_]+:=[^}]*\}$/);
    expect(text).toContain(`ClusterTopology=${v('CLUSTER_TOPOLOGY:=false')}`);
    // Wire names survive the YAML (client-node's models rename some of them)
    expect(text).toContain('x-kubernetes-preserve-unknown-fields: true');
    expect(variablesOf(text)).toEqual(expect.arrayContaining(['CLUSTER_TOPOLOGY', 'EXP_MACHINE_POOL', 'CAPI_DIAGNOSTICS_ADDRESS']));
    const kinds = docs.map((d) => d.kind);
    expect(kinds[0]).toBe('Namespace');
    for (const k of ['CustomResourceDefinition', 'ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'Service', 'Deployment', 'Certificate', 'Issuer', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      expect(kinds).toContain(k);
    }
    expect(kinds.lastIndexOf('CustomResourceDefinition')).toBeLessThan(kinds.indexOf('Deployment'));
    for (const d of docs) expect(d.metadata?.labels?.['cluster.x-k8s.io/provider']).toBe('cluster-api');
    const deployment = docs.find((d) => d.kind === 'Deployment') as Doc & V1Deployment;
    const certificate = docs.find((d) => d.kind === 'Certificate') as Doc;
    const secretVolume = deployment.spec?.template.spec?.volumes?.find((v) => v.secret !== undefined);
    expect(secretVolume?.secret?.secretName).toBe('capi-webhook-service-cert');
    expect(certificate.spec).toMatchObject({ secretName: 'capi-webhook-service-cert', issuerRef: { kind: 'Issuer', name: 'capi-selfsigned-issuer' } });
    const crd = docs.find((d) => d.metadata?.name === 'clusters.cluster.x-k8s.io') as Doc;
    expect(crd.metadata?.annotations?.['cert-manager.io/inject-ca-from']).toBe('capi-system/capi-serving-cert');
    expect(crd.spec?.conversion).toMatchObject({ strategy: 'Webhook', webhook: { clientConfig: { service: { name: 'capi-webhook-service', namespace: 'capi-system', path: '/convert' } } } });
    const validating = docs.find((d) => d.kind === 'ValidatingWebhookConfiguration') as Doc;
    expect(validating.metadata?.annotations?.['cert-manager.io/inject-ca-from']).toBe('capi-system/capi-serving-cert');
    expect(validating.webhooks?.map((w) => w.name)).toContain('validation.cluster.cluster.x-k8s.io');
    expect(validating.webhooks?.every((w) => w.clientConfig?.caBundle === undefined && w.clientConfig?.service?.name === 'capi-webhook-service')).toBe(true);
  });

  it('serves cert-manager as its static manifest: CRDs, RBAC, three Deployments, webhook Service and configurations', async () => {
    // Act
    const docs = loadAllYaml(await (await fetch(`${sim.releasesUrl}/cert-manager/${CERT_MANAGER_VERSION}/cert-manager.yaml`)).text()) as Doc[];
    // Assess
    const crds = docs.filter((d) => d.kind === 'CustomResourceDefinition').map((d) => d.metadata?.name);
    expect(crds).toEqual(
      expect.arrayContaining(['certificates.cert-manager.io', 'issuers.cert-manager.io', 'clusterissuers.cert-manager.io', 'certificaterequests.cert-manager.io']),
    );
    expect(docs.filter((d) => d.kind === 'Deployment').map((d) => d.metadata?.name)).toEqual(['cert-manager', 'cert-manager-cainjector', 'cert-manager-webhook']);
    expect(docs.find((d) => d.kind === 'Service' && d.metadata?.name === 'cert-manager-webhook')).toBeDefined();
    expect(docs.find((d) => d.kind === 'Role' && d.metadata?.name === 'cert-manager:leaderelection')?.metadata?.namespace).toBe('kube-system');
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      expect(docs.find((d) => d.kind === kind)?.metadata?.annotations?.['cert-manager.io/inject-ca-from-secret']).toBe('cert-manager/cert-manager-webhook-ca');
    }
    // cert-manager's own pods do not tolerate the control-plane taint
    expect(docs.filter((d) => d.kind === 'Deployment').every((d) => (d as V1Deployment).spec?.template.spec?.tolerations === undefined)).toBe(true);
  });

  it('substitutes variables as clusterctl does, and refuses a variable without value or default', () => {
    // Act + Assess
    const text = `a=${v('A:=x')},b=${v('B:=y')},c=${v('C:-z')},d=${v('D')},e=${v('E-w')}`;
    expect(substituteVariables(text, { A: 'true', C: '', D: 'v', E: '' })).toBe('a=true,b=y,c=z,d=v,e=');
    expect(() => substituteVariables(`--token=${v('TOKEN')}`, {})).toThrow(MissingVariablesError);
  });
});

describe('releases applied in a CRD-gated workload cluster', () => {
  const NS = 'rel';
  const NAME = 'r-1';
  let sim: Simulator;
  let mgmt: Clients;
  let workload: Clients;

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'fast', seed: 67, crdGatedWorkloads: true });
    mgmt = clientsFor(sim.managementKubeconfig());
    await ensureNamespace(mgmt, NS);
    await mgmt.objects.create(topologyCluster(NS, NAME));
    await waitFor('ControlPlaneInitialized', async () => isTrue(await getCluster(mgmt, NS, NAME), 'ControlPlaneInitialized'));
    workload = await workloadClients(mgmt, NS, NAME);
    await installCni(workload);
    // One control-plane node, tainted: only pods tolerating the taint run.
    await waitFor('control-plane node Ready', async () => {
      const nodes = (await workload.core.listNode()).items;
      return nodes.length === 1 && nodes.every(nodeReady);
    });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('serves cert-manager kinds once cert-manager is applied, issues the test Certificate and injects CA bundles', async () => {
    // Prepare
    const opts = { releasesUrl: sim.releasesUrl };
    const issuer = CERT_MANAGER_TEST_RESOURCES[1] as KubernetesObject;
    await expect(workload.objects.create({ ...issuer, metadata: { ...issuer.metadata, namespace: 'default' } })).rejects.toThrow(/cert-manager.io\/v1\/Issuer/);
    // Act: apply cert-manager as clusterctl does, then its readiness check by hand
    await applyAll(workload.objects, await certManagerObjects(opts));
    await waitFor('cert-manager Deployments Available', async () => (await workload.apps.listNamespacedDeployment({ namespace: 'cert-manager' })).items.every(available));
    await applyAll(workload.objects, CERT_MANAGER_TEST_RESOURCES);
    // Assess
    const cert = await waitFor('test Certificate Ready', async () => {
      const c = await workload.objects.read<CapiObject>({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'selfsigned-cert', namespace: 'cert-manager-test' } });
      return isTrue(c, 'Ready') ? c : undefined;
    });
    expect(conditionOf(cert, 'Ready')).toMatchObject({ status: 'True', observedGeneration: cert.metadata?.generation });
    expect(cert.status).toMatchObject({ revision: 1 });
    const issuerRead = await workload.objects.read<CapiObject>({ apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'test-selfsigned', namespace: 'cert-manager-test' } });
    expect(isTrue(issuerRead, 'Ready')).toBe(true);
    const secret = await workload.core.readNamespacedSecret({ name: 'selfsigned-cert-tls', namespace: 'cert-manager-test' });
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Object.keys(secret.data ?? {}).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    const x509 = new X509Certificate(Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64'));
    expect(x509.subjectAltName).toBe('DNS:example.com');
    expect(x509.verify(x509.publicKey)).toBe(true);
    const webhookCa = await waitFor('the webhook keeps its CA', async () =>
      workload.core.readNamespacedSecret({ name: 'cert-manager-webhook-ca', namespace: 'cert-manager' }).then((s) => s, () => undefined),
    );
    const validating = await waitFor('caBundle injected into cert-manager-webhook', async () => {
      const v = await workload.objects.read<Doc>({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'cert-manager-webhook' } });
      return v.webhooks?.[0]?.clientConfig?.caBundle !== undefined ? v : undefined;
    });
    expect(validating.webhooks?.[0]?.clientConfig?.caBundle).toBe(webhookCa.data?.['ca.crt']);
  });

  it('reissues a Certificate whose Secret is deleted', async () => {
    // Prepare
    const before = await workload.core.readNamespacedSecret({ name: 'selfsigned-cert-tls', namespace: 'cert-manager-test' });
    // Act
    await workload.core.deleteNamespacedSecret({ name: 'selfsigned-cert-tls', namespace: 'cert-manager-test' });
    // Assess
    const after = await waitFor('Secret reissued', async () =>
      workload.core.readNamespacedSecret({ name: 'selfsigned-cert-tls', namespace: 'cert-manager-test' }).then((s) => s, () => undefined),
    );
    expect(after.metadata?.uid).not.toBe(before.metadata?.uid);
    expect(after.data?.['tls.crt']).not.toBe(before.data?.['tls.crt']);
    const cert = await waitFor('revision 2', async () => {
      const c = await workload.objects.read<CapiObject>({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'selfsigned-cert', namespace: 'cert-manager-test' } });
      return c.status?.revision === 2 ? c : undefined;
    });
    expect(isTrue(cert, 'Ready')).toBe(true);
  });

  it('keeps a Deployment mounting a missing Secret unavailable until the Secret exists', async () => {
    // Prepare
    const labels = { app: 'mounts-secret' };
    const body: V1Deployment = {
      metadata: { name: 'mounts-secret', namespace: 'default' },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
            containers: [{ name: 'app', image: 'busybox', volumeMounts: [{ name: 'cert', mountPath: '/certs' }, { name: 'extra', mountPath: '/extra' }] }],
            volumes: [
              { name: 'cert', secret: { secretName: 'app-cert' } },
              { name: 'extra', secret: { secretName: 'may-be-missing', optional: true } },
            ],
          },
        },
      },
    };
    // Act
    await workload.apps.createNamespacedDeployment({ namespace: 'default', body });
    await waitFor('status observed', async () => (await workload.apps.readNamespacedDeployment({ name: 'mounts-secret', namespace: 'default' })).status?.conditions !== undefined);
    await sleep(20 * sim.timing.podStartMs + 200);
    const waiting = await workload.apps.readNamespacedDeployment({ name: 'mounts-secret', namespace: 'default' });
    await workload.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'app-cert' }, stringData: { 'tls.crt': 'x' } } });
    // Assess
    expect(waiting.status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'False' });
    expect(waiting.status?.availableReplicas).toBe(0);
    await waitFor('Available once the Secret exists', async () => available(await workload.apps.readNamespacedDeployment({ name: 'mounts-secret', namespace: 'default' })));
  });

  it('runs the providers applied from the releases, topology off by default, and injects their CA bundles', async () => {
    // Prepare: a nested Cluster for the controllers to pick up, once the CAPI kinds are served
    const opts = { releasesUrl: sim.releasesUrl };
    const bootstrap = { name: 'capi-kubeadm-bootstrap-controller-manager', namespace: 'capi-kubeadm-bootstrap-system' };
    // Act: a provider applied without substitution crash-loops on its literal `${…}` flags
    const raw = loadAllYaml(await (await fetch(`${sim.releasesUrl}/bootstrap-kubeadm/v1.14.0/bootstrap-components.yaml`)).text()) as KubernetesObject[];
    await applyAll(workload.objects, raw);
    await waitFor('its serving certificate issued', async () =>
      workload.core.readNamespacedSecret({ name: 'capi-kubeadm-bootstrap-webhook-service-cert', namespace: bootstrap.namespace }).then(() => true, () => false),
    );
    await waitFor('status observed', async () => (await workload.apps.readNamespacedDeployment(bootstrap)).status?.conditions !== undefined);
    await sleep(20 * sim.timing.podStartMs + 200);
    const crashing = await workload.apps.readNamespacedDeployment(bootstrap);
    // Act: the whole set as clusterctl applies it
    await installProviders(workload.objects, opts);
    await ensureNamespace(workload, 'inner');
    await workload.objects.create(topologyCluster('inner', 'nested'));
    // Assess
    expect(available(crashing)).toBe(false);
    await waitFor('provider Deployments Available', async () => {
      const ds = (await workload.apps.listDeploymentForAllNamespaces()).items.filter((d) => d.metadata?.labels?.['cluster.x-k8s.io/provider'] !== undefined);
      return ds.length === PROVIDERS.length && ds.every(available);
    });
    const gated = await waitFor('nested Cluster reconciled without topology', async () => {
      const c = await getCluster(workload, 'inner', 'nested');
      return conditionOf(c, 'TopologyReconciled') !== undefined ? c : undefined;
    });
    expect(gated.metadata?.finalizers).toContain('cluster.cluster.x-k8s.io');
    expect(conditionOf(gated, 'TopologyReconciled')).toMatchObject({ status: 'False', reason: 'ClusterTopologyFeatureGateDisabled' });
    const serving = await workload.core.readNamespacedSecret({ name: 'capi-webhook-service-cert', namespace: 'capi-system' });
    const x509 = new X509Certificate(Buffer.from(serving.data?.['tls.crt'] ?? '', 'base64'));
    expect(x509.subjectAltName).toContain('DNS:capi-webhook-service.capi-system.svc');
    const crd = await waitFor('CRD conversion caBundle', async () => {
      const c = await workload.objects.read<Doc>({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'clusters.cluster.x-k8s.io' } });
      const spec = c.spec as { conversion?: { webhook?: { clientConfig?: { caBundle?: string } } } };
      return spec.conversion?.webhook?.clientConfig?.caBundle !== undefined ? spec : undefined;
    });
    expect(crd.conversion?.webhook?.clientConfig?.caBundle).toBe(serving.data?.['ca.crt']);
    const mutating = await waitFor('webhook caBundle', async () => {
      const m = await workload.objects.read<Doc>({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'capi-mutating-webhook-configuration' } });
      return m.webhooks?.[0]?.clientConfig?.caBundle !== undefined ? m : undefined;
    });
    expect(mutating.webhooks?.every((w) => w.clientConfig?.caBundle === serving.data?.['ca.crt'])).toBe(true);
    const inventory = await list(workload, 'clusterctl.cluster.x-k8s.io/v1alpha3', 'Provider');
    expect(inventory.map((p) => p.metadata?.name).sort()).toEqual(PROVIDERS.map((p) => p.name).sort());
  });

  it('turns topology on when the core provider is re-applied with CLUSTER_TOPOLOGY=true', async () => {
    // Act
    const opts = { releasesUrl: sim.releasesUrl, variables: { CLUSTER_TOPOLOGY: 'true' } };
    for (const p of SIM_PROVIDERS) await applyAll(workload.objects, await providerObjects(opts, p));
    // Assess: the class does not exist in this cluster, which topology now reports
    const topo = await waitFor('topology reconciled with the gate on', async () => {
      const c = await getCluster(workload, 'inner', 'nested');
      return conditionOf(c, 'TopologyReconciled')?.reason === 'ReconcileFailed' ? c : undefined;
    });
    expect(conditionOf(topo, 'TopologyReconciled')?.message).toContain('ClusterClass.cluster.x-k8s.io "sim-ferrol-1-31-v1" not found');
    const core = await workload.apps.readNamespacedDeployment({ name: 'capi-controller-manager', namespace: 'capi-system' });
    expect(core.spec?.template.spec?.containers[0]?.args?.join(' ')).toContain('ClusterTopology=true');
  });

  it('accepts the pivot: the moved Cluster stays Available under the release-installed controllers', async () => {
    // Prepare: the nested Cluster would start provisioning once the move brings its ClusterClass along
    await workload.objects.delete({ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name: 'nested', namespace: 'inner' } });
    await waitFor('nested Cluster gone', async () => getCluster(workload, 'inner', 'nested').then(() => false, (err: { code?: number }) => err.code === 404));
    await waitFor('every Machine has a nodeRef', async () => (await list(mgmt, 'cluster.x-k8s.io/v1beta2', 'Machine', NS)).every((m) => m.status?.nodeRef !== undefined));
    const source = await connectKubeconfig({ object: sim.managementKubeconfig() }, { cluster: 'management' });
    const target = await connectWorkload(source, NS, NAME);
    const launched = sim.cloud.totalLaunched;
    // Act
    const report = await move(source, target, { namespace: NS, clusterName: NAME });
    // Assess
    expect(report.moved).toMatchObject({ Cluster: 1, Machine: 1, KubeadmControlPlane: 1, SimMachine: 1 });
    const moved = await waitFor('Cluster Available in the workload cluster', async () => {
      const c = await getCluster(workload, NS, NAME);
      return isTrue(c, 'Available') && c.spec?.paused !== true ? c : undefined;
    });
    expect(conditionOf(moved, 'TopologyReconciled')?.status).toBe('True');
    await sleep(sim.timing.leakGraceMs + 100);
    expect(sim.cloud.totalLaunched).toBe(launched);
    expect(sim.counters()[`${NS}--${NAME}`]?.instances).toMatchObject({ running: 1, duplicated: 0, leaked: 0 });
  });
});

describe('the release set through the installer stand-in', () => {
  const NS = 'inst';
  const NAME = 'i-1';
  let sim: Simulator;
  let workload: Clients;

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'fast', seed: 71, crdGatedWorkloads: true });
    const mgmt = clientsFor(sim.managementKubeconfig());
    await ensureNamespace(mgmt, NS);
    await mgmt.objects.create(topologyCluster(NS, NAME));
    await waitFor('ControlPlaneInitialized', async () => isTrue(await getCluster(mgmt, NS, NAME), 'ControlPlaneInitialized'));
    workload = await workloadClients(mgmt, NS, NAME);
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('fails the cert-manager readiness check while no node can run cert-manager', async () => {
    // Act + Assess: the only node stays NotReady without a CNI
    await expect(installCertManager(workload.objects, { releasesUrl: sim.releasesUrl, timeoutMs: 500 })).rejects.toThrow(/did not issue the test Certificate/);
    expect(await list(workload, 'cert-manager.io/v1', 'Certificate', 'cert-manager-test')).toHaveLength(1);
  });

  it('installs cert-manager and every provider with CLUSTER_TOPOLOGY=true once the node is Ready', async () => {
    // Prepare
    await installCni(workload);
    await waitFor('node Ready', async () => (await workload.core.listNode()).items.every(nodeReady));
    // Act
    await installReleaseSet(workload.objects, { releasesUrl: sim.releasesUrl, variables: { CLUSTER_TOPOLOGY: 'true' } });
    await ensureNamespace(workload, 'inner');
    await workload.objects.create(topologyCluster('inner', 'nested'));
    // Assess
    await waitFor('every Deployment Available', async () => {
      const ds = (await workload.apps.listDeploymentForAllNamespaces()).items;
      return ds.length === PROVIDERS.length + 3 && ds.every(available);
    });
    // clusterctl's test resources are gone again
    expect(await list(workload, 'cert-manager.io/v1', 'Certificate', 'cert-manager-test')).toEqual([]);
    const topo = await waitFor('topology reconciled', async () => {
      const c = await getCluster(workload, 'inner', 'nested');
      return conditionOf(c, 'TopologyReconciled')?.reason === 'ReconcileFailed' ? c : undefined;
    });
    expect(conditionOf(topo, 'TopologyReconciled')?.message).toContain('"sim-ferrol-1-31-v1" not found');
  });
});
