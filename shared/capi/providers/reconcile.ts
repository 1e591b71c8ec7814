/**
 * `clusterctl init` as an idempotent, resumable reconcile that callers poll: each call reads the cluster
 * (the Provider inventory and the clusterctl-labelled Deployments: two LISTs), applies at most one component
 * set, and says what it waits for.
 *
 * Stages, in order:
 *   1. cert-manager — applied (CRDs first and Established, then Namespaces, then the rest) unless all its
 *      Deployments carry the wanted version; before the first provider of a fresh install, its Deployments
 *      must be Available and it must issue a test Certificate (namespace `cert-manager-test`, deleted after),
 *      as clusterctl proves cert-manager before installing providers whose webhooks need its certificates;
 *   2. the providers — core, bootstrap, control plane, infrastructure, add-on — each applied the same way,
 *      then its inventory object, unless the inventory already records the wanted version (or newer) and one
 *      of its Deployments exists; an older inventory version re-applies the set (an upgrade);
 *   3. ready once every Deployment of every set is Available.
 *
 * An applied set is never re-applied by later calls, so a poll costs two LISTs. Writes are server-side apply
 * with force under Slipway's field manager. Objects an older release had and a newer one dropped are left in
 * place (clusterctl upgrade deletes them; Slipway does not yet).
 */
import type { KubeClient } from '../client.ts';
import { KubeApiError } from '../errors.ts';
import { condition, deploymentAvailable } from '../status.ts';
import type { KubeObject, ObjectRef } from '../types.ts';
import { CERT_MANAGER, type CertManagerSpec, type InfrastructureProvider, type ProviderLabel, type ProviderSpec, providerSet } from './catalog.ts';
import { ANNOTATION_CERT_MANAGER_VERSION, type ComponentSet, certManagerComponents, LABEL_CLUSTERCTL, LABEL_CLUSTERCTL_CORE, LABEL_PROVIDER, providerComponents } from './components.ts';
import { ProviderSourceError, redactUrl } from './errors.ts';
import { type ComponentsFetcher, defaultComponentsFetcher } from './fetch.ts';
import { compareVersions, type InstalledProvider, readInventory } from './inventory.ts';
import { componentsUrl } from './source.ts';

/** Plain data (plus an optional fetcher): what a step Lambda or a CDK custom resource passes. */
export interface ProviderInstallOptions {
  infrastructure: InfrastructureProvider;
  /** Install CAAPH (default true). */
  addonHelm?: boolean;
  /** Base URL of a clusterctl local-repository layout (`<base>/<label>/<version>/<file>`); default upstream. */
  repository?: string;
  /** Substitution variables, over Slipway's own (providerVariables). */
  variables?: Readonly<Record<string, string>>;
  /** Default: one shared HTTPS fetcher with an in-memory cache (fetch.ts). */
  fetcher?: ComponentsFetcher;
  /** Waits inside one call: CRDs Established, the test Certificate Ready. Default 15 s, every 500 ms. */
  wait?: { timeoutMs?: number; intervalMs?: number };
  sleep?: (ms: number) => Promise<void>;
}

/** `cert-manager`, a provider label while that set is installed, `deployments` while waiting for them. */
export type ProviderStage = 'cert-manager' | ProviderLabel | 'deployments' | 'ready';

export interface ProviderStatus {
  ready: boolean;
  stage: ProviderStage;
  /** Human-readable, most pressing first. */
  waitingFor: string[];
  /** Component sets this call applied completely (`label version`); empty for a read-only check or a plain poll. */
  applied: string[];
}

/** Every install turns on ClusterClass topology and MachinePools (both off by default in CAPI). */
export const SLIPWAY_VARIABLES: Readonly<Record<string, string>> = { CLUSTER_TOPOLOGY: 'true', EXP_MACHINE_POOL: 'true' };

/**
 * CAPA puts AWS_B64ENCODED_CREDENTIALS into its `capa-manager-bootstrap-credentials` Secret as a credentials
 * file. Slipway's CAPA never gets static keys: on a self-managed cluster it uses the control-plane nodes'
 * instance profile, on an EKS management cluster EKS Pod Identity (or IRSA via AWS_CONTROLLER_IAM_ROLE).
 * CAPA's documentation for that case sets the variable to base64 of a blank line, `Cg==`: the file holds no
 * profile, so the SDK falls through to its default chain (web identity, container or instance credentials).
 */
