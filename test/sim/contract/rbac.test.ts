/**
 * ServiceAccount tokens (TokenRequest) and RBAC, as any conformant cluster does them: who a token is, what
 * its bindings allow, and the 403 a real server answers otherwise. Runs against the simulator by default and
 * unchanged against SLIPWAY_TEST_KUBECONFIG (it creates ClusterRoleBindings there and deletes them at the end).
 * The sim-only describe moves the simulator's token clock to watch a token expire.
 */
import {
  ApiException,
  type AuthenticationV1TokenRequest,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  VersionApi,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../../local/sim/apiserver/server.ts';
import { connect, eventually, failure, realCluster, type Target, unique } from './harness.ts';

let t: Target;
/** Cluster-scoped objects this file created (the test namespace's deletion does not remove them). */
const clusterScoped: KubernetesObject[] = [];

beforeAll(async () => {
  t = await connect();
});

afterAll(async () => {
  for (const obj of clusterScoped) {
    try {
      await t.objects.delete(obj);
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
  }
  await t.close();
});

const RBAC = 'rbac.authorization.k8s.io/v1';

async function serviceAccount(): Promise<{ name: string; user: string }> {
  const name = unique('sa');
  await t.objects.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: t.namespace } });
  return { name, user: `system:serviceaccount:${t.namespace}:${name}` };
}

async function tokenFor(name: string, expirationSeconds = 600): Promise<AuthenticationV1TokenRequest> {
  return t.core.createNamespacedServiceAccountToken({ namespace: t.namespace, name, body: { spec: { expirationSeconds, audiences: [] } } });
}

/** A client-node API object acting as the ServiceAccount. */
async function actingAs(name: string): Promise<{ objects: KubernetesObjectApi; core: CoreV1Api; kc: KubeConfig }> {
  const token = (await tokenFor(name)).status?.token ?? '';
  const kc = t.withToken(token);
  return { objects: KubernetesObjectApi.makeApiClient(kc), core: kc.makeApiClient(CoreV1Api), kc };
}

function roleBinding(name: string, role: { kind: 'Role' | 'ClusterRole'; name: string }, subjects: object[]): KubernetesObject {
  return {
    apiVersion: RBAC,
    kind: 'RoleBinding',
    metadata: { name, namespace: t.namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...role },
    subjects,
  } as KubernetesObject;
}

function saSubject(name: string): object {
  return { kind: 'ServiceAccount', name, namespace: t.namespace };
}

function configMap(name: string): KubernetesObject & { metadata: { name: string } } {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: t.namespace }, data: { a: '1' } } as KubernetesObject & { metadata: { name: string } };
}

/** Polls a call until it stops failing with 403 (a real server's RBAC cache follows bindings within moments). */
async function allowed(call: () => Promise<unknown>): Promise<boolean> {
  return eventually(async () => {
    try {
      await call();
      return true;
    } catch (err) {
      if (err instanceof ApiException && err.code === 403) return false;
      throw err;
    }
  }, 30_000);
}

describe('TokenRequest', () => {
  it('issues a token for a ServiceAccount with its expiry', async () => {
    // Prepare
    const sa = await serviceAccount();
    const before = Date.now();
    // Act
    const answer = await tokenFor(sa.name, 900);
    // Assess
    expect(answer.kind).toBe('TokenRequest');
    expect(answer.apiVersion).toBe('authentication.k8s.io/v1');
    expect(answer.status?.token?.length).toBeGreaterThan(20);
    const expires = new Date(answer.status?.expirationTimestamp ?? 0).getTime();
    expect(expires).toBeGreaterThanOrEqual(before + 899_000 - 5_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 900_000 + 5_000);
  });

  it('answers 404 for a ServiceAccount that does not exist', async () => {
    // Prepare
    const name = unique('missing');
    // Act
    const { code, status } = await failure(tokenFor(name));
    // Assess
    expect(code).toBe(404);
    expect(status).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404, message: `serviceaccounts "${name}" not found` });
  });

  it('refuses a lifetime under ten minutes with 422', async () => {
    // Prepare
    const sa = await serviceAccount();
    // Act
    const { code, status } = await failure(tokenFor(sa.name, 60));
    // Assess
    expect(code).toBe(422);
    expect(status.reason).toBe('Invalid');
    expect(status.message).toContain('spec.expirationSeconds');
    expect(status.message).toContain('less than 10 minutes');
  });

  it('stops opening the cluster once its ServiceAccount is deleted', async () => {
    // Prepare
    const sa = await serviceAccount();
    const as = await actingAs(sa.name);
    await expect(as.core.getAPIResources()).resolves.toBeDefined();
    // Act
    await t.objects.delete({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa.name, namespace: t.namespace } });
    // Assess
    const refused = await eventually(async () => {
      try {
        await as.objects.list('v1', 'ConfigMap', t.namespace);
        return false;
      } catch (err) {
        if (err instanceof ApiException && err.code === 401) return true;
        if (err instanceof ApiException && err.code === 403) return false;
        throw err;
      }
    }, 30_000);
    expect(refused).toBe(true);
  });
});

