/**
 * Workspaces. The META item carries the workspace and a `memberRoles` map (so `get` and `list` are single
 * reads and every membership change bumps `version`); one MEMBER item per member exists for the indexes:
 * gsi1 `PRINCIPAL#<p>` answers membershipsOf with one Query per principal, and rolesIn is one BatchGet.
 * META and MEMBER items change together in one transaction.
 */
import { BatchGetCommand, type BatchGetCommandOutput, DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Member, Workspace } from '../../domain/schemas.ts';
import { AlreadyExistsError, ConcurrentModificationError, InUseError, NotFoundError } from '../../errors.ts';
import { keys } from '../keys.ts';
import type { Actor, NewWorkspace, Page, PageRequest, WorkspaceStore } from '../ports.ts';
import {
  auditPut,
  backoff,
  type DynamoContext,
  fromAttributeMap,
  type Item,
  isConditionalCheckFailed,
  queryAll,
  queryPage,
  stripItem,
  type TransactItem,
  TransactionCancelled,
  toPage,
  transact,
} from './common.ts';
import { revocationPut } from './revocations.ts';

/** DynamoDB's cap on items per TransactWriteItems. */
const TRANSACTION_LIMIT = 100;
const MEMBER_UPDATE_ATTEMPTS = 3;
const ROLE_STRENGTH: Record<Member['role'], number> = { owner: 2, member: 1 };

type MetaRecord = Omit<Workspace, 'members'> & { memberRoles: Record<string, Member['role']> };

export class DynamoWorkspaceStore implements WorkspaceStore {
  constructor(private readonly ctx: DynamoContext) {}

  /**
   * META, the audit record and the first 98 members go in one transaction — it claims the id atomically.
   * Larger workspaces (the schema allows 500 members) get their remaining MEMBER items in further
   * transactions of 100. Until those land, rolesIn may miss a member: the window only ever grants less
   * access, never more, and the META map (what `get` shows) is complete from the start.
   */
  async create(ws: NewWorkspace, actor: Actor): Promise<Workspace> {
    const now = this.ctx.now().toISOString();
    const { members, ...rest } = ws;
    const meta: MetaRecord = {
      ...rest,
      createdAt: now,
      createdBy: actor.principal,
      updatedAt: now,
      version: 1,
      memberRoles: Object.fromEntries(members.map((m) => [m.principal, m.role])),
    };
    const memberPuts = members.map((m) => this.memberPut(ws.id, m, now));
    const firstBatch = TRANSACTION_LIMIT - 2;
    try {
      await transact(this.ctx, [
        { Put: { TableName: this.ctx.tableName, Item: metaItem(meta), ConditionExpression: 'attribute_not_exists(pk)' } },
        auditPut(this.ctx, { actor, action: 'Workspace.create', resource: `workspaces/${ws.id}`, detail: { members: members.length } }),
        ...memberPuts.slice(0, firstBatch),
      ]);
    } catch (err) {
      if (err instanceof TransactionCancelled && err.failed(0)) throw new AlreadyExistsError(`workspace "${ws.id}" already exists`, { cause: err });
      throw err;
    }
    for (let i = firstBatch; i < memberPuts.length; i += TRANSACTION_LIMIT) {
      await transact(this.ctx, memberPuts.slice(i, i + TRANSACTION_LIMIT));
    }
    return toWorkspace(meta);
  }

  async get(id: string): Promise<Workspace | null> {
    const meta = await this.readMeta(id);
    return meta ? toWorkspace(meta) : null;
  }

  async list(page?: PageRequest): Promise<Page<Workspace>> {
    const result = await queryPage(this.ctx, { index: 'gsi1', partition: { name: 'gsi1pk', value: keys.workspaces().gsi1pk } }, page);
    return toPage(result, (i) => toWorkspace(stripItem<MetaRecord>(i)));
  }

