/**
 * cert-manager, simulated — what clusterctl and the CAPI providers rely on, in every virtual cluster where
 * cert-manager's Deployments (namespace `cert-manager`) are Available; each component runs only while its own
 * Deployment is (gates `cert-manager`, `cert-manager-cainjector`, `cert-manager-webhook`, see kubelet.ts):
 * - controller: Issuers and ClusterIssuers of type `selfSigned` or `ca` become `Ready=True` (a `ca` issuer once
 *   its key pair Secret exists; other types stay `Ready=False`, the simulator issues nothing else). A Certificate
 *   whose issuer is Ready gets its Secret (`spec.secretName`, type `kubernetes.io/tls`, `tls.crt`, `tls.key`,
 *   `ca.crt`: real ECDSA P-256 certificates, see ../tls.ts) and `Ready=True` with observedGeneration,
 *   notBefore/notAfter/renewalTime and revision; it is reissued when the Secret goes or no longer matches the
 *   spec (names, issuer). CertificateRequests are not created (the issuance is direct) and ones a user creates
 *   are stored, not signed; ACME Orders/Challenges are stored only.
 * - cainjector: `caBundle` of every webhook of Mutating/ValidatingWebhookConfigurations, and of CRDs'
 *   `spec.conversion.webhook.clientConfig`, from the annotation `cert-manager.io/inject-ca-from: <ns>/<certificate>`
 *   (the `ca.crt` of that Certificate's Secret) or `cert-manager.io/inject-ca-from-secret: <ns>/<secret>` (a
 *   Secret annotated `cert-manager.io/allow-direct-injection: "true"`).
 * - webhook: keeps its serving CA in the Secret named by `--dynamic-serving-ca-secret-name` (default
 *   `cert-manager-webhook-ca`), which the cainjector puts into cert-manager's own webhook configurations.
 * Admission webhooks are stored, never called: no request is refused because a webhook is unreachable.
 */
import { X509Certificate } from 'node:crypto';
import { issueCertificate } from '../tls.ts';
import { CERT_MANAGER_NAMESPACE, CERT_MANAGER_WEBHOOK } from './providers.ts';
import type { ClusterRuntime, EventRouter, Key, Reconciler, ReconcileResult } from './runtime.ts';
import type { Condition, KObject } from './types.ts';
import { canonicalEqual, cond, conditionsFrom, copy, isDeleting, writeStatus } from './util.ts';

export const API_CERT_MANAGER = 'cert-manager.io/v1';
const API_ADMISSION = 'admissionregistration.k8s.io/v1';
const API_CRD = 'apiextensions.k8s.io/v1';
export const A_INJECT_CA_FROM = 'cert-manager.io/inject-ca-from';
export const A_INJECT_CA_FROM_SECRET = 'cert-manager.io/inject-ca-from-secret';
export const A_ALLOW_DIRECT_INJECTION = 'cert-manager.io/allow-direct-injection';
export const A_CERTIFICATE_NAME = 'cert-manager.io/certificate-name';
const A_ISSUER_NAME = 'cert-manager.io/issuer-name';
const A_ISSUER_KIND = 'cert-manager.io/issuer-kind';
const A_ISSUER_GROUP = 'cert-manager.io/issuer-group';
const A_COMMON_NAME = 'cert-manager.io/common-name';
const A_ALT_NAMES = 'cert-manager.io/alt-names';
const A_IP_SANS = 'cert-manager.io/ip-sans';
const A_URI_SANS = 'cert-manager.io/uri-sans';
const CA_BUNDLE_KINDS = [
  { apiVersion: API_ADMISSION, kind: 'MutatingWebhookConfiguration', controller: 'cainjector-mutating' },
  { apiVersion: API_ADMISSION, kind: 'ValidatingWebhookConfiguration', controller: 'cainjector-validating' },
  { apiVersion: API_CRD, kind: 'CustomResourceDefinition', controller: 'cainjector-crd' },
] as const;
/** cert-manager's default certificate duration and the renewal point (2/3 of it). */
const DEFAULT_DURATION_MS = 90 * 86_400_000;
/** Renewals further away than this are not scheduled (nothing in the simulator lives that long). */
const MAX_RENEWAL_WAIT_MS = 86_400_000;

