/**
 * A self-signed serving certificate minted in pure Node (Ed25519, DER written by hand), so the standalone
 * simulator can serve HTTPS — kubectl (client-go) never sends a bearer token over plain HTTP — on machines
 * without the openssl CLI. The certificate is its own CA (basicConstraints CA:TRUE), so kubeconfigs carry it as
 * `certificate-authority-data` and clients verify the connection instead of skipping verification.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
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
const ED25519 = seq(Buffer.from([0x06, 0x03, 0x2b, 0x65, 0x70]));

function utcTime(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return der(0x17, Buffer.from(`${s}Z`, 'ascii'));
}

function name(cn: string): Buffer {
  return seq(der(0x31, seq(Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]), der(0x0c, Buffer.from(cn, 'utf8')))));
}

function pem(label: string, body: Buffer): string {
  const b64 = body.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

/** A self-signed CA certificate for `cn`, valid for 127.0.0.1 and localhost, one year. */
export function selfSignedCertificate(cn = 'slipway-capi-sim'): TlsMaterial {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const san = seq(
    Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11]),
    der(0x04, seq(der(0x82, Buffer.from('localhost')), der(0x87, Buffer.from([127, 0, 0, 1])))),
  );
  const basicConstraints = seq(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x13]), der(0x01, Buffer.from([0xff])), der(0x04, seq(der(0x01, Buffer.from([0xff])))));
  // digitalSignature (bit 0) + keyCertSign (bit 5): 0b10000100 with 2 unused bits.
  const keyUsage = seq(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x0f]), der(0x01, Buffer.from([0xff])), der(0x04, der(0x03, Buffer.from([0x02, 0x84]))));
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
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
