/**
 * Per-user access to a workload cluster, on any conformant cluster (no OIDC configuration of its API server):
 * Slipway, through the admin access it keeps (access.ts), gives each principal a ServiceAccount of its own in
 * `slipway-access`, binds it to exactly the ClusterRoles the caller is entitled to now, and hands out a
 * short-lived token for it (TokenRequest). The cluster's audit log then names `system:serviceaccount:
 * slipway-access:user-<hash>`, and the ServiceAccount's annotations say which principal that is.
 *
 * Entitlement (`entitlementOf`): platform admins and workspace owners get `cluster-admin`; members get the
 * roles the plan revision's `access` entries give the IdP groups they are in; nobody else gets anything.
 * Every write is server-side apply with force under Slipway's field manager, and bindings the caller is no
 * longer entitled to are deleted (one LIST by label): a retry or a later call converges. Tokens are never
 * stored or logged.
 *
 * Every ServiceAccount also records the workspace memberships it was granted through (`via.slipway.dev/<hash
 * of the member principal>` = that membership's role): when a member or group is removed, or an owner
 * demoted, the revocation processor (shared/clusters/revoke-access.ts) finds every ServiceAccount that held
 * access through it with one LIST and deletes it with its bindings — which invalidates its tokens at once.
 *
 * `renderAccessBindings` (render.ts) is the other way in: bindings for IdP groups, for clusters whose API
 * server trusts the IdP's tokens itself.
 */
import { createHash } from 'node:crypto';
import type { Caller } from '../auth/caller.ts';
import type { ClusterPlanRevision, Member } from '../domain/schemas.ts';
import type { KubeClient, SubresourceKubeClient } from './client.ts';
import { LABEL_MANAGED_BY, MANAGED_BY } from './render.ts';
import type { KubeObject } from './types.ts';

export const USER_ACCESS_NAMESPACE = 'slipway-access';
/** On the ServiceAccount and its bindings: which ServiceAccount they belong to (one LIST finds them all). */
export const LABEL_ACCESS_FOR = 'slipway.dev/access-for';
export const LABEL_ACCESS_ROLE = 'slipway.dev/access-role';
export const ANNOTATION_PRINCIPAL = 'slipway.dev/principal';
export const ANNOTATION_EMAIL = 'slipway.dev/email';
/** Label key prefix: `via.slipway.dev/<hash of a member principal>` = the role that membership gave. */
export const VIA_LABEL_PREFIX = 'via.slipway.dev/';
/** On ServiceAccounts that carry via labels (those made before them carry none: revoked on any doubt). */
export const LABEL_VIA_RECORDED = 'slipway.dev/via-recorded';
/** The member principals behind the grant, for people reading the cluster (the labels are hashes). */
export const ANNOTATION_VIA = 'slipway.dev/granted-via';

const RBAC = 'rbac.authorization.k8s.io/v1';

export type AccessRoleName = ClusterPlanRevision['access'][number]['role'];

export interface Entitlement {
  /** ClusterRoles to bind, sorted; empty: no access. */
  roles: AccessRoleName[];
  /** Why: `platform-admin`, `workspace-owner`, or `plan-groups` (the groups that gave the roles). */
  basis: 'platform-admin' | 'workspace-owner' | 'plan-groups';
  /** The caller's groups the plan names (plan-groups only). */
  groups: string[];
}

/** What the caller may do in the cluster, from who they are in Slipway and the cluster's plan revision. */
export function entitlementOf(caller: Pick<Caller, 'isAdmin' | 'groups'>, workspaceRole: Member['role'], plan: Pick<ClusterPlanRevision, 'access'>): Entitlement {
  if (caller.isAdmin) return { roles: ['cluster-admin'], basis: 'platform-admin', groups: [] };
  if (workspaceRole === 'owner') return { roles: ['cluster-admin'], basis: 'workspace-owner', groups: [] };
  const held = plan.access.filter((entry) => caller.groups.includes(entry.group));
  return {
    roles: [...new Set(held.map((entry) => entry.role))].sort(),
    basis: 'plan-groups',
    groups: [...new Set(held.map((entry) => entry.group))].sort(),
  };
}

function digest(principal: string): string {
  return createHash('sha256').update(principal).digest('hex').slice(0, 24);
}

/** A principal's ServiceAccount name: stable, DNS-safe, and revealing nothing by itself (the annotation does). */
export function userServiceAccountName(principal: string): string {
  return `user-${digest(principal)}`;
}

/** The label recording access held through the workspace membership of `memberPrincipal` (a valid label key whatever the name). */
export function viaLabel(memberPrincipal: string): string {
  return `${VIA_LABEL_PREFIX}${digest(memberPrincipal)}`;
}

