/**
 * Authorization of ServiceAccount-token requests, as a real API server's RBAC authorizer decides it:
 *
 * - `requestAttributes(method, path, query)` turns a request into what RBAC judges — a resource request
 *   (verb, API group, namespace, resource, subresource, name) or a non-resource request (verb, path) — before
 *   the path is resolved to a served kind, so an unprivileged caller gets 403 even for kinds that do not exist.
 * - `authorize(store, user, attrs)`: ClusterRoleBindings (cluster-wide) and, for namespaced requests, the
 *   namespace's RoleBindings whose subjects name the user, one of its groups or its ServiceAccount; their
 *   Role/ClusterRole rules allow the request or nothing does (RBAC only adds permissions).
 * - `forbidden(attrs, user, reason)`: the 403 Status body a real server answers with.
 * - `defaultRbac()`: the roles every virtual cluster starts with (see the README for what is simplified).
 *
 * Only requests bearing a ServiceAccount token are authorized: the cluster's own token stays unrestricted,
 * like a member of `system:masters`, so the controllers and Slipway's admin access pay nothing for this.
 */
import { ApiError, type Status } from './errors.ts';
import type { ClusterStore, KubeObject } from './store.ts';

const RBAC = 'rbac.authorization.k8s.io/v1';
const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface UserInfo {
  name: string;
  groups: readonly string[];
}

export interface RequestAttributes {
  resourceRequest: boolean;
  verb: string;
  /** The request path inside the virtual cluster, for non-resource requests and messages. */
  path: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface Binding extends KubeObject {
  roleRef?: { kind?: string; name?: string };
  subjects?: Subject[];
}

interface RoleObject extends KubeObject {
  rules?: PolicyRule[];
}

const METHOD_VERBS: Record<string, string> = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
/** `/namespaces/<ns>/status|finalize` are subresources of the Namespace, not a namespaced collection. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** What RBAC judges about a request (the path segments after the virtual cluster's prefix). */
export function requestAttributes(method: string, segments: readonly string[], query: URLSearchParams): RequestAttributes {
  const path = `/${segments.join('/')}`;
  const attrs: RequestAttributes = {
    resourceRequest: false,
    verb: method.toLowerCase(),
    path,
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
  };
  let rest: readonly string[];
  if (segments[0] === 'api' && segments.length >= 2) {
    attrs.apiVersion = segments[1] ?? '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 3) {
    attrs.apiGroup = segments[1] ?? '';
    attrs.apiVersion = segments[2] ?? '';
    rest = segments.slice(3);
  } else return attrs;
  // `/api/v1`, `/apis/<g>/<v>`: discovery, a non-resource request.
  if (rest.length === 0) return { ...attrs, apiGroup: '', apiVersion: '' };
  const verb = METHOD_VERBS[method.toUpperCase()];
  attrs.resourceRequest = true;
  attrs.verb = verb ?? method.toLowerCase();
  if (rest[0] === 'watch') {
    // The deprecated `/watch/` path prefix.
    attrs.verb = 'watch';
    rest = rest.slice(1);
  }
  if (rest[0] === 'namespaces' && rest.length > 1) {
    attrs.namespace = rest[1] ?? '';
    // `/namespaces/<ns>` and `/namespaces/<ns>/status` address the Namespace itself (still "in" that namespace).
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] ?? '')) rest = rest.slice(2);
  }
  attrs.resource = rest[0] ?? '';
  attrs.name = rest[1] ?? '';
  attrs.subresource = rest[2] ?? '';
  if (attrs.verb === 'get' && attrs.name === '') {
    const watch = query.get('watch');
    attrs.verb = watch === 'true' || watch === '1' ? 'watch' : 'list';
  }
  if ((attrs.verb === 'list' || attrs.verb === 'watch') && attrs.name === '') {
    // `kubectl get x NAME --watch` lists with metadata.name=NAME: RBAC sees the name (resourceNames apply).
    const byName = /(?:^|,)metadata\.name==?([^,]+)/.exec(query.get('fieldSelector') ?? '');
    if (byName?.[1] !== undefined) attrs.name = byName[1];
  }
  if (attrs.verb === 'delete' && attrs.name === '') attrs.verb = 'deletecollection';
  return attrs;
}

export interface Decision {
  allowed: boolean;
  /** Why bindings could not be evaluated (a role they name is missing); empty otherwise. */
  reason: string;
}