interface IssuerRef {
  name?: string;
  kind?: string;
  group?: string;
}

interface IssuerObject extends KObject {
  spec?: { selfSigned?: object; ca?: { secretName?: string }; [other: string]: unknown };
  status?: { conditions?: Condition[] };
}

interface CertificateObject extends KObject {
  spec?: {
    secretName?: string;
    commonName?: string;
    dnsNames?: string[];
    ipAddresses?: string[];
    uris?: string[];
    isCA?: boolean;
    duration?: string;
    renewBefore?: string;
    issuerRef?: IssuerRef;
    subject?: { organizations?: string[] };
    secretTemplate?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  };
  status?: { conditions?: Condition[]; revision?: number; notBefore?: string; notAfter?: string; renewalTime?: string };
}

interface SecretObject extends KObject {
  type?: string;
  data?: Record<string, string>;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A Go duration (`2160h`, `1h30m0s`, `90m`) in milliseconds; undefined when it does not parse. */
export function parseGoDuration(text: string | undefined): number | undefined {
  if (text === undefined || !/^(\d+(\.\d+)?(h|m|s|ms))+$/.test(text)) return undefined;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) total += Number(m[1]) * (unit[m[2] ?? 's'] ?? 0);
  return total;
}

function readyOf(obj: { status?: { conditions?: Condition[] } } | undefined): Condition | undefined {
  return obj?.status?.conditions?.find((c) => c.type === 'Ready');
}

/** The namespace ClusterIssuers read their Secrets from (`--cluster-resource-namespace`, the controller's own). */
const CLUSTER_RESOURCE_NAMESPACE = CERT_MANAGER_NAMESPACE;

async function issuerOf(rt: ClusterRuntime, ref: IssuerRef | undefined, namespace: string): Promise<IssuerObject | undefined> {
  if (ref?.name === undefined) return undefined;
  return ref.kind === 'ClusterIssuer'
    ? rt.client.get<IssuerObject>(API_CERT_MANAGER, 'ClusterIssuer', ref.name)
    : rt.client.get<IssuerObject>(API_CERT_MANAGER, 'Issuer', ref.name, namespace);
}

// ── controller: issuers ───────────────────────────────────────────────────────────────────────────────────────

function issuerReconciler(kind: 'Issuer' | 'ClusterIssuer'): Reconciler {
  return {
    name: kind === 'Issuer' ? 'issuer' : 'clusterissuer',
    gate: 'cert-manager',
    apiVersion: API_CERT_MANAGER,
    kind,
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const issuer = await rt.client.get<IssuerObject>(API_CERT_MANAGER, kind, key.name, kind === 'Issuer' ? key.namespace : undefined);
      if (issuer === undefined || isDeleting(issuer)) return undefined;
      const spec = issuer.spec ?? {};
      let ready: ReturnType<typeof cond>;
      if (spec.selfSigned !== undefined) ready = cond('Ready', true, 'IsReady');
      else if (spec.ca !== undefined) {
        const secretName = spec.ca.secretName ?? '';
        const ns = kind === 'Issuer' ? (issuer.metadata.namespace ?? '') : CLUSTER_RESOURCE_NAMESPACE;
        const secret = secretName === '' ? undefined : await rt.client.get<SecretObject>('v1', 'Secret', secretName, ns);
        ready =
          secret?.data?.['tls.crt'] !== undefined && secret.data['tls.key'] !== undefined
            ? cond('Ready', true, 'KeyPairVerified', 'Signing CA verified')
            : cond('Ready', false, 'ErrGetKeyPair', `Error getting keypair for CA issuer: secrets "${secretName}" not found`);
      } else {
        ready = cond('Ready', false, 'ErrInitIssuer', 'the simulated cert-manager issues from selfSigned and ca issuers only');
      }
      await writeStatus(rt.client, issuer, { ...(issuer.status ?? {}), conditions: conditionsFrom(issuer.status?.conditions, [ready], issuer.metadata.generation) });
      return undefined;
    },
  };
}