export const AWS_NO_STATIC_CREDENTIALS = 'Cg==';

/** The variables an install substitutes: Slipway's, the infrastructure's defaults, then the caller's. */
export function providerVariables(infrastructure: InfrastructureProvider, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const infra: Record<string, string> = infrastructure === 'aws' ? { AWS_B64ENCODED_CREDENTIALS: AWS_NO_STATIC_CREDENTIALS } : {};
  return { ...SLIPWAY_VARIABLES, ...infra, ...extra };
}

/** Applies at most one component set, then reports (see the header). */
export async function reconcileProviders(client: KubeClient, opts: ProviderInstallOptions): Promise<ProviderStatus> {
  const ctx = contextOf(opts);
  const state = assess(ctx, await observe(client));
  if (!state.certManager.applied) {
    const set = await loadCertManager(ctx);
    const pending = await applySet(client, set, ctx);
    if (pending.length > 0) return { ready: false, stage: 'cert-manager', waitingFor: pending, applied: [] };
    return { ready: false, stage: 'cert-manager', waitingFor: set.deployments.map(availableWait), applied: [describeSet(set)] };
  }
  const next = state.providers.find((p) => !p.applied);
  if (next !== undefined) {
    const certManagerWaits = unavailable(state.certManager.deployments);
    if (certManagerWaits.length > 0) return { ready: false, stage: 'cert-manager', waitingFor: certManagerWaits, applied: [] };
    if (state.providers.every((p) => p.installed === undefined)) {
      const proof = await proveCertManager(client, ctx);
      if (proof.length > 0) return { ready: false, stage: 'cert-manager', waitingFor: proof, applied: [] };
    }
    const set = await loadProvider(next.spec, ctx);
    const pending = await applySet(client, set, ctx);
    if (pending.length > 0) return { ready: false, stage: next.spec.label, waitingFor: pending, applied: [] };
    const rest = state.providers.filter((p) => !p.applied && p !== next).map(installWait);
    return { ready: false, stage: next.spec.label, waitingFor: [...rest, ...set.deployments.map(availableWait)], applied: [describeSet(set)] };
  }
  return deploymentsStatus(state);
}

/** What reconcileProviders would report, without writing anything or downloading components. */
export async function providerStatus(client: KubeClient, opts: ProviderInstallOptions): Promise<ProviderStatus> {
  const state = assess(contextOf(opts), await observe(client));
  if (!state.certManager.applied) {
    return { ready: false, stage: 'cert-manager', waitingFor: [installWait(state.certManager), ...state.providers.filter((p) => !p.applied).map(installWait)], applied: [] };
  }
  const next = state.providers.find((p) => !p.applied);
  if (next !== undefined) {
    return {
      ready: false,
      stage: next.spec.label,
      waitingFor: [...unavailable(state.certManager.deployments), ...state.providers.filter((p) => !p.applied).map(installWait)],
      applied: [],
    };
  }
  return deploymentsStatus(state);
}

/** One line for a cluster record: the stage and the first few waits. */
export function statusMessage(status: ProviderStatus, max = 3): string {
  if (status.ready) return 'CAPI providers installed and Available';
  const shown = status.waitingFor.slice(0, max).join('; ');
  const more = status.waitingFor.length > max ? ` (+${status.waitingFor.length - max} more)` : '';
  const what = status.stage === 'deployments' ? 'providers installed' : `installing ${status.stage}`;
  return `${what}: waiting for ${shown}${more}`;
}

// ── reading the cluster ──────────────────────────────────────────────────────────────────────────────────

interface Context {
  certManager: CertManagerSpec;
  providers: ProviderSpec[];
  /** Components URL per set label. */
  urls: ReadonlyMap<string, string>;
  variables: Record<string, string>;
  fetch: ComponentsFetcher;
  /** Polls within one call's wait (timeout / interval). */
  polls: number;
  intervalMs: number;
  sleep: (ms: number) => Promise<void>;
}

function contextOf(opts: ProviderInstallOptions): Context {
  const intervalMs = Math.max(1, opts.wait?.intervalMs ?? 500);
  const providers = providerSet(opts.infrastructure, { addonHelm: opts.addonHelm !== false });
  // Every URL up front: a set without a source fails the first call, before anything is written.
  const urls = new Map([CERT_MANAGER, ...providers].map((spec) => [spec.label, componentsUrl(spec, opts.repository)]));
  return {
    certManager: CERT_MANAGER,
    providers,
    urls,
    variables: providerVariables(opts.infrastructure, opts.variables),
    fetch: opts.fetcher ?? defaultComponentsFetcher(),
    polls: Math.ceil((opts.wait?.timeoutMs ?? 15_000) / intervalMs),
    intervalMs,
    sleep: opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  };
}