/** Workspace memberships (member principal → role) through which a caller holds their access. */
export type GrantedVia = Readonly<Record<string, Member['role']>>;

/** The principal as Kubernetes sees it. */
export function serviceAccountUser(serviceAccount: string): string {
  return `system:serviceaccount:${USER_ACCESS_NAMESPACE}:${serviceAccount}`;
}

export function userBindingName(serviceAccount: string, role: AccessRoleName): string {
  return `slipway-${serviceAccount}-${role}`;
}

export interface UserAccessObjects {
  serviceAccount: KubeObject;
  bindings: KubeObject[];
}

/** The ServiceAccount of a principal and one ClusterRoleBinding per role (pure). */
export function renderUserAccess(principal: string, email: string | null, roles: readonly AccessRoleName[], via: GrantedVia = {}): UserAccessObjects {
  const name = userServiceAccountName(principal);
  const labels = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_ACCESS_FOR]: name };
  const viaLabels: Record<string, string> = { [LABEL_VIA_RECORDED]: 'true' };
  for (const [member, role] of Object.entries(via)) viaLabels[viaLabel(member)] = role;
  const annotations: Record<string, string> = { [ANNOTATION_PRINCIPAL]: principal };
  if (email !== null) annotations[ANNOTATION_EMAIL] = email;
  const viaPrincipals = Object.keys(via).sort();
  if (viaPrincipals.length > 0) annotations[ANNOTATION_VIA] = viaPrincipals.join(',');
  return {
    serviceAccount: {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace: USER_ACCESS_NAMESPACE, labels: { ...labels, ...viaLabels }, annotations },
    },
    bindings: roles.map((role) => ({
      apiVersion: RBAC,
      kind: 'ClusterRoleBinding',
      metadata: { name: userBindingName(name, role), labels: { ...labels, [LABEL_ACCESS_ROLE]: role }, annotations: { [ANNOTATION_PRINCIPAL]: principal } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'ServiceAccount', name, namespace: USER_ACCESS_NAMESPACE }],
    })),
  };
}

export interface GrantResult {
  serviceAccount: string;
  /** Bindings deleted because the caller is no longer entitled to their role. */
  removed: string[];
}

/**
 * Converges the principal's access to exactly `roles` (at least one): namespace, ServiceAccount, bindings,
 * then the removal of every other binding of that ServiceAccount — before any token is handed out.
 */
export async function grantUserAccess(
  workload: KubeClient,
  principal: string,
  email: string | null,
  roles: readonly AccessRoleName[],
  via: GrantedVia = {},
): Promise<GrantResult> {
  const objects = renderUserAccess(principal, email, roles, via);
  await workload.ensureNamespace(USER_ACCESS_NAMESPACE, { [LABEL_MANAGED_BY]: MANAGED_BY });
  await workload.apply(objects.serviceAccount, { force: true });
  for (const binding of objects.bindings) await workload.apply(binding, { force: true });
  const removed = await pruneBindings(workload, objects.serviceAccount.metadata.name, new Set(objects.bindings.map((b) => b.metadata.name)));
  return { serviceAccount: objects.serviceAccount.metadata.name, removed };
}

/**
 * Removes every binding of the principal's ServiceAccount (no entitlement left). Creates nothing, and leaves
 * the ServiceAccount: its tokens then authenticate but are allowed nothing beyond discovery.
 */
export async function revokeUserAccess(workload: KubeClient, principal: string): Promise<string[]> {
  return pruneBindings(workload, userServiceAccountName(principal), new Set());
}

async function pruneBindings(workload: KubeClient, serviceAccount: string, keep: ReadonlySet<string>): Promise<string[]> {
  const existing = await workload.list(RBAC, 'ClusterRoleBinding', { labelSelector: { [LABEL_ACCESS_FOR]: serviceAccount } });
  const removed: string[] = [];
  for (const binding of existing) {
    if (keep.has(binding.metadata.name)) continue;
    await workload.delete({ apiVersion: RBAC, kind: 'ClusterRoleBinding', name: binding.metadata.name });
    removed.push(binding.metadata.name);
  }
  return removed.sort();
}

/** What a revocation takes away: all access held through a membership, or only what its owner role gave. */
export interface RevocationTarget {
  /** The member principal removed or demoted (`user:…` or `group:…`). */
  principal: string;
  scope: 'all' | 'owner';
}

export interface RevokedAccess {
  serviceAccounts: string[];
  bindings: string[];
}

