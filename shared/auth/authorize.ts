/**
 * Authorization rules of the API, in one place:
 *  - admins (members of the configured admin group) manage configuration and workspaces;
 *  - configuration that members build clusters from (plans, templates, packages, network plans) is readable
 *    by anyone who belongs to at least one workspace;
 *  - a workspace and its clusters are visible to its members only — to everyone else they do not exist
 *    (404, never 403, so names do not leak). Admins manage workspaces but see clusters only where they are
 *    members: access to tenants' clusters is explicit and audited.
 */
import { ForbiddenError, NotFoundError } from '../errors.ts';
import type { Member } from '../domain/schemas.ts';
import type { WorkspaceStore } from '../store/ports.ts';
import type { Caller } from './caller.ts';

export function requireAdmin(caller: Caller): void {
  if (!caller.isAdmin) throw new ForbiddenError('only platform admins may do this');
}

/** Admins, or members of any workspace. */
export async function requireReader(caller: Caller, workspaces: WorkspaceStore): Promise<void> {
  if (caller.isAdmin) return;
  const memberships = await workspaces.membershipsOf(caller.principals);
  if (memberships.length === 0) throw new ForbiddenError('only admins and workspace members may read this');
}

/** The caller's strongest role in the workspace, or null. */
export async function roleIn(caller: Caller, workspaceId: string, workspaces: WorkspaceStore): Promise<Member['role'] | null> {
  const roles = await workspaces.rolesIn(workspaceId, caller.principals);
  if (roles.includes('owner')) return 'owner';
  if (roles.includes('member')) return 'member';
  return null;
}

/** Member or owner; everyone else gets the same 404 as for a workspace that does not exist. */
export async function requireMember(caller: Caller, workspaceId: string, workspaces: WorkspaceStore): Promise<Member['role']> {
  const role = await roleIn(caller, workspaceId, workspaces);
  if (!role) throw new NotFoundError(`workspace ${workspaceId} not found`);
  return role;
}
