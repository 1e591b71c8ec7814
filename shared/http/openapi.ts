/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests and from the route
 * table the CDK stack and the local adapter use. `docs/openapi.json` is this output, checked in (a test
 * fails when it is stale: `npm run openapi` refreshes it).
 */
import * as z from 'zod';
import * as O from '../domain/onboarding.ts';
import { KUBECONFIG_TTL_LIMITS } from '../config/env.ts';
import * as S from '../domain/schemas.ts';
import { ROUTES, routeKey } from './routes.ts';

interface Op {
  summary: string;
  body?: z.ZodType;
  /** Success status → schema (undefined: no body). */
  ok: [number, z.ZodType | undefined];
  query?: Record<string, string>;
  /** A success body that is not JSON: its media type and what it is. */
  okText?: { mediaType: string; description: string };
  /** Response headers of the success answer → description. */
  okHeaders?: Record<string, string>;
  /** Error answers besides the common ones. */
  moreErrors?: Record<string, string>;
}

const page = { limit: 'page size, 1–100 (default 50)', nextToken: 'opaque token from the previous page' };
const Evaluation = S.Evaluation;

const OPS: Record<string, Op> = {
  'GET /openapi.json': { summary: 'This document', ok: [200, undefined] },
  'GET /v1/me': { summary: 'The caller: principals, admin flag, workspaces', ok: [200, S.Me] },
  'POST /v1/cloud-accesses': { summary: 'Register a cloud access', body: S.CreateCloudAccessBody, ok: [201, S.CloudAccess] },
  'GET /v1/cloud-accesses': { summary: 'List cloud accesses', ok: [200, S.pageOf(S.CloudAccess, 'CloudAccessPage')], query: page },
  'GET /v1/cloud-accesses/{id}': { summary: 'Get a cloud access', ok: [200, S.CloudAccess] },
  'DELETE /v1/cloud-accesses/{id}': { summary: 'Delete a cloud access (409 while a workspace uses it)', ok: [204, undefined] },
  'POST /v1/network-plans': { summary: 'Create a network plan', body: S.CreateNetworkPlanBody, ok: [201, S.NetworkPlan] },
  'GET /v1/network-plans': { summary: 'List network plans', ok: [200, S.pageOf(S.NetworkPlan, 'NetworkPlanPage')], query: page },
  'GET /v1/network-plans/{id}': { summary: 'Get a network plan', ok: [200, S.NetworkPlan] },
  'PUT /v1/network-plans/{id}': { summary: 'Replace a network plan (optimistic: version or If-Match)', body: S.UpdateNetworkPlanBody, ok: [200, S.NetworkPlan] },
  'DELETE /v1/network-plans/{id}': { summary: 'Delete a network plan (409 while a plan uses it)', ok: [204, undefined] },
  'POST /v1/cluster-plans': { summary: 'Create a cluster plan (revision 1)', body: S.CreateClusterPlanBody, ok: [201, S.ClusterPlan] },
  'GET /v1/cluster-plans': { summary: 'List cluster plans', ok: [200, S.pageOf(S.ClusterPlan, 'ClusterPlanPage')], query: page },
  'GET /v1/cluster-plans/{id}': { summary: 'Get a cluster plan at its latest revision', ok: [200, S.ClusterPlan] },
  'POST /v1/cluster-plans/{id}/revisions': { summary: 'Add an immutable revision', body: S.ClusterPlanRevisionBody, ok: [201, S.ClusterPlanRevision] },
  'GET /v1/cluster-plans/{id}/revisions': { summary: 'List revisions', ok: [200, S.pageOf(S.ClusterPlanRevision, 'ClusterPlanRevisionPage')], query: page },
  'GET /v1/cluster-plans/{id}/revisions/{rev}': { summary: 'Get one revision', ok: [200, S.ClusterPlanRevision] },
  'POST /v1/compute-templates': { summary: 'Create a compute template', body: S.CreateComputeTemplateBody, ok: [201, S.ComputeTemplate] },
  'GET /v1/compute-templates': { summary: 'List compute templates', ok: [200, S.pageOf(S.ComputeTemplate, 'ComputeTemplatePage')], query: page },
  'GET /v1/compute-templates/{id}': { summary: 'Get a compute template', ok: [200, S.ComputeTemplate] },
  'PUT /v1/compute-templates/{id}': { summary: 'Replace a compute template', body: S.UpdateComputeTemplateBody, ok: [200, S.ComputeTemplate] },
  'DELETE /v1/compute-templates/{id}': { summary: 'Delete a compute template', ok: [204, undefined] },
  'POST /v1/packages': { summary: 'Publish a package version (immutable)', body: S.CreatePackageBody, ok: [201, S.Package] },
  'GET /v1/packages': { summary: 'List packages', ok: [200, S.pageOf(S.Package, 'PackagePage')], query: page },
  'GET /v1/packages/{name}/{version}': { summary: 'Get a package version', ok: [200, S.Package] },
  'POST /v1/policies': { summary: 'Create a provisioning policy', body: S.CreatePolicyBody, ok: [201, S.ProvisioningPolicy] },
  'GET /v1/policies': { summary: 'List policies', ok: [200, S.pageOf(S.ProvisioningPolicy, 'PolicyPage')], query: page },
  'GET /v1/policies/{id}': { summary: 'Get a policy', ok: [200, S.ProvisioningPolicy] },
  'PUT /v1/policies/{id}': { summary: 'Replace a policy', body: S.UpdatePolicyBody, ok: [200, S.ProvisioningPolicy] },
  'DELETE /v1/policies/{id}': { summary: 'Delete a policy', ok: [204, undefined] },
  'POST /v1/workspaces': { summary: 'Create a workspace', body: S.CreateWorkspaceBody, ok: [201, S.Workspace] },
  'GET /v1/workspaces': { summary: 'List workspaces (admins: all; others: their own)', ok: [200, S.pageOf(S.Workspace, 'WorkspacePage')], query: page },
  'GET /v1/workspaces/{ws}': { summary: 'Get a workspace with its members', ok: [200, S.Workspace] },
  'DELETE /v1/workspaces/{ws}': { summary: 'Delete a workspace (409 while it has clusters)', ok: [204, undefined] },
  'PUT /v1/workspaces/{ws}/members/{principal}': { summary: 'Add or change a member (admins, owners)', body: S.PutMemberBody, ok: [200, S.Workspace] },
  'DELETE /v1/workspaces/{ws}/members/{principal}': { summary: 'Remove a member (admins, owners)', ok: [204, undefined] },
  'POST /v1/workspaces/{ws}/clusters': {
    summary: 'Request a cluster (202), or evaluate the request (?dryRun=true → 200 with violations and cost)',
    body: S.CreateClusterBody,
    ok: [202, S.Cluster],
    query: { dryRun: 'true: evaluate only, answer 200 with an Evaluation' },
  },
  'GET /v1/workspaces/{ws}/clusters': { summary: 'List clusters', ok: [200, S.pageOf(S.Cluster, 'ClusterPage')], query: page },
  'GET /v1/workspaces/{ws}/clusters/{name}': { summary: 'Get a cluster', ok: [200, S.Cluster] },
  'PATCH /v1/workspaces/{ws}/clusters/{name}': { summary: 'Scale, upgrade or change plan revision (202)', body: S.UpdateClusterBody, ok: [202, S.Cluster] },
  'DELETE /v1/workspaces/{ws}/clusters/{name}': { summary: 'Delete a cluster (202)', ok: [202, S.Cluster] },
  'GET /v1/workspaces/{ws}/clusters/{name}/events': { summary: 'Phase history, oldest first', ok: [200, S.pageOf(S.HistoryRecord, 'HistoryPage')], query: page },
  'GET /v1/workspaces/{ws}/clusters/{name}/kubeconfig': {
    summary:
      "A kubeconfig of the caller's own for a Ready cluster: a short-lived ServiceAccount token bound to cluster-admin (owners, platform admins) or to the roles the plan gives the caller's groups (403 naming them when none); 409 before Ready",
    ok: [200, undefined],
    query: { ttlMinutes: `token lifetime in minutes, ${KUBECONFIG_TTL_LIMITS.minMinutes} to the configured maximum (default ${KUBECONFIG_TTL_LIMITS.defaultMaxMinutes}); default ${KUBECONFIG_TTL_LIMITS.defaultMinutes}` },
    okText: { mediaType: 'application/yaml', description: 'kubeconfig (the cluster, its CA, the caller as user with a bearer token); never cached' },
    okHeaders: {
      'slipway-token-expires-at': "when the token expires (RFC 3339); fetch a new kubeconfig then",
      'slipway-cluster-roles': 'the ClusterRoles the token is bound to, comma-separated',
      'cache-control': 'no-store',
    },
    moreErrors: { '503': 'The workload cluster does not answer now (retry-after)' },
  },
  'POST /v1/onboarding-rules': {
    summary: 'Create an account-vending onboarding rule (tried in ascending priority; the first match onboards the account)',
    body: O.CreateOnboardingRuleBody,
    ok: [201, O.OnboardingRule],
  },
  'GET /v1/onboarding-rules': { summary: 'List onboarding rules', ok: [200, S.pageOf(O.OnboardingRule, 'OnboardingRulePage')], query: page },
  'GET /v1/onboarding-rules/{id}': { summary: 'Get an onboarding rule', ok: [200, O.OnboardingRule] },
  'PUT /v1/onboarding-rules/{id}': {
    summary: 'Replace an onboarding rule (onboardings under way keep the version they started with)',
    body: O.UpdateOnboardingRuleBody,
    ok: [200, O.OnboardingRule],
  },
  'DELETE /v1/onboarding-rules/{id}': { summary: 'Delete an onboarding rule', ok: [204, undefined] },
  'GET /v1/accounts': {
    summary: 'Vended AWS accounts and their onboarding (status, workspace, verification, baseline cluster), summarised',
    ok: [200, S.pageOf(O.OnboardedAccountSummary, 'OnboardedAccountPage')],
    query: page,
  },
  'GET /v1/accounts/{accountId}': { summary: 'One vended account and its onboarding, with the rule it matched and the EC2 offerings', ok: [200, O.OnboardedAccount] },
  'POST /v1/accounts/{accountId}/retry': {
    summary:
      'Retry a Failed onboarding (202): attempt n+1 starts with the onboarding rule that matches the account now, as the vending event sent again would; no body',
    ok: [202, O.OnboardedAccount],
    okHeaders: { location: 'the account: /v1/accounts/{accountId}' },
    moreErrors: { '409': 'The onboarding is not Failed (in progress or Onboarded), or no enabled onboarding rule matches the account now' },
  },
};

