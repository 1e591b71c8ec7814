import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, importPKCS8, SignJWT, UnsecuredJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LocalIssuer,
  MalformedTokenError,
  TokenAlgorithmError,
  TokenClaimError,
  TokenExpiredError,
  TokenSignatureError,
} from '../../local/issuer.ts';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'slipway-issuer-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const keyPath = () => join(dataDir, 'issuer', 'signing-key.pem');

async function signWithStoredKey(claims: { iss?: string; aud?: string }, alg = 'ES256'): Promise<string> {
  const key = await importPKCS8(await readFile(keyPath(), 'utf8'), 'ES256');
  const jwt = new SignJWT({ groups: [] }).setProtectedHeader({ alg }).setSubject('mallory').setIssuedAt().setExpirationTime('1h');
  if (claims.iss) jwt.setIssuer(claims.iss);
  if (claims.aud) jwt.setAudience(claims.aud);
  return jwt.sign(key);
}

describe('LocalIssuer', () => {
  it('creates its key on first start with mode 0600 and reuses it afterwards', async () => {
    const first = await LocalIssuer.open(dataDir);
    const token = await first.issue({ sub: 'alice', groups: ['a'] });

    const mode = (await stat(keyPath())).mode & 0o777;
    const second = await LocalIssuer.open(dataDir);

    expect(mode).toBe(0o600);
    expect(second.publicJwk.kid).toBe(first.publicJwk.kid);
    await expect(second.verify(token)).resolves.toMatchObject({ sub: 'alice' });
  });

  it('agrees on one key when several processes start at once', async () => {
    const issuers = await Promise.all([1, 2, 3, 4].map(() => LocalIssuer.open(dataDir)));

    expect(new Set(issuers.map((i) => i.publicJwk.kid)).size).toBe(1);
  });

  it('issues ES256 tokens with iss, aud, sub, email, groups and a 12 h expiry', async () => {
    const issuer = await LocalIssuer.open(dataDir);

    const token = await issuer.issue({ sub: 'dev', email: 'dev@example.test', groups: ['demo-devs', 'x'] });
    const claims = await issuer.verify(token);

    expect(claims).toMatchObject({ iss: 'slipway-local', aud: 'slipway', sub: 'dev', email: 'dev@example.test', groups: ['demo-devs', 'x'] });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(12 * 3600);
    expect(decodeJwt(await issuer.issue({ sub: 'ci', ttlSeconds: 60 }))).toMatchObject({ groups: [] });
  });

  it('refuses expired tokens', async () => {
    let now = Date.now();
    const issuer = await LocalIssuer.open(dataDir, { now: () => now });
    const token = await issuer.issue({ sub: 'alice', ttlSeconds: 60 });

    now += 61_000;

    await expect(issuer.verify(token)).rejects.toBeInstanceOf(TokenExpiredError);
  });

  it('refuses tokens signed by another key, and tampered tokens', async () => {
    const issuer = await LocalIssuer.open(dataDir);
    const otherDir = await mkdtemp(join(tmpdir(), 'slipway-issuer-other-'));
    try {
      const foreign = await (await LocalIssuer.open(otherDir)).issue({ sub: 'alice' });
      await expect(issuer.verify(foreign)).rejects.toBeInstanceOf(TokenSignatureError);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
    const [h, , s] = (await issuer.issue({ sub: 'bob' })).split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'bob', groups: ['slipway-admins'], iss: 'slipway-local', aud: 'slipway', exp: 9e9 })).toString('base64url');
    await expect(issuer.verify(`${h}.${forged}.${s}`)).rejects.toBeInstanceOf(TokenSignatureError);
  });

  it('refuses a wrong issuer or audience', async () => {
    const issuer = await LocalIssuer.open(dataDir);

    await expect(issuer.verify(await signWithStoredKey({ iss: 'elsewhere', aud: 'slipway' }))).rejects.toBeInstanceOf(TokenClaimError);
    await expect(issuer.verify(await signWithStoredKey({ iss: 'slipway-local', aud: 'other' }))).rejects.toBeInstanceOf(TokenClaimError);
    await expect(issuer.verify(await signWithStoredKey({ iss: 'slipway-local' }))).rejects.toBeInstanceOf(TokenClaimError);
  });

  it('refuses alg none and other algorithms, and malformed input', async () => {
    const issuer = await LocalIssuer.open(dataDir);
    const unsecured = new UnsecuredJWT({ sub: 'root', groups: ['slipway-admins'] }).setIssuer('slipway-local').setAudience('slipway').setExpirationTime('1h').encode();
    const hs256 = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('slipway-local').setAudience('slipway').setExpirationTime('1h').sign(new Uint8Array(32));

    await expect(issuer.verify(unsecured)).rejects.toBeInstanceOf(TokenAlgorithmError);
    await expect(issuer.verify(hs256)).rejects.toBeInstanceOf(TokenAlgorithmError);
    await expect(issuer.verify('not-a-jwt')).rejects.toBeInstanceOf(MalformedTokenError);
    await expect(issuer.verify('')).rejects.toBeInstanceOf(MalformedTokenError);
  });
});
