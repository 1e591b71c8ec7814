/**
 * The local dev OIDC issuer: stands in for the IdP whose tokens the HTTP API's JWT authorizer accepts in
 * AWS. One ES256 key, generated on first use and kept in `<dataDir>/issuer/` so tokens printed yesterday
 * still verify after a restart (and `npm run token` in another shell signs with the same key).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  errors,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';

export const LOCAL_ISSUER = 'slipway-local';
export const LOCAL_AUDIENCE = 'slipway';
export const DEFAULT_TOKEN_TTL_SECONDS = 12 * 60 * 60;
const ALG = 'ES256';
const KEY_FILE = 'signing-key.pem';

export interface IssueRequest {
  sub: string;
  email?: string;
  groups?: readonly string[];
  /** Default 12 h. */
  ttlSeconds?: number;
}

/** Claims of a verified token, as the IdP put them in (the HTTP adapter flattens them like AWS does). */
export type TokenClaims = JWTPayload & { sub?: string; email?: string; groups?: string[] };

/** Base of the verification failures; each subclass says why, none reveals the token. */
export abstract class TokenError extends Error {
  abstract readonly reason: 'malformed' | 'algorithm' | 'signature' | 'expired' | 'claims';
}
export class MalformedTokenError extends TokenError {
  override readonly name = 'MalformedTokenError';
  readonly reason = 'malformed';
}
/** Any alg but ES256 — notably `none` — is refused before anything else is looked at. */
export class TokenAlgorithmError extends TokenError {
  override readonly name = 'TokenAlgorithmError';
  readonly reason = 'algorithm';
}
export class TokenSignatureError extends TokenError {
  override readonly name = 'TokenSignatureError';
  readonly reason = 'signature';
}
export class TokenExpiredError extends TokenError {
  override readonly name = 'TokenExpiredError';
  readonly reason = 'expired';
}
/** Wrong issuer or audience, or not yet valid. */
export class TokenClaimError extends TokenError {
  override readonly name = 'TokenClaimError';
  readonly reason = 'claims';
}

/** The key cannot be created or read (unreadable data dir, corrupt file). */
export class IssuerKeyError extends Error {
  override readonly name = 'IssuerKeyError';
}

/** Bad arguments to `issue`. */
export class IssueRequestError extends Error {
  override readonly name = 'IssueRequestError';
}

export class LocalIssuer {
  readonly issuer = LOCAL_ISSUER;
  readonly audience = LOCAL_AUDIENCE;

  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    /** Public JWK with `kid`, `alg`, `use`: what a JWKS endpoint would serve. */
    readonly publicJwk: JWK,
    private readonly now: () => number,
  ) {}

  /** Opens the issuer of `dataDir`, creating its key on first use. */
  static async open(dataDir: string, options: { now?: () => number } = {}): Promise<LocalIssuer> {
    const dir = join(dataDir, 'issuer');
    const pem = await loadOrCreateKey(dir);
    let privateKey: CryptoKey;
    try {
      privateKey = await importPKCS8(pem, ALG, { extractable: true });
    } catch (err) {
      throw new IssuerKeyError(`the issuer key ${join(dir, KEY_FILE)} is not an ES256 PKCS#8 key (delete it to make a new one)`, { cause: err });
    }
    // The public half is derived from the private key: one file, nothing to get out of sync.
    const { d: _private, ...pub } = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(pub);
    const publicJwk: JWK = { ...pub, kid, alg: ALG, use: 'sig' };
    const publicKey = await importJWK(publicJwk, ALG);
    if (publicKey instanceof Uint8Array) throw new IssuerKeyError('the issuer key is not an asymmetric key');
    return new LocalIssuer(privateKey, publicKey, publicJwk, options.now ?? Date.now);
  }

  async issue(request: IssueRequest): Promise<string> {
    if (request.sub.length === 0) throw new IssueRequestError('sub must not be empty');
    const ttl = request.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl <= 0) throw new IssueRequestError(`ttlSeconds must be a positive integer, got ${ttl}`);
    const iat = Math.floor(this.now() / 1000);
    const claims: JWTPayload = { groups: [...(request.groups ?? [])] };
    if (request.email !== undefined) claims.email = request.email;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, typ: 'JWT', kid: this.publicJwk.kid ?? '' })
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setSubject(request.sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .setJti(randomUUID())
      .sign(this.privateKey);
  }

  /** The claims of a token this issuer signed and that is valid now, or a TokenError saying why not. */
  async verify(token: string): Promise<TokenClaims> {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch (err) {
      throw new MalformedTokenError('the token is not a compact JWS', { cause: err });
    }
    if (alg !== ALG) throw new TokenAlgorithmError(`token algorithm ${String(alg)} is not accepted (only ${ALG})`);
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: [ALG],
        issuer: LOCAL_ISSUER,
        audience: LOCAL_AUDIENCE,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp'],
      });
      return payload;
    } catch (err) {
      throw mapJoseError(err);
    }
  }
}

function mapJoseError(err: unknown): TokenError {
  if (err instanceof errors.JWTExpired) return new TokenExpiredError('the token has expired', { cause: err });
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenSignatureError('the token signature is not valid for this issuer', { cause: err });
  if (err instanceof errors.JWTClaimValidationFailed) return new TokenClaimError(`token claim "${err.claim}" is not acceptable: ${err.message}`, { cause: err });
  if (err instanceof errors.JOSEAlgNotAllowed) return new TokenAlgorithmError('token algorithm not accepted', { cause: err });
  return new MalformedTokenError(err instanceof Error ? `malformed token: ${err.message}` : 'malformed token', { cause: err });
}

async function loadOrCreateKey(dir: string): Promise<string> {
  const path = join(dir, KEY_FILE);
  const existing = await readKey(path);
  if (existing !== null) return existing;

  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new IssuerKeyError(`cannot create ${dir}: ${errnoText(err)}`, { cause: err });
  }
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const pem = await exportPKCS8(privateKey);
  // Write aside, then hard-link into place: link fails if another process (a second `npm run token`) won
  // the race, and nobody ever reads a half-written key.
  const tmp = join(dir, `.${KEY_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(tmp, pem, { mode: 0o600, flag: 'wx' });
    await link(tmp, path);
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw new IssuerKeyError(`cannot write the issuer key to ${path}: ${errnoText(err)}`, { cause: err });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  const stored = await readKey(path);
  if (stored === null) throw new IssuerKeyError(`the issuer key ${path} vanished while it was being created`);
  return stored;
}

async function readKey(path: string): Promise<string | null> {
  try {
    const info = await stat(path);
    // A private key readable by others is a leak waiting to happen: tighten it rather than trust it.
    if ((info.mode & 0o077) !== 0) await chmod(path, 0o600);
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw new IssuerKeyError(`cannot read the issuer key ${path}: ${errnoText(err)}`, { cause: err });
  }
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && 'code' in err && err.code === code;
}

function errnoText(err: unknown): string {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return `${err.code} (${err.message})`;
  return err instanceof Error ? err.message : String(err);
}
