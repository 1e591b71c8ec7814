/**
 * A self-signed serving certificate for the simulator. kubectl (client-go) sends bearer tokens only over TLS, so
 * the standalone simulator serves HTTPS; Node cannot mint X.509 certificates itself, so this uses the openssl CLI.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsMaterial {
  /** PEM private key */
  key: string;
  /** PEM certificate (self-signed: it is also the CA clients must trust) */
  cert: string;
}

/** No way to create the certificate here (openssl missing or failing). */
export class TlsUnavailableError extends Error {
  override name = 'TlsUnavailableError';
}

/** A P-256 key and a certificate valid for `hosts` (IPs and DNS names) for one year. */
export function selfSignedCertificate(hosts: readonly string[] = ['127.0.0.1', 'localhost']): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-sim-tls-'));
  const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '365',
        '-subj', '/CN=slipway-sim', '-addext', `subjectAltName=${san}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyCertSign',
      ],
      { stdio: 'pipe' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } catch (err) {
    throw new TlsUnavailableError(`cannot create a self-signed certificate with openssl: ${(err as Error).message}`, { cause: err });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