// ── controller: certificates ─────────────────────────────────────────────────────────────────────────────────

function wantedAnnotations(cert: CertificateObject, issuerKind: string): Record<string, string> {
  const spec = cert.spec ?? {};
  return {
    [A_CERTIFICATE_NAME]: cert.metadata.name,
    [A_ISSUER_NAME]: spec.issuerRef?.name ?? '',
    [A_ISSUER_KIND]: issuerKind,
    [A_ISSUER_GROUP]: spec.issuerRef?.group ?? 'cert-manager.io',
    [A_COMMON_NAME]: spec.commonName ?? '',
    [A_ALT_NAMES]: (spec.dnsNames ?? []).join(','),
    [A_IP_SANS]: (spec.ipAddresses ?? []).join(','),
    [A_URI_SANS]: (spec.uris ?? []).join(','),
  };
}

function upToDate(secret: SecretObject | undefined, wanted: Record<string, string>): { notBefore: Date; notAfter: Date } | undefined {
  const pemText = unb64(secret?.data?.['tls.crt']);
  if (pemText === undefined || secret?.data?.['tls.key'] === undefined) return undefined;
  for (const [k, v] of Object.entries(wanted)) if ((secret.metadata.annotations?.[k] ?? '') !== v) return undefined;
  try {
    const x = new X509Certificate(pemText);
    const notAfter = new Date(x.validTo);
    return notAfter.getTime() > Date.now() ? { notBefore: new Date(x.validFrom), notAfter } : undefined;
  } catch {
    return undefined;
  }
}

/** Ready with the validity of the certificate in the Secret; returns when cert-manager would renew it. */
async function markIssued(
  rt: ClusterRuntime,
  cert: CertificateObject,
  generation: number | undefined,
  validity: { notBefore: Date; notAfter: Date },
  renewBeforeMs: number,
  revision: number,
): Promise<Date> {
  const renewal = new Date(validity.notAfter.getTime() - renewBeforeMs);
  await writeStatus(rt.client, cert, {
    ...(cert.status ?? {}),
    conditions: conditionsFrom(
      cert.status?.conditions?.filter((c) => c.type !== 'Issuing'),
      [cond('Ready', true, 'Ready', 'Certificate is up to date and has not expired')],
      generation,
    ),
    notBefore: iso(validity.notBefore),
    notAfter: iso(validity.notAfter),
    renewalTime: iso(renewal),
    revision,
  });
  return renewal;
}

