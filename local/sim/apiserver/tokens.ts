/**
 * ServiceAccount tokens, as the TokenRequest API issues them: JWTs naming the cluster's ServiceAccount (by
 * namespace, name and uid) with an expiry. Verification is stateless — a signature check, the expiry, and the
 * ServiceAccount still being there with the same uid (the caller checks that against its store) — so nothing
 * grows with the number of tokens handed out.
 *
 * Simplified: signed with HMAC-SHA256 under a key that lives as long as the server (a real server signs with
 * its service-account key, RS256/ES256, and publishes the JWKS); no binding to Pods, Secrets or Nodes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The audience and issuer a kubeadm cluster uses by default. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface ServiceAccountRef {
  namespace: string;
  name: string;
  uid: string;
}

interface Claims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': { namespace: string; serviceaccount: { name: string; uid: string } };
  /** Which virtual cluster issued it: a token of one cluster opens no other. */
  'sim.slipway.dev/cluster': string;
}

export class ServiceAccountTokens {
  private readonly key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    this.key = key;
  }

  issue(cluster: string, sa: ServiceAccountRef, opts: { audiences: readonly string[]; now: Date; expirationSeconds: number }): { token: string; expiresAt: Date } {
    const iat = Math.floor(opts.now.getTime() / 1000);
    const claims: Claims = {
      iss: DEFAULT_ISSUER,
      sub: `system:serviceaccount:${sa.namespace}:${sa.name}`,
      aud: [...opts.audiences],
      exp: iat + opts.expirationSeconds,
      iat,
      nbf: iat,
      jti: randomBytes(12).toString('hex'),
      'kubernetes.io': { namespace: sa.namespace, serviceaccount: { name: sa.name, uid: sa.uid } },
      'sim.slipway.dev/cluster': cluster,
    };
    const head = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'slipway-sim' }))}.${b64(JSON.stringify(claims))}`;
    return { token: `${head}.${this.sign(head)}`, expiresAt: new Date(claims.exp * 1000) };
  }

  /** The ServiceAccount a token of `cluster` names, or undefined when it is malformed, forged, foreign or expired. */
  verify(cluster: string, token: string, now: Date): ServiceAccountRef | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [header = '', payload = '', signature = ''] = parts;
    const expected = Buffer.from(this.sign(`${header}.${payload}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Claims;
    } catch {
      return undefined;
    }
    if (claims['sim.slipway.dev/cluster'] !== cluster) return undefined;
    const seconds = now.getTime() / 1000;
    if (!(seconds < claims.exp) || seconds < claims.nbf) return undefined;
    const k = claims['kubernetes.io'];
    return { namespace: k.namespace, name: k.serviceaccount.name, uid: k.serviceaccount.uid };
  }

  private sign(data: string): string {
    return createHmac('sha256', this.key).update(data).digest('base64url');
  }
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64url');
}
