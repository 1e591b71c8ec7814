/**
 * X.509 certificates minted in pure Node (DER written by hand; Node signs but cannot build certificates):
 * - `selfSignedCertificate()`: the simulator's HTTPS serving certificate (Ed25519), its own CA (basicConstraints
 *   CA:TRUE), so kubeconfigs carry it as `certificate-authority-data` and clients verify the connection — kubectl
 *   (client-go) never sends a bearer token over plain HTTP, and this works on machines without the openssl CLI;
 * - `issueCertificate()`: what the simulated cert-manager issues (ECDSA P-256, self-signed or signed by a CA key
 *   pair), real certificates that `X509Certificate` parses and verifies. About 0.2 ms each.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';
import type { TlsMaterial } from './apiserver/tls.ts';

function der(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...p: Buffer[]) => der(0x30, ...p);
const oid = (...bytes: number[]) => der(0x06, Buffer.from(bytes));
const ED25519 = seq(oid(0x2b, 0x65, 0x70));
/** ecdsa-with-SHA256 (1.2.840.10045.4.3.2) */
const ECDSA_SHA256 = seq(oid(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02));
/** sha256WithRSAEncryption (1.2.840.113549.1.1.11), for CA key pairs a user brings. */
const RSA_SHA256 = seq(oid(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b), der(0x05));
const OID_CN = oid(0x55, 0x04, 0x03);
const OID_O = oid(0x55, 0x04, 0x0a);
const TRUE = der(0x01, Buffer.from([0xff]));

function utcTime(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return der(0x17, Buffer.from(`${s}Z`, 'ascii'));
}

/** An X.501 name of organisations and a common name (either may be absent: an empty name is valid with SANs). */
function name(cn: string | undefined, organizations: readonly string[] = []): Buffer {
  const rdns = organizations.map((o) => der(0x31, seq(OID_O, der(0x0c, Buffer.from(o, 'utf8')))));
  if (cn !== undefined && cn !== '') rdns.push(der(0x31, seq(OID_CN, der(0x0c, Buffer.from(cn, 'utf8')))));
  return seq(...rdns);
}

function extension(id: Buffer, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(id, TRUE, der(0x04, value)) : seq(id, der(0x04, value));
}

function subjectAltNames(dnsNames: readonly string[], ips: readonly string[]): Buffer {
  const entries = [
    ...dnsNames.map((d) => der(0x82, Buffer.from(d, 'ascii'))),
    ...ips.map((ip) => der(0x87, isIP(ip) === 4 ? Buffer.from(ip.split('.').map(Number)) : ipv6Bytes(ip))),
  ];
  return seq(...entries);
}

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail = ''] = ip.split('::');
  const parts = (s: string) => (s === '' ? [] : s.split(':').map((h) => Number.parseInt(h, 16)));
  const h = parts(head);
  const t = parts(tail);
  const words = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  for (const [i, w] of words.entries()) out.writeUInt16BE(w, i * 2);
  return out;
}

function serialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  return der(0x02, serial);
}

function pem(label: string, body: Buffer): string {
  const b64 = body.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

function unpem(text: string): Buffer {
  return Buffer.from(text.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** The DER element starting at `at`: [tag, start of content, end of element]. */
function element(buf: Buffer, at: number): { start: number; end: number } {
  let len = buf[at + 1] ?? 0;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | (buf[start + i] ?? 0);
    start += n;
  }
  return { start, end: start + len };
}

/** The raw subject name of a DER certificate (the issuer name of what it signs). */
function subjectOf(certDer: Buffer): Buffer {
  const tbs = element(certDer, 0).start;
  let at = element(certDer, tbs).start;
  // tbsCertificate: [0] version, serialNumber, signature, issuer, validity, subject
  if (certDer[at] === 0xa0) at = element(certDer, at).end;
  for (let i = 0; i < 4; i++) at = element(certDer, at).end;
  return certDer.subarray(at, element(certDer, at).end);
}

/** A self-signed CA certificate for `cn`, valid for 127.0.0.1 and localhost, one year. */
export function selfSignedCertificate(cn = 'slipway-capi-sim'): TlsMaterial {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const san = extension(oid(0x55, 0x1d, 0x11), false, subjectAltNames(['localhost'], ['127.0.0.1']));
  const basicConstraints = extension(oid(0x55, 0x1d, 0x13), true, seq(TRUE));
  // digitalSignature (bit 0) + keyCertSign (bit 5): 0b10000100 with 2 unused bits.
  const keyUsage = extension(oid(0x55, 0x1d, 0x0f), true, der(0x03, Buffer.from([0x02, 0x84])));
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    serialNumber(),
    ED25519,
    name(cn),
    seq(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 365 * 86_400_000))),
    name(cn),
    spki,
    der(0xa3, seq(basicConstraints, keyUsage, san)),
  );
  const signature = sign(null, tbs, privateKey);
  const cert = seq(tbs, ED25519, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const key = createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { key, cert: pem('CERTIFICATE', cert) };
}

export interface CertificateRequestSpec {
  commonName?: string;
  organizations?: readonly string[];
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  /** A CA certificate (basicConstraints CA:TRUE, keyCertSign). */
  isCA?: boolean;
  notBefore?: Date;
  /** Default 90 days, cert-manager's default duration. */
  durationMs?: number;
  /** Sign with this CA (PEM certificate and PKCS#8 key); self-signed when absent. */
  issuer?: TlsMaterial;
}

export interface IssuedCertificate extends TlsMaterial {
  notBefore: Date;
  notAfter: Date;
}

/** A certificate with a fresh ECDSA P-256 key, self-signed or signed by `spec.issuer`. */
export function issueCertificate(spec: CertificateRequestSpec = {}): IssuedCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const notBefore = spec.notBefore ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + (spec.durationMs ?? 90 * 86_400_000));
  let signer: KeyObject = privateKey;
  const subject = name(spec.commonName, spec.organizations);
  let issuerName = subject;
  if (spec.issuer !== undefined) {
    signer = createPrivateKey(spec.issuer.key);
    issuerName = subjectOf(unpem(spec.issuer.cert));
  }
  const dnsNames = spec.dnsNames ?? [];
  const ips = spec.ipAddresses ?? [];
  const extensions: Buffer[] = [];
  // digitalSignature + keyEncipherment (0b101), plus keyCertSign for a CA (0b10100100).
  const usage = spec.isCA === true ? Buffer.from([0x02, 0xa4]) : Buffer.from([0x05, 0xa0]);
  extensions.push(extension(oid(0x55, 0x1d, 0x0f), true, der(0x03, usage)));
  if (spec.isCA === true) extensions.push(extension(oid(0x55, 0x1d, 0x13), true, seq(TRUE)));
  // An empty subject makes the SAN extension critical (RFC 5280 4.2.1.6).
  if (dnsNames.length + ips.length > 0) extensions.push(extension(oid(0x55, 0x1d, 0x11), subject.length <= 2, subjectAltNames(dnsNames, ips)));
  const keyType = signer.asymmetricKeyType;
  const algorithm = keyType === 'ed25519' ? ED25519 : keyType === 'rsa' ? RSA_SHA256 : ECDSA_SHA256;
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    serialNumber(),
    algorithm,
    issuerName,
    seq(utcTime(notBefore), utcTime(notAfter)),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, seq(...extensions)),
  );
  const signature = sign(keyType === 'ed25519' ? null : 'sha256', tbs, signer);
  const cert = seq(tbs, algorithm, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return { cert: pem('CERTIFICATE', cert), key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), notBefore, notAfter };
}