interface Observed {
  inventory: InstalledProvider[];
  /** Deployments labelled by clusterctl (cert-manager's and the providers'). */
  deployments: KubeObject[];
}

async function observe(client: KubeClient): Promise<Observed> {
  const [inventory, deployments] = await Promise.all([readInventory(client), client.list('apps/v1', 'Deployment', { labelSelector: LABEL_CLUSTERCTL })]);
  return { inventory, deployments };
}

interface SetState {
  label: string;
  version: string;
  applied: boolean;
  /** The version found, when another one is. */
  found?: string;
  deployments: KubeObject[];
}

interface ProviderState extends SetState {
  spec: ProviderSpec;
  installed: InstalledProvider | undefined;
}

function assess(ctx: Context, observed: Observed): { certManager: SetState; providers: ProviderState[] } {
  const cm = ctx.certManager;
  const cmDeployments = observed.deployments.filter((d) => d.metadata.labels?.[LABEL_CLUSTERCTL_CORE] === 'cert-manager');
  const versions = cm.deployments.map((name) => cmDeployments.find((d) => d.metadata.name === name)?.metadata.annotations?.[ANNOTATION_CERT_MANAGER_VERSION]);
  const cmApplied = versions.every((v) => v !== undefined && compareVersions(v, cm.version) >= 0);
  const cmFound = versions.find((v) => v !== undefined && compareVersions(v, cm.version) < 0);
  const certManager: SetState = { label: cm.label, version: cm.version, applied: cmApplied, deployments: cmDeployments, ...(cmFound === undefined ? {} : { found: cmFound }) };

  const providers = ctx.providers.map((spec): ProviderState => {
    const installed = observed.inventory.find((p) => p.label === spec.label);
    const deployments = observed.deployments.filter((d) => d.metadata.labels?.[LABEL_PROVIDER] === spec.label);
    // Deployments gone while the inventory stayed (deleted by hand): apply again.
    const applied = installed !== undefined && compareVersions(installed.version, spec.version) >= 0 && deployments.length > 0;
    const found = installed !== undefined && compareVersions(installed.version, spec.version) < 0 ? installed.version : undefined;
    return { spec, label: spec.label, version: spec.version, installed, applied, deployments, ...(found === undefined ? {} : { found }) };
  });
  return { certManager, providers };
}

function deploymentsStatus(state: { certManager: SetState; providers: ProviderState[] }): ProviderStatus {
  const waitingFor = [state.certManager, ...state.providers].flatMap((s) => unavailable(s.deployments));
  return waitingFor.length === 0 ? { ready: true, stage: 'ready', waitingFor: [], applied: [] } : { ready: false, stage: 'deployments', waitingFor, applied: [] };
}

function unavailable(deployments: readonly KubeObject[]): string[] {
  return deployments.filter((d) => !deploymentAvailable(d)).map((d) => availableWait({ name: d.metadata.name, namespace: d.metadata.namespace }));
}

function availableWait(ref: Pick<ObjectRef, 'name' | 'namespace'>): string {
  return `Deployment ${ref.namespace ?? ''}/${ref.name} to be Available`;
}

function installWait(s: SetState): string {
  return `${s.label} ${s.version} to be installed${s.found === undefined ? '' : ` (${s.found} is)`}`;
}

function describeSet(set: ComponentSet): string {
  return `${set.label} ${set.version}`;
}

// ── applying ─────────────────────────────────────────────────────────────────────────────────────────────

async function loadCertManager(ctx: Context): Promise<ComponentSet> {
  const url = urlOf(ctx, ctx.certManager.label);
  return certManagerComponents(ctx.certManager, await ctx.fetch(url), redactUrl(url));
}

async function loadProvider(spec: ProviderSpec, ctx: Context): Promise<ComponentSet> {
  const url = urlOf(ctx, spec.label);
  return providerComponents(spec, await ctx.fetch(url), ctx.variables, redactUrl(url));
}