const ERRORS: Record<string, string> = {
  '400': 'Malformed or invalid input',
  '401': 'No or invalid token',
  '403': 'Not allowed',
  '404': 'Unknown (or not visible to the caller)',
  '409': 'Conflict: exists, stale generation/version, operation in flight, in use',
  '422': 'Policy violation or unusable references',
  '429': 'Throttled',
};

export function buildOpenApi(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  /** Adds the schema (and every schema with an id it uses) to components; returns a $ref or an inline schema. */
  const component = (schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> => {
    const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any', metadata: z.globalRegistry }) as Record<string, unknown>;
    const defs = (json.$defs ?? {}) as Record<string, unknown>;
    delete json.$defs;
    delete json.$schema;
    for (const [name, def] of Object.entries(defs)) schemas[name] = rewriteRefs(def);
    const id = z.globalRegistry.get(schema)?.id;
    if (typeof id === 'string' && !(id in defs)) schemas[id] = rewriteRefs(json);
    return typeof id === 'string' ? { $ref: `#/components/schemas/${id}` } : (rewriteRefs(json) as Record<string, unknown>);
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const key = routeKey(route);
    const op = OPS[key];
    if (!op) throw new Error(`OpenAPI: no description for route ${key}`);
    const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    for (const [name, description] of Object.entries(op.query ?? {})) params.push({ name, in: 'query', required: false, schema: { type: 'string' }, description } as never);
    if (route.method === 'POST') params.push({ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' }, description: 'same key + same request → same answer' } as never);
    const responses: Record<string, unknown> = {};
    const [status, out] = op.ok;
    responses[String(status)] = out
      ? { description: 'OK', content: { 'application/json': { schema: component(out, 'output') } } }
      : op.okText
        ? { description: op.okText.description, content: { [op.okText.mediaType]: { schema: { type: 'string' } } } }
        : { description: 'OK' };
    if (op.okHeaders) {
      (responses[String(status)] as Record<string, unknown>).headers = Object.fromEntries(
        Object.entries(op.okHeaders).map(([name, description]) => [name, { description, schema: { type: 'string' } }]),
      );
    }
    if (key === 'POST /v1/workspaces/{ws}/clusters') {
      responses['200'] = { description: 'dry run', content: { 'application/json': { schema: component(Evaluation, 'output') } } };
    }
    if (!route.public) {
      for (const [code, description] of Object.entries({ ...ERRORS, ...op.moreErrors })) {
        responses[code] = { description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
      }
    }
    const operation: Record<string, unknown> = {
      operationId: operationId(key),
      summary: op.summary,
      tags: [route.group],
      parameters: params,
      responses,
    };
    if (op.body) operation.requestBody = { required: true, content: { 'application/json': { schema: component(op.body, 'input') } } };
    if (route.public) operation.security = [];
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = operation;
  }
  component(S.Problem, 'output');

  return {
    openapi: '3.1.0',
    info: { title: 'Slipway API', version: '1.0.0', description: 'Self-service Kubernetes clusters on Cluster API. Errors are RFC 9457 problem+json.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}

function operationId(key: string): string {
  const [method = '', path = ''] = key.split(' ');
  const words = path
    .replace(/^\/v1\//, '')
    .replace('.json', '')
    .split('/')
    .map((s) => (s.startsWith('{') ? `By${cap(s.slice(1, -1))}` : s.split('-').map(cap).join('')));
  return method.toLowerCase() + words.map(cap).join('');
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === '$ref' && typeof v === 'string' ? v.replace('#/$defs/', '#/components/schemas/') : rewriteRefs(v);
    }
    return out;
  }
  return node;
}