function certificateReconciler(): Reconciler {
  return {
    name: 'certificate',
    gate: 'cert-manager',
    apiVersion: API_CERT_MANAGER,
    kind: 'Certificate',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const cert = await rt.client.get<CertificateObject>(API_CERT_MANAGER, 'Certificate', key.name, key.namespace);
      if (cert === undefined || isDeleting(cert)) return undefined;
      const spec = cert.spec ?? {};
      const ns = cert.metadata.namespace ?? '';
      const generation = cert.metadata.generation;
      const secretName = spec.secretName ?? '';
      const issuerKind = spec.issuerRef?.kind ?? 'Issuer';
      const secret = secretName === '' ? undefined : await rt.client.get<SecretObject>('v1', 'Secret', secretName, ns);
      const wanted = wantedAnnotations(cert, issuerKind);
      const current = upToDate(secret, wanted);
      const durationMs = parseGoDuration(spec.duration) ?? DEFAULT_DURATION_MS;
      const renewBeforeMs = parseGoDuration(spec.renewBefore) ?? Math.floor(durationMs / 3);
      if (current !== undefined) {
        const renewal = await markIssued(rt, cert, generation, current, renewBeforeMs, cert.status?.revision ?? 1);
        const wait = renewal.getTime() - Date.now();
        return wait < MAX_RENEWAL_WAIT_MS ? { requeueAfterMs: Math.max(wait, 1) } : undefined;
      }
      const why = secret === undefined ? 'DoesNotExist' : 'SecretMismatch';
      const message = secret === undefined ? 'Issuing certificate as Secret does not exist' : 'Issuing certificate as Secret does not match the Certificate spec';
      const pending = async () => {
        await writeStatus(rt.client, cert, {
          ...(cert.status ?? {}),
          conditions: conditionsFrom(cert.status?.conditions, [cond('Ready', false, why, message), cond('Issuing', true, why, message)], generation),
        });
        return undefined;
      };
      if (secretName === '' || (spec.issuerRef?.group ?? 'cert-manager.io') !== 'cert-manager.io') return pending();
      const issuer = await issuerOf(rt, spec.issuerRef, ns);
      if (issuer === undefined || readyOf(issuer)?.status !== 'True') return pending();
      let signer: { cert: string; key: string } | undefined;
      if (issuer.spec?.ca !== undefined) {
        const caNs = issuerKind === 'ClusterIssuer' ? CLUSTER_RESOURCE_NAMESPACE : ns;
        const ca = await rt.client.get<SecretObject>('v1', 'Secret', issuer.spec.ca.secretName ?? '', caNs);
        const caCert = unb64(ca?.data?.['tls.crt']);
        const caKey = unb64(ca?.data?.['tls.key']);
        if (caCert === undefined || caKey === undefined) return pending();
        signer = { cert: caCert, key: caKey };
      }
      const issued = issueCertificate({
        ...(spec.commonName !== undefined ? { commonName: spec.commonName } : {}),
        ...(spec.subject?.organizations !== undefined ? { organizations: spec.subject.organizations } : {}),
        dnsNames: spec.dnsNames ?? [],
        ipAddresses: spec.ipAddresses ?? [],
        isCA: spec.isCA === true,
        durationMs,
        ...(signer !== undefined ? { issuer: signer } : {}),
      });
      const data = { 'tls.crt': b64(issued.cert), 'tls.key': b64(issued.key), 'ca.crt': b64(signer?.cert ?? issued.cert) };
      const labels = { ...(spec.secretTemplate?.labels ?? {}), 'controller.cert-manager.io/fao': 'true' };
      const annotations = { ...(spec.secretTemplate?.annotations ?? {}), ...wanted };
      if (secret === undefined) {
        await rt.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName, namespace: ns, labels, annotations }, type: 'kubernetes.io/tls', data } as KObject);
      } else {
        // An existing Secret (made by someone else, or stale) is taken over, keeping what others put on it.
        const next = copy(secret);
        next.metadata.labels = { ...(secret.metadata.labels ?? {}), ...labels };
        next.metadata.annotations = { ...(secret.metadata.annotations ?? {}), ...annotations };
        next.data = { ...(secret.data ?? {}), ...data };
        await rt.client.update(next);
      }
      await markIssued(rt, cert, generation, issued, renewBeforeMs, (cert.status?.revision ?? 0) + 1);
      return undefined;
    },
  };
}

// ── cainjector ───────────────────────────────────────────────────────────────────────────────────────────────

/** The base64 CA bundle an injection annotation points at, or undefined while there is none. */
async function caBundleFor(rt: ClusterRuntime, obj: KObject): Promise<string | undefined> {
  const fromCert = obj.metadata.annotations?.[A_INJECT_CA_FROM];
  const fromSecret = obj.metadata.annotations?.[A_INJECT_CA_FROM_SECRET];
  if (fromCert !== undefined) {
    const [ns = '', name = ''] = fromCert.split('/');
    const cert = await rt.client.get<CertificateObject>(API_CERT_MANAGER, 'Certificate', name, ns);
    const secretName = cert?.spec?.secretName;
    if (secretName === undefined) return undefined;
    const secret = await rt.client.get<SecretObject>('v1', 'Secret', secretName, ns);
    // The cainjector trusts only a Secret that cert-manager issued for that very Certificate.
    if (secret?.metadata.annotations?.[A_CERTIFICATE_NAME] !== name) return undefined;
    return secret.data?.['ca.crt'];
  }
  if (fromSecret !== undefined) {
    const [ns = '', name = ''] = fromSecret.split('/');
    const secret = await rt.client.get<SecretObject>('v1', 'Secret', name, ns);
    if (secret?.metadata.annotations?.[A_ALLOW_DIRECT_INJECTION] !== 'true') return undefined;
    return secret.data?.['ca.crt'];
  }
  return undefined;
}

