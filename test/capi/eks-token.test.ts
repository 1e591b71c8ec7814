/**
 * The EKS bearer token: decoded, it must be a presigned STS GetCallerIdentity URL that EKS accepts — right
 * host, action, expiry, signed `x-k8s-aws-id` header, credential scope — and its signature must match one
 * recomputed here independently from the SigV4 specification with node:crypto.
 */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EksTokenError, eksToken, TOKEN_REFRESH_MS, TOKEN_VALIDITY_MS } from '../../shared/aws/eks-token.ts';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE/session+token==',
};
const now = () => new Date('2026-11-22T01:02:03.456Z');

function decode(token: string): URL {
  expect(token.startsWith('k8s-aws-v1.')).toBe(true);
  const body = token.slice('k8s-aws-v1.'.length);
  expect(body).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return new URL(Buffer.from(body, 'base64url').toString('utf8'));
}

/** RFC 3986 encoding as SigV4 wants it. */
function enc(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** SigV4 query-string signature of a GET on `url` with the given signed headers (AWS General Reference). */
function expectedSignature(url: URL, headers: Record<string, string>, secret: string, date: string, region: string, service: string): string {
  const params = [...url.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature');
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonicalQuery = params.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${headers[n]?.trim()}\n`).join('');
  const canonicalRequest = ['GET', '/', canonicalQuery, canonicalHeaders, names.join(';'), createHash('sha256').update('').digest('hex')].join('\n');
  const amzDate = url.searchParams.get('X-Amz-Date') ?? '';
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('eksToken', () => {
  it('is a presigned STS GetCallerIdentity URL with x-k8s-aws-id signed, valid 60 s to presign and 15 min for EKS', async () => {
    // Act
    const t = await eksToken({ clusterName: 'slipway-mgmt', region: 'eu-west-1', credentials, now });
    // Assess
    const url = decode(t.token);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = url.searchParams;
    expect(q.get('Action')).toBe('GetCallerIdentity');
    expect(q.get('Version')).toBe('2011-06-15');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(q.get('X-Amz-Date')).toBe('20261122T010203Z');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261122/eu-west-1/sts/aws4_request');
    expect(q.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['host', 'x-k8s-aws-id']);
    expect(q.get('X-Amz-Security-Token')).toBe(credentials.sessionToken);
    // The cluster name travels as a signed header, not in the URL.
    expect(q.get('x-k8s-aws-id')).toBeNull();
    const signature = expectedSignature(url, { host: 'sts.eu-west-1.amazonaws.com', 'x-k8s-aws-id': 'slipway-mgmt' }, credentials.secretAccessKey, '20261122', 'eu-west-1', 'sts');
    expect(q.get('X-Amz-Signature')).toBe(signature);
    expect(t.issuedAt.toISOString()).toBe('2026-11-22T01:02:03.456Z');
    expect(t.expiresAt.getTime() - t.issuedAt.getTime()).toBe(TOKEN_VALIDITY_MS);
    expect(t.refreshAt.getTime() - t.issuedAt.getTime()).toBe(TOKEN_REFRESH_MS);
  });

  it('signs the cluster name: another cluster gives another signature', async () => {
    // Act
    const a = decode((await eksToken({ clusterName: 'cluster-a', region: 'eu-west-1', credentials, now })).token);
    const b = decode((await eksToken({ clusterName: 'cluster-b', region: 'eu-west-1', credentials, now })).token);
    // Assess
    expect(a.searchParams.get('X-Amz-Signature')).not.toBe(b.searchParams.get('X-Amz-Signature'));
    const forB = expectedSignature(b, { host: 'sts.eu-west-1.amazonaws.com', 'x-k8s-aws-id': 'cluster-b' }, credentials.secretAccessKey, '20261122', 'eu-west-1', 'sts');
    expect(b.searchParams.get('X-Amz-Signature')).toBe(forB);
  });

  it('uses the regional endpoint and works without a session token, from a credentials provider', async () => {
    // Act
    const t = await eksToken({
      clusterName: 'm',
      region: 'us-west-2',
      credentials: async () => ({ accessKeyId: 'AKIDLONGTERM', secretAccessKey: 'secret' }),
      now,
    });
    // Assess
    const url = decode(t.token);
    expect(url.host).toBe('sts.us-west-2.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBeNull();
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, { host: 'sts.us-west-2.amazonaws.com', 'x-k8s-aws-id': 'm' }, 'secret', '20261122', 'us-west-2', 'sts'));
  });

  it('fails with a named error when credentials cannot be had or the name is invalid', async () => {
    await expect(eksToken({ clusterName: 'm', region: 'eu-west-1', credentials: async () => Promise.reject(new Error('no credentials')), now })).rejects.toThrow(EksTokenError);
    await expect(eksToken({ clusterName: 'bad name', region: 'eu-west-1', credentials, now })).rejects.toThrow(EksTokenError);
  });
});