/** RBAC: allowed when one rule of one role bound to the user (directly, by group or as a ServiceAccount) matches. */
export function authorize(store: ClusterStore, user: UserInfo, attrs: RequestAttributes): Decision {
  const problems: string[] = [];
  for (const binding of store.list({ apiVersion: RBAC, kind: 'ClusterRoleBinding' }) as Binding[]) {
    if (!bindsUser(binding, user, '')) continue;
    const role = roleOf(store, binding, undefined, problems);
    if (role !== undefined && rulesAllow(role.rules, attrs)) return { allowed: true, reason: '' };
  }
  if (attrs.namespace !== '') {
    for (const binding of store.list({ apiVersion: RBAC, kind: 'RoleBinding', namespace: attrs.namespace }) as Binding[]) {
      if (!bindsUser(binding, user, attrs.namespace)) continue;
      const role = roleOf(store, binding, attrs.namespace, problems);
      if (role !== undefined && rulesAllow(role.rules, attrs)) return { allowed: true, reason: '' };
    }
  }
  return { allowed: false, reason: problems.length === 0 ? '' : `RBAC: [${problems.join(', ')}]` };
}

function bindsUser(binding: Binding, user: UserInfo, bindingNamespace: string): boolean {
  for (const s of binding.subjects ?? []) {
    if (s.kind === 'User' && s.name === user.name) return true;
    if (s.kind === 'Group' && user.groups.includes(s.name)) return true;
    if (s.kind === 'ServiceAccount') {
      // A ServiceAccount subject without a namespace means the binding's own.
      const ns = s.namespace !== undefined && s.namespace !== '' ? s.namespace : bindingNamespace;
      if (ns !== '' && user.name === `system:serviceaccount:${ns}:${s.name}`) return true;
    }
  }
  return false;
}

function roleOf(store: ClusterStore, binding: Binding, namespace: string | undefined, problems: string[]): RoleObject | undefined {
  const kind = binding.roleRef?.kind;
  const name = binding.roleRef?.name ?? '';
  const clusterRole = kind === 'ClusterRole';
  if (!clusterRole && (kind !== 'Role' || namespace === undefined)) return undefined;
  const role = store.get({ apiVersion: RBAC, kind: clusterRole ? 'ClusterRole' : 'Role', name, ...(clusterRole ? {} : { namespace }) }) as RoleObject | undefined;
  if (role === undefined) problems.push(`${clusterRole ? 'clusterrole' : 'role'}.${RBAC_GROUP} "${name}" not found`);
  return role;
}

function rulesAllow(rules: readonly PolicyRule[] | undefined, attrs: RequestAttributes): boolean {
  for (const rule of rules ?? []) if (ruleAllows(rule, attrs)) return true;
  return false;
}

function ruleAllows(rule: PolicyRule, attrs: RequestAttributes): boolean {
  if (!matchesAny(rule.verbs, attrs.verb)) return false;
  if (!attrs.resourceRequest) return (rule.nonResourceURLs ?? []).some((url) => urlMatches(url, attrs.path));
  if (!matchesAny(rule.apiGroups, attrs.apiGroup)) return false;
  if (!(rule.resources ?? []).some((r) => resourceMatches(r, attrs))) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(attrs.name);
}

function matchesAny(values: readonly string[] | undefined, wanted: string): boolean {
  return (values ?? []).some((v) => v === '*' || v === wanted);
}

function resourceMatches(ruleResource: string, attrs: RequestAttributes): boolean {
  if (ruleResource === '*') return true;
  const combined = attrs.subresource === '' ? attrs.resource : `${attrs.resource}/${attrs.subresource}`;
  if (ruleResource === combined) return true;
  // `*/scale` grants that subresource of every resource.
  return attrs.subresource !== '' && ruleResource === `*/${attrs.subresource}`;
}

function urlMatches(ruleUrl: string, path: string): boolean {
  if (ruleUrl === '*' || ruleUrl === path) return true;
  return ruleUrl.endsWith('*') && path.startsWith(ruleUrl.slice(0, -1));
}

/** Thrown when RBAC refuses a request: the real server's 403 Status. */
export class RbacForbiddenError extends ApiError {
  override name = 'RbacForbiddenError';
}

/** The 403 a real server answers: `<resource>[.<group>] ["<name>"] is forbidden: User "<u>" cannot <verb> …`. */
export function forbidden(attrs: RequestAttributes, user: UserInfo, reason: string): RbacForbiddenError {
  let why: string;
  if (!attrs.resourceRequest) why = `User "${user.name}" cannot ${attrs.verb} path "${attrs.path}"`;
  else {
    const resource = attrs.subresource === '' ? attrs.resource : `${attrs.resource}/${attrs.subresource}`;
    const scope = attrs.namespace === '' ? 'at the cluster scope' : `in the namespace "${attrs.namespace}"`;
    why = `User "${user.name}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" ${scope}`;
  }
  if (reason !== '') why = `${why}: ${reason}`;
  const qualified = attrs.resource === '' ? '' : attrs.apiGroup === '' ? attrs.resource : `${attrs.resource}.${attrs.apiGroup}`;
  let message: string;
  if (qualified === '') message = `forbidden: ${why}`;
  else if (attrs.name === '') message = `${qualified} is forbidden: ${why}`;
  else message = `${qualified} "${attrs.name}" is forbidden: ${why}`;
  const details: NonNullable<Status['details']> = {};
  if (attrs.name !== '') details.name = attrs.name;
  if (attrs.apiGroup !== '') details.group = attrs.apiGroup;
  if (attrs.resource !== '') details.kind = attrs.resource;
  return new RbacForbiddenError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden', details, code: 403 });
}

