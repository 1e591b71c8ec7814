/** Packages: immutable name@version items in one partition. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Package } from '../../domain/schemas.ts';
import { AlreadyExistsError } from '../../errors.ts';
import { keys } from '../keys.ts';
import type { Actor, NewPackage, Page, PackageStore, PageRequest } from '../ports.ts';
import { auditPut, type DynamoContext, queryPage, stripItem, TransactionCancelled, toPage, transact } from './common.ts';

export class DynamoPackageStore implements PackageStore {
  constructor(private readonly ctx: DynamoContext) {}

  async create(pkg: NewPackage, actor: Actor): Promise<Package> {
    const entity: Package = { ...pkg, createdAt: this.ctx.now().toISOString(), createdBy: actor.principal };
    try {
      await transact(this.ctx, [
        {
          Put: {
            TableName: this.ctx.tableName,
            Item: { ...keys.package(pkg.name, pkg.version), entity: 'Package', ...entity },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        auditPut(this.ctx, { actor, action: 'Package.create', resource: `packages/${pkg.name}/${pkg.version}` }),
      ]);
    } catch (err) {
      if (err instanceof TransactionCancelled && err.failed(0)) {
        throw new AlreadyExistsError(`package ${pkg.name}@${pkg.version} already exists (packages are immutable)`, { cause: err });
      }
      throw err;
    }
    return entity;
  }

  async get(name: string, version: string): Promise<Package | null> {
    const out = await this.ctx.client.send(new GetCommand({ TableName: this.ctx.tableName, Key: keys.package(name, version), ConsistentRead: true }));
    return out.Item ? stripItem<Package>(out.Item) : null;
  }

  async list(page?: PageRequest): Promise<Page<Package>> {
    const result = await queryPage(this.ctx, { partition: { name: 'pk', value: keys.packages().pk } }, page);
    return toPage(result, (i) => stripItem<Package>(i));
  }
}