describe('RBAC', () => {
  it('has the default ClusterRoles of a real cluster', async () => {
    // Act
    const names = await Promise.all(
      ['cluster-admin', 'admin', 'edit', 'view', 'system:discovery'].map(async (name) => (await t.objects.read({ apiVersion: RBAC, kind: 'ClusterRole', metadata: { name } })).metadata?.name),
    );
    // Assess
    expect(names).toEqual(['cluster-admin', 'admin', 'edit', 'view', 'system:discovery']);
  });

  it('lets any ServiceAccount discover the API, and nothing more without a binding', async () => {
    // Prepare
    const sa = await serviceAccount();
    const as = await actingAs(sa.name);
    // Act
    const resources = await as.core.getAPIResources();
    const version = await as.kc.makeApiClient(VersionApi).getCode();
    const { code, status } = await failure(as.objects.list('v1', 'ConfigMap', t.namespace));
    // Assess
    expect(resources.resources.map((r) => r.name)).toContain('configmaps');
    expect(version.major).toBeDefined();
    expect(code).toBe(403);
    expect(status).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, details: { kind: 'configmaps' } });
    expect(status.message).toBe(`configmaps is forbidden: User "${sa.user}" cannot list resource "configmaps" in API group "" in the namespace "${t.namespace}"`);
  });

  it('view through a RoleBinding: reads in that namespace, no Secrets, no writes, nothing cluster-wide', async () => {
    // Prepare
    const sa = await serviceAccount();
    await t.core.createNamespacedSecret({ namespace: t.namespace, body: { metadata: { name: 'hidden' }, stringData: { k: 'v' } } });
    await t.objects.create(roleBinding(unique('view'), { kind: 'ClusterRole', name: 'view' }, [saSubject(sa.name)]));
    const as = await actingAs(sa.name);
    // Act
    const pods = await allowed(() => as.core.listNamespacedPod({ namespace: t.namespace }));
    const secret = await failure(as.objects.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hidden', namespace: t.namespace } }));
    const write = await failure(as.objects.create(configMap(unique('cm'))));
    const everywhere = await failure(as.objects.list('v1', 'Pod'));
    // Assess
    expect(pods).toBe(true);
    expect(secret.code).toBe(403);
    expect(secret.status.message).toBe(`secrets "hidden" is forbidden: User "${sa.user}" cannot get resource "secrets" in API group "" in the namespace "${t.namespace}"`);
    expect(secret.status.details).toMatchObject({ name: 'hidden', kind: 'secrets' });
    expect(write.code).toBe(403);
    expect(write.status.message).toBe(`configmaps is forbidden: User "${sa.user}" cannot create resource "configmaps" in API group "" in the namespace "${t.namespace}"`);
    expect(everywhere.code).toBe(403);
    expect(everywhere.status.message).toBe(`pods is forbidden: User "${sa.user}" cannot list resource "pods" in API group "" at the cluster scope`);
  });

  it('edit through a ClusterRoleBinding: writes ConfigMaps anywhere, creates no namespace', async () => {
    // Prepare
    const sa = await serviceAccount();
    const binding = { apiVersion: RBAC, kind: 'ClusterRoleBinding', metadata: { name: unique('slipway-contract-edit') }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [saSubject(sa.name)] } as KubernetesObject;
    await t.objects.create(binding);
    clusterScoped.push(binding);
    const as = await actingAs(sa.name);
    const name = unique('cm');
    // Act
    const created = await allowed(() => as.objects.create(configMap(name)));
    const namespace = await failure(as.objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: unique('forbidden') } }));
    const apps = await failure(as.objects.list('rbac.authorization.k8s.io/v1', 'RoleBinding', t.namespace));
    // Assess
    expect(created).toBe(true);
    expect((await t.objects.read(configMap(name))).metadata?.name).toBe(name);
    expect(namespace.code).toBe(403);
    expect(namespace.status.message).toBe(`namespaces is forbidden: User "${sa.user}" cannot create resource "namespaces" in API group "" at the cluster scope`);
    expect(apps.status.message).toBe(
      `rolebindings.rbac.authorization.k8s.io is forbidden: User "${sa.user}" cannot list resource "rolebindings" in API group "rbac.authorization.k8s.io" in the namespace "${t.namespace}"`,
    );
    expect(apps.status.details).toMatchObject({ group: 'rbac.authorization.k8s.io', kind: 'rolebindings' });
  });

  it('honours resourceNames, wildcard verbs and subresources of a Role', async () => {
    // Prepare
    const sa = await serviceAccount();
    const other = await serviceAccount();
    await t.objects.create(configMap('named'));
    await t.objects.create(configMap('unnamed'));
    const role = unique('narrow');
    await t.objects.create({
      apiVersion: RBAC,
      kind: 'Role',
      metadata: { name: role, namespace: t.namespace },
      rules: [
        { apiGroups: [''], resources: ['configmaps'], resourceNames: ['named'], verbs: ['*'] },
        { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
      ],
    } as KubernetesObject);
    await t.objects.create(roleBinding(unique('narrow'), { kind: 'Role', name: role }, [saSubject(sa.name)]));
    const as = await actingAs(sa.name);
    // Act
    const named = await allowed(() => as.objects.read(configMap('named')));
    const unnamed = await failure(as.objects.read(configMap('unnamed')));
    const token = await as.core.createNamespacedServiceAccountToken({ namespace: t.namespace, name: other.name, body: { spec: { expirationSeconds: 600 } } });
    const account = await failure(as.objects.read({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: other.name, namespace: t.namespace } }));
    const deleted = await as.objects.delete(configMap('named'));
    // Assess
    expect(named).toBe(true);
    expect(unnamed.code).toBe(403);
    expect(unnamed.status.message).toContain('cannot get resource "configmaps"');
    expect(token.status?.token?.length).toBeGreaterThan(20);
    expect(account.status.message).toBe(`serviceaccounts "${other.name}" is forbidden: User "${sa.user}" cannot get resource "serviceaccounts" in API group "" in the namespace "${t.namespace}"`);
    expect(deleted.status).toBe('Success');
  });

  it('binds the groups every ServiceAccount of a namespace is in', async () => {
    // Prepare
    const sa = await serviceAccount();
    await t.objects.create(roleBinding(unique('group'), { kind: 'ClusterRole', name: 'view' }, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `system:serviceaccounts:${t.namespace}` }]));
    const as = await actingAs(sa.name);
    // Act
    const listed = await allowed(() => as.objects.list('v1', 'ConfigMap', t.namespace));
    // Assess
    expect(listed).toBe(true);
  });
});