// ── the default roles ──────────────────────────────────────────────────────────────────────────────────────

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

/** Namespaced resources `view` reads (no Secrets: reading them would let a viewer act as any ServiceAccount). */
const VIEWABLE: readonly PolicyRule[] = [
  {
    apiGroups: [''],
    resources: [
      'pods', 'pods/log', 'pods/status', 'services', 'services/status', 'endpoints', 'configmaps', 'serviceaccounts', 'events',
      'persistentvolumeclaims', 'persistentvolumeclaims/status', 'replicationcontrollers', 'replicationcontrollers/scale',
      'replicationcontrollers/status', 'limitranges', 'resourcequotas', 'resourcequotas/status', 'bindings',
    ],
    verbs: READ,
  },
  { apiGroups: [''], resources: ['namespaces', 'namespaces/status'], verbs: READ },
  {
    apiGroups: ['apps'],
    resources: [
      'deployments', 'deployments/scale', 'deployments/status', 'daemonsets', 'daemonsets/status', 'replicasets', 'replicasets/scale',
      'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status', 'controllerrevisions',
    ],
    verbs: READ,
  },
  { apiGroups: ['batch'], resources: ['jobs', 'jobs/status', 'cronjobs', 'cronjobs/status'], verbs: READ },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], verbs: READ },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'ingresses/status', 'networkpolicies'], verbs: READ },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets', 'poddisruptionbudgets/status'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
];

/** What `edit` adds: writes to workloads and their configuration, Secrets included; no RBAC, no namespaces. */
const EDITABLE: readonly PolicyRule[] = [
  {
    apiGroups: [''],
    resources: [
      'pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'pods/eviction', 'services', 'services/proxy', 'endpoints',
      'configmaps', 'secrets', 'serviceaccounts', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale',
    ],
    verbs: WRITE,
  },
  { apiGroups: [''], resources: ['secrets', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'services/proxy'], verbs: READ },
  { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'deployments/scale', 'daemonsets', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale', 'deployments/rollback'],
    verbs: WRITE,
  },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: WRITE },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: WRITE },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: WRITE },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: WRITE },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: WRITE },
];

/** What `admin` adds within a namespace: its Roles and RoleBindings, and checking others' access there. */
const ADMINISTRABLE: readonly PolicyRule[] = [
  { apiGroups: [RBAC_GROUP], resources: ['roles', 'rolebindings'], verbs: [...READ, ...WRITE] },
  { apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'], verbs: ['create'] },
];

const DISCOVERY_URLS = ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/readyz', '/openapi', '/openapi/*', '/version', '/version/'];

function clusterRole(name: string, rules: readonly PolicyRule[]): KubeObject {
  return {
    apiVersion: RBAC,
    kind: 'ClusterRole',
    metadata: {
      name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    rules: rules.map((r) => ({ ...r })),
  };
}

function groupBinding(name: string, role: string, group: string): KubeObject {
  return {
    apiVersion: RBAC,
    kind: 'ClusterRoleBinding',
    metadata: {
      name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: RBAC_GROUP, kind: 'Group', name: group }],
  };
}

/**
 * The ClusterRoles and ClusterRoleBindings a fresh cluster has that matter to users: `cluster-admin`,
 * the user-facing `admin` ⊇ `edit` ⊇ `view`, and discovery for every authenticated user.
 */
export function defaultRbac(): KubeObject[] {
  return [
    clusterRole('cluster-admin', [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ]),
    clusterRole('admin', [...VIEWABLE, ...EDITABLE, ...ADMINISTRABLE]),
    clusterRole('edit', [...VIEWABLE, ...EDITABLE]),
    clusterRole('view', VIEWABLE),
    clusterRole('system:discovery', [{ nonResourceURLs: DISCOVERY_URLS, verbs: ['get'] }]),
    groupBinding('cluster-admin', 'cluster-admin', 'system:masters'),
    groupBinding('system:discovery', 'system:discovery', 'system:authenticated'),
  ];
}
