/** Per-user access, the pure half: entitlements, names, rendered objects and the kubeconfig text. */
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { entitlementOf, renderUserAccess, userKubeconfig, userServiceAccountName } from '../../shared/capi/user-access.ts';

const plan = {
  access: [
    { group: 'devs', role: 'edit' as const },
    { group: 'ops', role: 'view' as const },
    { group: 'leads', role: 'edit' as const },
  ],
};

describe('entitlementOf', () => {
  it('makes platform admins and workspace owners cluster-admin, whatever the plan says', () => {
    // Act
    const admin = entitlementOf({ isAdmin: true, groups: ['ops'] }, 'member', plan);
    const owner = entitlementOf({ isAdmin: false, groups: ['ops'] }, 'owner', plan);
    // Assess
    expect(admin).toEqual({ roles: ['cluster-admin'], basis: 'platform-admin', groups: [] });
    expect(owner).toEqual({ roles: ['cluster-admin'], basis: 'workspace-owner', groups: [] });
  });

  it("gives members the roles of the plan's entries for their groups, each once, and nothing otherwise", () => {
    // Act
    const many = entitlementOf({ isAdmin: false, groups: ['leads', 'devs', 'ops', 'other'] }, 'member', plan);
    const none = entitlementOf({ isAdmin: false, groups: ['other'] }, 'member', plan);
    // Assess
    expect(many).toEqual({ roles: ['edit', 'view'], basis: 'plan-groups', groups: ['devs', 'leads', 'ops'] });
    expect(none.roles).toEqual([]);
  });
});

describe('names and objects', () => {
  it('derives a stable DNS label per principal that reveals nothing by itself', () => {
    // Act
    const a = userServiceAccountName('user:alice@example.com');
    // Assess
    expect(a).toBe(userServiceAccountName('user:alice@example.com'));
    expect(a).not.toBe(userServiceAccountName('user:alice@example.co'));
    expect(a).toMatch(/^user-[0-9a-f]{24}$/);
    expect(a).not.toContain('alice');
  });

  it('annotates the ServiceAccount with the principal (and email when known) and binds one ClusterRole per role', () => {
    // Act
    const withEmail = renderUserAccess('user:bob', 'bob@example.com', ['edit', 'view']);
    const without = renderUserAccess('user:bob', null, []);
    // Assess
    const sa = withEmail.serviceAccount.metadata;
    expect(sa).toMatchObject({ namespace: 'slipway-access', annotations: { 'slipway.dev/principal': 'user:bob', 'slipway.dev/email': 'bob@example.com' } });
    expect(without.serviceAccount.metadata.annotations).toEqual({ 'slipway.dev/principal': 'user:bob' });
    expect(withEmail.bindings.map((b) => [b.metadata.name, (b.roleRef as { name: string }).name, b.metadata.labels?.['slipway.dev/access-for']])).toEqual([
      [`slipway-${sa.name}-edit`, 'edit', sa.name],
      [`slipway-${sa.name}-view`, 'view', sa.name],
    ]);
    expect(withEmail.bindings[0]?.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.name, namespace: 'slipway-access' }]);
    // Cluster labels would let the add-on step's pruning of access bindings take these too.
    expect(withEmail.bindings[0]?.metadata.labels?.['slipway.dev/cluster']).toBeUndefined();
  });
});

describe('userKubeconfig', () => {
  it('is YAML client-node reads, whatever the names contain', () => {
    // Act
    const text = userKubeconfig({
      contextName: 'team-a-dev-1',
      server: 'https://10.0.0.1:6443',
      caData: 'Q0E=',
      tlsServerName: 'api.dev-1',
      user: 'user:weird "name": yes',
      token: 'header.payload.sig',
    });
    const kc = new KubeConfig();
    kc.loadFromString(text);
    // Assess
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://10.0.0.1:6443', caData: 'Q0E=', tlsServerName: 'api.dev-1', skipTLSVerify: false });
    expect(kc.getCurrentUser()).toMatchObject({ name: 'user:weird "name": yes', token: 'header.payload.sig' });
    expect(kc.getCurrentContext()).toBe('team-a-dev-1');
  });
});