interface ClientConfigHolder {
  clientConfig?: { caBundle?: string };
}

function caInjectorReconciler(target: (typeof CA_BUNDLE_KINDS)[number]): Reconciler {
  return {
    name: target.controller,
    gate: 'cert-manager-cainjector',
    apiVersion: target.apiVersion,
    kind: target.kind,
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const obj = await rt.client.get<KObject & Record<string, unknown>>(target.apiVersion, target.kind, key.name);
      if (obj === undefined || isDeleting(obj)) return undefined;
      const bundle = await caBundleFor(rt, obj);
      if (bundle === undefined) return undefined;
      const next = copy(obj);
      if (target.kind === 'CustomResourceDefinition') {
        const webhook = (next.spec as { conversion?: { webhook?: ClientConfigHolder } } | undefined)?.conversion?.webhook;
        if (webhook?.clientConfig === undefined) return undefined;
        webhook.clientConfig.caBundle = bundle;
      } else {
        for (const w of (next.webhooks as ClientConfigHolder[] | undefined) ?? []) {
          w.clientConfig = { ...(w.clientConfig ?? {}), caBundle: bundle };
        }
      }
      if (!canonicalEqual(next, obj)) await rt.client.update(next);
      return undefined;
    },
  };
}

// ── webhook ──────────────────────────────────────────────────────────────────────────────────────────────────

interface ArgsDeployment extends KObject {
  spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } };
}

/** Where cert-manager's webhook keeps its serving CA: its `--dynamic-serving-ca-secret-*` args. */
function webhookCaSecretOf(d: ArgsDeployment): { name: string; namespace: string } {
  const ns = d.metadata.namespace ?? CERT_MANAGER_NAMESPACE;
  const args = (d.spec?.template?.spec?.containers ?? []).flatMap((c) => c.args ?? []);
  const arg = (flag: string) => args.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
  const namespace = (arg('dynamic-serving-ca-secret-namespace') ?? ns).replace('$(POD_NAMESPACE)', ns);
  return { name: arg('dynamic-serving-ca-secret-name') ?? `${d.metadata.name}-ca`, namespace };
}

function webhookCaReconciler(): Reconciler {
  return {
    name: 'cert-manager-webhook-ca',
    gate: 'cert-manager-webhook',
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      if (key.namespace !== CERT_MANAGER_NAMESPACE || key.name !== CERT_MANAGER_WEBHOOK) return undefined;
      const d = await rt.client.get<ArgsDeployment>('apps/v1', 'Deployment', key.name, key.namespace);
      if (d === undefined || isDeleting(d)) return undefined;
      const where = webhookCaSecretOf(d);
      if ((await rt.client.get('v1', 'Secret', where.name, where.namespace)) !== undefined) return undefined;
      const ca = issueCertificate({ commonName: 'cert-manager-webhook-ca', isCA: true, durationMs: 365 * 86_400_000 });
      await rt.client.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: where.name, namespace: where.namespace, annotations: { [A_ALLOW_DIRECT_INJECTION]: 'true' } },
        type: 'Opaque',
        data: { 'ca.crt': b64(ca.cert), 'tls.crt': b64(ca.cert), 'tls.key': b64(ca.key) },
      } as KObject);
      return undefined;
    },
  };
}

export function certManagerReconcilers(): Reconciler[] {
  return [issuerReconciler('Issuer'), issuerReconciler('ClusterIssuer'), certificateReconciler(), ...CA_BUNDLE_KINDS.map(caInjectorReconciler), webhookCaReconciler()];
}

// ── routing ──────────────────────────────────────────────────────────────────────────────────────────────────