  /**
   * Deleting META and USAGE is the atomic decision: the USAGE delete is conditioned on no live cluster, and
   * cluster creation checks META in its own transaction, so the two cannot interleave. Member items and
   * Deleted cluster records are swept afterwards (paginated), each delete conditioned on belonging to this
   * incarnation of the workspace so a quick re-create with the same id is not damaged.
   */
  async delete(id: string, actor: Actor): Promise<void> {
    const meta = await this.readMeta(id);
    if (!meta) throw notFound(id);
    try {
      await transact(this.ctx, [
        { Delete: { TableName: this.ctx.tableName, Key: keys.workspace(id), ConditionExpression: 'attribute_exists(pk)' } },
        {
          Delete: {
            TableName: this.ctx.tableName,
            Key: keys.usage(id),
            ConditionExpression: 'attribute_not_exists(pk) OR #clusters <= :zero',
            ExpressionAttributeNames: { '#clusters': 'clusters' },
            ExpressionAttributeValues: { ':zero': 0 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        auditPut(this.ctx, { actor, action: 'Workspace.delete', resource: `workspaces/${id}` }),
      ]);
    } catch (err) {
      if (!(err instanceof TransactionCancelled)) throw err;
      if (err.failed(0)) throw notFound(id, err);
      if (err.failed(1)) {
        const old = err.oldItem(1);
        const count = old ? fromAttributeMap(old).clusters : undefined;
        throw new InUseError(`workspace "${id}" still has ${typeof count === 'number' ? count : 'some'} cluster(s); delete them first`, { cause: err });
      }
      throw err;
    }
    await this.sweep(id, meta.createdAt);
  }

  private async sweep(id: string, createdAt: string): Promise<void> {
    const items = await queryAll(this.ctx, { partition: { name: 'pk', value: keys.workspace(id).pk } }, true);
    const deletes = items.flatMap((item) => {
      const sk = String(item.sk);
      if (sk.startsWith(keys.members(id).skPrefix)) {
        return [{ key: { pk: item.pk, sk: item.sk }, condition: '#a = :v', attr: 'wsCreatedAt', value: createdAt }];
      }
      if (sk.startsWith(keys.clusters(id).skPrefix)) {
        return [{ key: { pk: item.pk, sk: item.sk }, condition: '#a = :v', attr: 'phase', value: 'Deleted' }];
      }
      return [];
    });
    for (let i = 0; i < deletes.length; i += 25) {
      await Promise.all(
        deletes.slice(i, i + 25).map(async (d) => {
          try {
            await this.ctx.client.send(
              new DeleteCommand({ TableName: this.ctx.tableName, Key: d.key, ConditionExpression: d.condition, ExpressionAttributeNames: { '#a': d.attr }, ExpressionAttributeValues: { ':v': d.value } }),
            );
          } catch (err) {
            if (!isConditionalCheckFailed(err)) throw err;
          }
        }),
      );
    }
  }

  /** A demotion from owner writes the revocation of the cluster-admin it gave, in the same transaction. */
  putMember(id: string, member: Member, actor: Actor): Promise<Workspace> {
    return this.changeMembers(id, actor, 'Workspace.putMember', member.principal, (roles, now) => {
      const demoted = roles[member.principal] === 'owner' && member.role !== 'owner';
      roles[member.principal] = member.role;
      const writes = [this.memberPut(id, member, now)];
      if (demoted) writes.push(revocationPut(this.ctx, { workspaceId: id, principal: member.principal, reason: 'owner-demoted', actor }));
      return writes;
    });
  }

  /** The removal and the revocation of the principal's cluster access commit together or not at all. */
  removeMember(id: string, principal: string, actor: Actor): Promise<Workspace> {
    return this.changeMembers(id, actor, 'Workspace.removeMember', principal, (roles) => {
      if (!(principal in roles)) throw new NotFoundError(`"${principal}" is not a member of workspace "${id}"`);
      delete roles[principal];
      return [
        { Delete: { TableName: this.ctx.tableName, Key: keys.member(id, principal) } },
        revocationPut(this.ctx, { workspaceId: id, principal, reason: 'member-removed', actor }),
      ];
    });
  }

  /** Read META, change the map, write META (guarded by version) and the MEMBER item in one transaction. */
  private async changeMembers(
    id: string,
    actor: Actor,
    action: string,
    principal: string,
    change: (roles: Record<string, Member['role']>, createdAt: string) => TransactItem[],
  ): Promise<Workspace> {
    for (let attempt = 1; ; attempt++) {
      const meta = await this.readMeta(id);
      if (!meta) throw notFound(id);
      const roles = { ...meta.memberRoles };
      const memberWrites = change(roles, meta.createdAt);
      const next: MetaRecord = { ...meta, memberRoles: roles, updatedAt: this.ctx.now().toISOString(), version: meta.version + 1 };
      try {
        await transact(this.ctx, [
          {
            Put: {
              TableName: this.ctx.tableName,
              Item: metaItem(next),
              ConditionExpression: 'attribute_exists(pk) AND #version = :v',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':v': meta.version },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          ...memberWrites,
          auditPut(this.ctx, { actor, action, resource: `workspaces/${id}/members/${principal}`, detail: { role: roles[principal] ?? null } }),
        ]);
        return toWorkspace(next);
      } catch (err) {
        if (!(err instanceof TransactionCancelled)) throw err;
        if (err.failed(0) && !err.oldItem(0)) throw notFound(id, err);
        if (attempt >= MEMBER_UPDATE_ATTEMPTS) throw new ConcurrentModificationError(`workspace "${id}" was modified concurrently; retry`, { cause: err });
        await backoff(attempt);
      }
    }
  }

  attachCloudAccess(id: string, cloudAccessId: string, actor: Actor): Promise<Workspace> {
    return this.changeCloudAccesses(id, cloudAccessId, actor, 'Workspace.attachCloudAccess', (ids) => (ids.includes(cloudAccessId) ? null : [...ids, cloudAccessId]));
  }

  detachCloudAccess(id: string, cloudAccessId: string, actor: Actor): Promise<Workspace> {
    return this.changeCloudAccesses(id, cloudAccessId, actor, 'Workspace.detachCloudAccess', (ids) =>
      ids.includes(cloudAccessId) ? ids.filter((a) => a !== cloudAccessId) : null,
    );
  }

  /** META read, list changed (null: nothing to do), META written back guarded by version, with its audit record. */
  private async changeCloudAccesses(
    id: string,
    cloudAccessId: string,
    actor: Actor,
    action: string,
    change: (ids: readonly string[]) => string[] | null,
  ): Promise<Workspace> {
    for (let attempt = 1; ; attempt++) {
      const meta = await this.readMeta(id);
      if (!meta) throw notFound(id);
      const next = change(meta.cloudAccessIds);
      if (next === null) return toWorkspace(meta);
      const updated: MetaRecord = { ...meta, cloudAccessIds: next, updatedAt: this.ctx.now().toISOString(), version: meta.version + 1 };
      try {
        await transact(this.ctx, [
          {
            Put: {
              TableName: this.ctx.tableName,
              Item: metaItem(updated),
              ConditionExpression: 'attribute_exists(pk) AND #version = :v',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':v': meta.version },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          auditPut(this.ctx, { actor, action, resource: `workspaces/${id}/cloud-accesses/${cloudAccessId}` }),
        ]);
        return toWorkspace(updated);
      } catch (err) {
        if (!(err instanceof TransactionCancelled)) throw err;
        if (err.failed(0) && !err.oldItem(0)) throw notFound(id, err);
        if (attempt >= MEMBER_UPDATE_ATTEMPTS) throw new ConcurrentModificationError(`workspace "${id}" was modified concurrently; retry`, { cause: err });
        await backoff(attempt);
      }
    }
  }

  async rolesIn(id: string, principals: readonly string[]): Promise<Array<Member['role']>> {
    const unique = [...new Set(principals)];
    const roles: Array<Member['role']> = [];
    // BatchGetItem takes 100 keys; a caller has a handful of principals (user + groups), so this is one call.
    for (let i = 0; i < unique.length; i += 100) {
      let request: Record<string, { Keys: Item[]; ConsistentRead: boolean }> | undefined = {
        [this.ctx.tableName]: { Keys: unique.slice(i, i + 100).map((p) => keys.member(id, p)), ConsistentRead: true },
      };
      for (let attempt = 1; request && Object.keys(request).length > 0; attempt++) {
        const out: BatchGetCommandOutput = await this.ctx.client.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of out.Responses?.[this.ctx.tableName] ?? []) roles.push(item.role as Member['role']);
        const unprocessed: Item[] | undefined = out.UnprocessedKeys?.[this.ctx.tableName]?.Keys;
        request = unprocessed?.length ? { [this.ctx.tableName]: { Keys: unprocessed, ConsistentRead: true } } : undefined;
        if (request) await backoff(attempt);
      }
    }
    return roles;
  }

  async membershipsOf(principals: readonly string[]): Promise<Array<{ id: string; role: Member['role'] }>> {
    const unique = [...new Set(principals)];
    const results = await Promise.all(
      unique.map((p) => queryAll(this.ctx, { index: 'gsi1', partition: { name: 'gsi1pk', value: keys.membershipsOf(p).gsi1pk } })),
    );
    const strongest = new Map<string, Member['role']>();
    for (const item of results.flat()) {
      const ws = String(item.workspaceId);
      const role = item.role as Member['role'];
      const held = strongest.get(ws);
      if (!held || ROLE_STRENGTH[role] > ROLE_STRENGTH[held]) strongest.set(ws, role);
    }
    return [...strongest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, role]) => ({ id, role }));
  }

  private async readMeta(id: string): Promise<MetaRecord | null> {
    const out = await this.ctx.client.send(new GetCommand({ TableName: this.ctx.tableName, Key: keys.workspace(id), ConsistentRead: true }));
    return out.Item ? stripItem<MetaRecord>(out.Item) : null;
  }

  private memberPut(ws: string, member: Member, wsCreatedAt: string): TransactItem {
    return {
      Put: {
        TableName: this.ctx.tableName,
        Item: {
          ...keys.member(ws, member.principal),
          ...keys.memberIndex(ws, member.principal),
          entity: 'WorkspaceMember',
          workspaceId: ws,
          principal: member.principal,
          role: member.role,
          // Ties the item to this incarnation of the workspace (see delete's sweep).
          wsCreatedAt,
        },
      },
    };
  }
}

function metaItem(meta: MetaRecord): Item {
  return { ...keys.workspace(meta.id), ...keys.workspaceIndex(meta.id), entity: 'Workspace', ...meta };
}

function toWorkspace(meta: MetaRecord): Workspace {
  const { memberRoles, ...rest } = meta;
  const members = Object.entries(memberRoles)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([principal, role]) => ({ principal, role }));
  return { ...rest, members };
}

function notFound(id: string, cause?: unknown): NotFoundError {
  return new NotFoundError(`workspace "${id}" not found`, cause === undefined ? undefined : { cause });
}