function urlOf(ctx: Context, label: string): string {
  const url = ctx.urls.get(label);
  if (url === undefined) throw new ProviderSourceError(`no components URL for ${label}`);
  return url;
}

/**
 * CRDs, then (once every CRD is Established) Namespaces, the rest and the inventory object. Returns what it
 * still waits for — CRDs not Established within the call's wait — or nothing when the whole set is applied.
 */
async function applySet(client: KubeClient, set: ComponentSet, ctx: Context): Promise<string[]> {
  const crds: KubeObject[] = [];
  for (const crd of set.crds) crds.push(await client.apply(crd, { force: true }));
  const pending = await untilEstablished(client, crds, ctx);
  if (pending.length > 0) return pending.map((name) => `CustomResourceDefinition ${name} to be Established`);
  for (const obj of [...set.namespaces, ...set.rest]) await client.apply(obj, { force: true });
  if (set.inventory !== undefined) await client.apply(set.inventory, { force: true });
  return [];
}

/** Names of the CRDs still not Established when the call's wait runs out. */
async function untilEstablished(client: KubeClient, applied: readonly KubeObject[], ctx: Context): Promise<string[]> {
  let pending = applied.filter((crd) => condition(crd, 'Established')?.status !== 'True').map((crd) => crd.metadata.name);
  for (let poll = 0; pending.length > 0 && poll < ctx.polls; poll++) {
    await ctx.sleep(ctx.intervalMs);
    const current = await Promise.all(pending.map((name) => client.get({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name })));
    pending = pending.filter((_, i) => condition(current[i], 'Established')?.status !== 'True');
  }
  return pending;
}

// ── proving cert-manager ─────────────────────────────────────────────────────────────────────────────────

const TEST_NAMESPACE = 'cert-manager-test';
const CERT_MANAGER_API = 'cert-manager.io/v1';
const TEST_ISSUER = 'test-selfsigned';
const TEST_CERTIFICATE = 'selfsigned-cert';
const TEST_SECRET = 'selfsigned-cert-tls';

/** A self-signed Issuer and a Certificate from it: accepted by the webhook and issued means cert-manager works. */
function testObjects(): KubeObject[] {
  const labels = { 'app.kubernetes.io/managed-by': 'slipway' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: TEST_NAMESPACE, labels } },
    { apiVersion: CERT_MANAGER_API, kind: 'Issuer', metadata: { name: TEST_ISSUER, namespace: TEST_NAMESPACE, labels }, spec: { selfSigned: {} } },
    {
      apiVersion: CERT_MANAGER_API,
      kind: 'Certificate',
      metadata: { name: TEST_CERTIFICATE, namespace: TEST_NAMESPACE, labels },
      spec: { dnsNames: ['example.com'], secretName: TEST_SECRET, issuerRef: { name: TEST_ISSUER } },
    },
  ];
}

/** Nothing when cert-manager issued the test Certificate (then removed); else what is awaited. */
async function proveCertManager(client: KubeClient, ctx: Context): Promise<string[]> {
  try {
    for (const obj of testObjects()) await client.apply(obj, { force: true });
  } catch (err) {
    // Webhook not answering yet, test namespace still terminating from an earlier proof: the next poll retries.
    if (err instanceof KubeApiError) return [`cert-manager to accept a test Certificate (${short(err.message)})`];
    throw err;
  }
  const ref = { apiVersion: CERT_MANAGER_API, kind: 'Certificate', name: TEST_CERTIFICATE, namespace: TEST_NAMESPACE };
  let certificate = await client.get(ref);
  for (let poll = 0; condition(certificate, 'Ready')?.status !== 'True'; poll++) {
    if (poll >= ctx.polls) {
      const ready = condition(certificate, 'Ready');
      const why = ready === undefined ? 'not reported yet' : `Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ''}`;
      return [`cert-manager to issue the test Certificate ${TEST_NAMESPACE}/${TEST_CERTIFICATE} (${why})`];
    }
    await ctx.sleep(ctx.intervalMs);
    certificate = await client.get(ref);
  }
  await client.delete(ref);
  await client.delete({ apiVersion: CERT_MANAGER_API, kind: 'Issuer', name: TEST_ISSUER, namespace: TEST_NAMESPACE });
  await client.delete({ apiVersion: 'v1', kind: 'Secret', name: TEST_SECRET, namespace: TEST_NAMESPACE });
  await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: TEST_NAMESPACE });
  return [];
}

function short(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