/**
 * Deletes every ServiceAccount that held access through the membership of `target.principal` — found by its
 * via label (value `owner` only, for a demotion), plus a user's own ServiceAccount, plus any ServiceAccount
 * made before via labels existed (nothing says what it came through, so it goes: its user gets a new one with
 * their next kubeconfig) — then their bindings. The ServiceAccount goes first: that alone invalidates every
 * token issued for it. Idempotent: a second run finds nothing.
 */
export async function revokeMembershipAccess(workload: KubeClient, target: RevocationTarget): Promise<RevokedAccess> {
  const names = new Set<string>();
  if (target.principal.startsWith('user:')) names.add(userServiceAccountName(target.principal));
  const values = target.scope === 'owner' ? ['owner'] : ['owner', 'member'];
  for (const value of values) {
    const held = await workload.list('v1', 'ServiceAccount', { namespace: USER_ACCESS_NAMESPACE, labelSelector: { [viaLabel(target.principal)]: value } });
    for (const sa of held) names.add(sa.metadata.name);
  }
  const managed = await workload.list('v1', 'ServiceAccount', { namespace: USER_ACCESS_NAMESPACE, labelSelector: { [LABEL_MANAGED_BY]: MANAGED_BY } });
  for (const sa of managed) {
    if (sa.metadata.labels?.[LABEL_VIA_RECORDED] !== 'true' && sa.metadata.labels?.[LABEL_ACCESS_FOR] === sa.metadata.name) names.add(sa.metadata.name);
  }
  const revoked: RevokedAccess = { serviceAccounts: [], bindings: [] };
  for (const name of [...names].sort()) {
    const outcome = await workload.delete({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: USER_ACCESS_NAMESPACE, name });
    if (outcome !== 'absent') revoked.serviceAccounts.push(name);
    revoked.bindings.push(...(await pruneBindings(workload, name, new Set())));
  }
  return revoked;
}

/** Thrown when the API server's TokenRequest answer carries no token or expiry. */
export class TokenRequestError extends Error {
  override readonly name = 'TokenRequestError';
}

interface TokenRequestAnswer extends KubeObject {
  status?: { token?: string; expirationTimestamp?: string };
}

/** A token for the ServiceAccount, valid for `seconds` (the server may shorten it: trust its expiry). */
export async function requestUserToken(workload: SubresourceKubeClient, serviceAccount: string, seconds: number): Promise<{ token: string; expiresAt: Date }> {
  const answer = await workload.createSubresource<TokenRequestAnswer>(
    { apiVersion: 'v1', kind: 'ServiceAccount', name: serviceAccount, namespace: USER_ACCESS_NAMESPACE },
    'token',
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name: serviceAccount, namespace: USER_ACCESS_NAMESPACE },
      spec: { expirationSeconds: seconds },
    },
  );
  const token = answer.status?.token;
  const expiresAt = new Date(answer.status?.expirationTimestamp ?? '');
  if (typeof token !== 'string' || token === '' || Number.isNaN(expiresAt.getTime())) {
    throw new TokenRequestError(`the TokenRequest for ServiceAccount ${USER_ACCESS_NAMESPACE}/${serviceAccount} came back without a token or expiry`);
  }
  return { token, expiresAt };
}

export interface UserKubeconfigInput {
  /** Name of the cluster and context entries. */
  contextName: string;
  server: string;
  /** base64 PEM of the cluster's CA. */
  caData?: string | undefined;
  insecureSkipTlsVerify?: boolean | undefined;
  tlsServerName?: string | undefined;
  /** Name of the user entry (the Slipway principal). */
  user: string;
  token: string;
}

/** Kubeconfig YAML (every scalar JSON-quoted: valid YAML whatever the names contain). */
export function userKubeconfig(input: UserKubeconfigInput): string {
  const q = (value: string) => JSON.stringify(value);
  const cluster = [`      server: ${q(input.server)}`];
  if (input.caData !== undefined && input.caData !== '') cluster.push(`      certificate-authority-data: ${q(input.caData)}`);
  if (input.insecureSkipTlsVerify === true) cluster.push('      insecure-skip-tls-verify: true');
  if (input.tlsServerName !== undefined && input.tlsServerName !== '') cluster.push(`      tls-server-name: ${q(input.tlsServerName)}`);
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `  - name: ${q(input.contextName)}`,
    '    cluster:',
    ...cluster,
    'users:',
    `  - name: ${q(input.user)}`,
    '    user:',
    `      token: ${q(input.token)}`,
    'contexts:',
    `  - name: ${q(input.contextName)}`,
    '    context:',
    `      cluster: ${q(input.contextName)}`,
    `      user: ${q(input.user)}`,
    `current-context: ${q(input.contextName)}`,
    'preferences: {}',
    '',
  ].join('\n');
}