describe.runIf(!realCluster)('simulator: token lifetime and scope', () => {
  it('refuses a token with 401 once it expires, and a token of another virtual cluster', async () => {
    // Prepare: a server whose token clock the test moves
    let now = new Date('2026-11-02T10:00:00Z');
    const server = await createApiServer({ now: () => now });
    try {
      const a = server.addCluster('a');
      const b = server.addCluster('b');
      const admin = (url: string, token: string) => {
        const kc = new KubeConfig();
        kc.loadFromOptions({ clusters: [{ name: 'x', server: url, skipTLSVerify: true }], users: [{ name: 'x', token }], contexts: [{ name: 'x', cluster: 'x', user: 'x' }], currentContext: 'x' });
        return kc;
      };
      const adminA = admin(a.url, a.token);
      await KubernetesObjectApi.makeApiClient(adminA).create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'u', namespace: 'default' } });
      await KubernetesObjectApi.makeApiClient(adminA).create({
        apiVersion: RBAC,
        kind: 'ClusterRoleBinding',
        metadata: { name: 'u-view' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'ServiceAccount', name: 'u', namespace: 'default' }],
      } as KubernetesObject);
      const issued = await adminA.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({ namespace: 'default', name: 'u', body: { spec: { expirationSeconds: 600 } } });
      const token = issued.status?.token ?? '';
      const asA = KubernetesObjectApi.makeApiClient(admin(a.url, token));
      const asB = KubernetesObjectApi.makeApiClient(admin(b.url, token));
      // Act
      const before = await asA.list('v1', 'Pod');
      const elsewhere = await failure(asB.list('v1', 'Pod'));
      now = new Date(now.getTime() + 599_000);
      const lastSecond = await asA.list('v1', 'Pod');
      now = new Date(now.getTime() + 1_000);
      const expired = await failure(asA.list('v1', 'Pod'));
      // Assess
      expect(issued.status?.expirationTimestamp).toEqual(new Date('2026-11-02T10:10:00Z'));
      expect(before.items).toEqual([]);
      expect(lastSecond.items).toEqual([]);
      expect(elsewhere.code).toBe(401);
      expect(expired.code).toBe(401);
      expect(expired.status).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    } finally {
      await server.close();
    }
  });
});
