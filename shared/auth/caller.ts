/**
 * Who is calling, from the JWT claims the HTTP API authorizer (or the local adapter) put in the request
 * context. The token itself was verified before the handler runs; here we only interpret the claims.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { UnauthenticatedError } from '../errors.ts';

export interface Caller {
  sub: string;
  /** `user:<sub>` */
  principal: string;
  /** `user:<sub>` followed by `group:<name>` for every group. */
  principals: string[];
  groups: string[];
  email: string | null;
  isAdmin: boolean;
}

export function callerFromEvent(event: APIGatewayProxyEventV2WithJWTAuthorizer, adminGroup: string): Caller {
  const claims = event.requestContext.authorizer?.jwt?.claims;
  const sub = claims?.sub;
  if (typeof sub !== 'string' || sub.length === 0) throw new UnauthenticatedError('the token carries no subject');
  const groups = parseGroupsClaim(claims?.groups);
  const email = typeof claims?.email === 'string' ? claims.email : null;
  return {
    sub,
    principal: `user:${sub}`,
    principals: [`user:${sub}`, ...groups.map((g) => `group:${g}`)],
    groups,
    email,
    isAdmin: groups.includes(adminGroup),
  };
}

/**
 * The HTTP API JWT authorizer passes every claim as a string and flattens arrays to `[a b c]`; IdPs that
 * send one group may send a bare string, and some send a JSON array string. Accept all three.
 */
export function parseGroupsClaim(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map(String).filter((g) => g.length > 0);
  const text = String(value).trim();
  if (text.length === 0) return [];
  if (text.startsWith('[') && text.endsWith(']')) {
    const inner = text.slice(1, -1).trim();
    if (inner.startsWith('"')) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (Array.isArray(parsed)) return parsed.map(String).filter((g) => g.length > 0);
      } catch {
        // not JSON: fall through to the authorizer's space-separated form
      }
    }
    return inner.split(/\s+/).filter((g) => g.length > 0);
  }
  return [text];
}