/** Injection targets whose annotation names `source` (`<ns>/<name>`) under `annotation`. */
async function enqueueInjectionTargets(rt: ClusterRuntime, annotation: string, source: string): Promise<void> {
  for (const t of CA_BUNDLE_KINDS) {
    for (const o of await rt.client.list(t.apiVersion, t.kind)) {
      if (o.metadata.annotations?.[annotation] === source) rt.enqueue(t.controller, { namespace: '', name: o.metadata.name });
    }
  }
}

async function enqueueCertificatesOf(rt: ClusterRuntime, issuer: KObject): Promise<void> {
  const clusterScoped = issuer.kind === 'ClusterIssuer';
  const certs = await rt.client.list<CertificateObject>(API_CERT_MANAGER, 'Certificate', clusterScoped ? {} : { namespace: issuer.metadata.namespace ?? '' });
  for (const c of certs) {
    const ref = c.spec?.issuerRef;
    if (ref?.name === issuer.metadata.name && (ref.kind ?? 'Issuer') === issuer.kind) rt.enqueue('certificate', { namespace: c.metadata.namespace ?? '', name: c.metadata.name });
  }
}

async function enqueueCaIssuersOf(rt: ClusterRuntime, secret: KObject): Promise<void> {
  const ns = secret.metadata.namespace ?? '';
  for (const i of await rt.client.list<IssuerObject>(API_CERT_MANAGER, 'Issuer', { namespace: ns })) {
    if (i.spec?.ca?.secretName === secret.metadata.name) rt.enqueue('issuer', { namespace: ns, name: i.metadata.name });
  }
  if (ns !== CLUSTER_RESOURCE_NAMESPACE) return;
  for (const i of await rt.client.list<IssuerObject>(API_CERT_MANAGER, 'ClusterIssuer')) {
    if (i.spec?.ca?.secretName === secret.metadata.name) rt.enqueue('clusterissuer', { namespace: '', name: i.metadata.name });
  }
}

/** What wakes the cert-manager components beyond their own kinds' events. */
export function certManagerRouter(): EventRouter {
  return (rt, { object }) => {
    const ns = object.metadata.namespace ?? '';
    if (object.kind === 'Secret' && object.apiVersion === 'v1') {
      const annotations = object.metadata.annotations ?? {};
      const certificate = annotations[A_CERTIFICATE_NAME];
      if (certificate !== undefined) {
        // An issued Secret deleted or changed: the Certificate checks it; injections of its CA follow.
        rt.enqueue('certificate', { namespace: ns, name: certificate });
        if (rt.gateOpen('cert-manager-cainjector')) rt.spawn('enqueue', enqueueInjectionTargets(rt, A_INJECT_CA_FROM, `${ns}/${certificate}`));
      }
      if (annotations[A_ALLOW_DIRECT_INJECTION] === 'true') {
        if (rt.gateOpen('cert-manager-cainjector')) rt.spawn('enqueue', enqueueInjectionTargets(rt, A_INJECT_CA_FROM_SECRET, `${ns}/${object.metadata.name}`));
        if (ns === CERT_MANAGER_NAMESPACE) rt.enqueue('cert-manager-webhook-ca', { namespace: CERT_MANAGER_NAMESPACE, name: CERT_MANAGER_WEBHOOK });
      }
      if (rt.gateOpen('cert-manager')) rt.spawn('enqueue', enqueueCaIssuersOf(rt, object));
    } else if ((object.kind === 'Issuer' || object.kind === 'ClusterIssuer') && object.apiVersion === API_CERT_MANAGER) {
      if (rt.gateOpen('cert-manager')) rt.spawn('enqueue', enqueueCertificatesOf(rt, object));
    } else if (object.kind === 'Certificate' && object.apiVersion === API_CERT_MANAGER) {
      if (rt.gateOpen('cert-manager-cainjector')) rt.spawn('enqueue', enqueueInjectionTargets(rt, A_INJECT_CA_FROM, `${ns}/${object.metadata.name}`));
    }
  };
}
