import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../shared/http/openapi.ts';
import { ROUTES } from '../../shared/http/routes.ts';

describe('OpenAPI document', () => {
  it('is checked in and current (run `npm run openapi` after changing schemas or routes)', () => {
    const checkedIn = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(checkedIn).toEqual(JSON.parse(JSON.stringify(buildOpenApi())));
  });

  it('describes every route, with the request schema that validates it', () => {
    const doc = buildOpenApi() as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>>; components: { schemas: Record<string, { additionalProperties?: unknown }> } };
    expect(doc.openapi).toBe('3.1.0');
    for (const r of ROUTES) expect(doc.paths[r.path]?.[r.method.toLowerCase()], `${r.method} ${r.path}`).toBeDefined();
    expect(doc.paths['/v1/workspaces/{ws}/clusters']?.post?.requestBody).toBeDefined();
    // Unknown fields are rejected, and the document says so.
    expect(doc.components.schemas.CreateClusterBody?.additionalProperties).toBe(false);
  });
});
