/**
 * Routes for an admin-managed configuration collection (create, list, get, replace, delete with optimistic
 * locking). Network plans, compute templates and policies are all this shape; each handler file only says
 * what differs.
 */
import type * as z from 'zod';
import { requireAdmin, requireReader } from '../../shared/auth/authorize.ts';
import { NotFoundError } from '../../shared/errors.ts';
import { type ApiRequest, created, noContent, ok, pageParams, parseWith, type Route } from '../../shared/http/api.ts';
import type { ConfigCollection } from '../../shared/store/ports.ts';
import type { ApiDeps } from './deps.ts';

export interface ConfigRoutesOptions<T extends { id: string; version: number }, New> {
  /** e.g. `/v1/network-plans` */
  basePath: string;
  noun: string;
  collection: (deps: ApiDeps) => ConfigCollection<T, New>;
  createSchema: z.ZodType<New>;
  /** The PUT body: the content without id, optionally with the `version` the caller last saw. */
  updateSchema: z.ZodType<Omit<New, 'id'> & { version?: number | undefined }>;
  /** Who may read: admins only, or anyone in a workspace. */
  readers: 'admins' | 'members';
  /** Cross-entity checks before a write (references exist…); throw to refuse. */
  validate?: (item: New, deps: ApiDeps) => Promise<void>;
  /** Refuse deletion while referenced (throw InUseError). */
  beforeDelete?: (id: string, deps: ApiDeps) => Promise<void>;
}

export function configRoutes<T extends { id: string; version: number }, New extends { id: string }>(
  o: ConfigRoutesOptions<T, New>,
): Record<string, Route<ApiDeps>> {
  const read = async (req: ApiRequest, deps: ApiDeps) => {
    if (o.readers === 'admins') requireAdmin(req.caller);
    else await requireReader(req.caller, deps.stores.workspaces);
  };
  const actor = (req: ApiRequest) => ({ principal: req.caller.principal });

  return {
    [`POST ${o.basePath}`]: async (req, deps) => {
      requireAdmin(req.caller);
      const body = parseWith(o.createSchema, req.body);
      await o.validate?.(body, deps);
      const item = await o.collection(deps).create(body, actor(req));
      return created(item, `${o.basePath}/${item.id}`);
    },
    [`GET ${o.basePath}`]: async (req, deps) => {
      await read(req, deps);
      return ok(await o.collection(deps).list(pageParams(req.query)));
    },
    [`GET ${o.basePath}/{id}`]: async (req, deps) => {
      await read(req, deps);
      const id = req.params.id ?? '';
      const item = await o.collection(deps).get(id);
      if (!item) throw new NotFoundError(`${o.noun} ${id} not found`);
      return ok(item, { etag: `"${item.version}"` });
    },
    [`PUT ${o.basePath}/{id}`]: async (req, deps) => {
      requireAdmin(req.caller);
      const id = req.params.id ?? '';
      const { version, ...content } = parseWith(o.updateSchema, req.body);
      const item = { ...content, id } as unknown as New;
      await o.validate?.(item, deps);
      return ok(await o.collection(deps).replace(id, item, actor(req), version ?? ifMatch(req)));
    },
    [`DELETE ${o.basePath}/{id}`]: async (req, deps) => {
      requireAdmin(req.caller);
      const id = req.params.id ?? '';
      await o.beforeDelete?.(id, deps);
      await o.collection(deps).delete(id, actor(req));
      return noContent();
    },
  };
}

/** `If-Match: "3"` is the HTTP way to send the expected version. */
function ifMatch(req: ApiRequest): number | undefined {
  const v = req.event.headers?.['if-match'];
  if (!v) return undefined;
  const n = Number(v.replace(/^W\//, '').replaceAll('"', ''));
  return Number.isInteger(n) ? n : undefined;
}
