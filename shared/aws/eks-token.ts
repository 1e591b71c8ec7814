/**
 * Bearer tokens for the EKS API server, as `aws eks get-token` / aws-iam-authenticator make them: the string
 * `k8s-aws-v1.` + base64url (no padding) of an STS GetCallerIdentity URL presigned with SigV4 query signing,
 * with the header `x-k8s-aws-id: <cluster name>` signed (EKS checks it names the cluster) and
 * `X-Amz-Expires=60`. EKS accepts the token for 15 minutes from X-Amz-Date; callers refresh at 14.
 *
 * Signing is @smithy/signature-v4 (the SDK's own signer); credentials come from the default provider chain
 * unless injected, and the clock is injectable so a token can be checked byte for byte in a test.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Checksum, SourceData } from '@smithy/types';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** How long EKS accepts a token after its X-Amz-Date. */
export const TOKEN_VALIDITY_MS = 15 * 60_000;
/** Refresh a minute early, as aws-iam-authenticator does. */
export const TOKEN_REFRESH_MS = 14 * 60_000;
const PRESIGN_EXPIRES_SECONDS = 60;

export interface EksTokenOptions {
  clusterName: string;
  region: string;
  /** Default: the AWS SDK's default provider chain (env, SSO, web identity, ECS/Lambda role…). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  now?: () => Date;
}

export interface EksToken {
  token: string;
  /** Signing time (X-Amz-Date). */
  issuedAt: Date;
  /** When EKS stops accepting it. */
  expiresAt: Date;
  /** When to make a new one. */
  refreshAt: Date;
}

/** The token could not be made (no credentials, bad input). */
export class EksTokenError extends Error {
  override readonly name = 'EksTokenError';
}

export async function eksToken(opts: EksTokenOptions): Promise<EksToken> {
  if (!/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/.test(opts.clusterName)) throw new EksTokenError(`invalid EKS cluster name "${opts.clusterName}"`);
  const issuedAt = (opts.now ?? (() => new Date()))();
  const host = stsHost(opts.region);
  const signer = new SignatureV4({
    service: 'sts',
    region: opts.region,
    credentials: opts.credentials ?? defaultCredentials(opts.region),
    sha256: NodeSha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  let signed: { query?: Record<string, string | string[] | null> };
  try {
    signed = await signer.presign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: host,
        path: '/',
        query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
        headers: { host, [CLUSTER_ID_HEADER]: opts.clusterName },
      },
      { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: issuedAt },
    );
  } catch (err) {
    throw new EksTokenError(`cannot presign the STS request for EKS cluster ${opts.clusterName} in ${opts.region}: ${(err as Error).message ?? String(err)}`, {
      cause: err,
    });
  }
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(signed.query ?? {})) {
    if (typeof value === 'string') params.append(key, value);
    else if (Array.isArray(value)) for (const v of value) params.append(key, v);
  }
  const url = `https://${host}/?${params.toString()}`;
  const token = EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
  return {
    token,
    issuedAt,
    expiresAt: new Date(issuedAt.getTime() + TOKEN_VALIDITY_MS),
    refreshAt: new Date(issuedAt.getTime() + TOKEN_REFRESH_MS),
  };
}

/** Region-scoped STS endpoint (the global one signs for us-east-1 only). */
export function stsHost(region: string): string {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `sts.${region}.${suffix}`;
}

const credentialCache = new Map<string, AwsCredentialIdentityProvider>();

/** The SDK's default chain, built once per region and container (the provider caches and refreshes itself). */
function defaultCredentials(region: string): AwsCredentialIdentityProvider {
  let provider = credentialCache.get(region);
  if (provider === undefined) {
    const configured = new STSClient({ region }).config.credentials;
    provider = () => configured();
    credentialCache.set(region, provider);
  }
  return provider;
}

/** SHA-256 / HMAC-SHA-256 over node:crypto in the shape the signer wants (no extra dependency). */
class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = NodeSha256.make(secret);
  }

  update(data: Uint8Array): void {
    this.hash.update(toBuffer(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = NodeSha256.make(this.secret);
  }

  private static make(secret: SourceData | undefined): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
