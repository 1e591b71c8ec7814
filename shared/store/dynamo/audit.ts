/** The admin audit trail: one partition per UTC day, sorted by time. */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../errors.ts';
import { keys } from '../keys.ts';
import type { AuditRecord, AuditStore, Page, PageRequest } from '../ports.ts';
import { auditPut, type DynamoContext, queryPage, stripItem, toPage } from './common.ts';

export class DynamoAuditStore implements AuditStore {
  constructor(private readonly ctx: DynamoContext) {}

  /** Standalone append, for audited actions that are not a store write (the store's own writes audit themselves). */
  async append(record: Omit<AuditRecord, 'at'>): Promise<void> {
    const put = auditPut(this.ctx, { actor: { principal: record.actor }, action: record.action, resource: record.resource, detail: record.detail });
    if (!put.Put) throw new Error('auditPut must produce a Put');
    await this.ctx.client.send(new PutCommand({ TableName: put.Put.TableName, Item: put.Put.Item, ConditionExpression: put.Put.ConditionExpression }));
  }

  async listDay(day: string, page?: PageRequest): Promise<Page<AuditRecord>> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      throw new ValidationError('day must be YYYY-MM-DD', { errors: [{ field: 'day', message: 'must be YYYY-MM-DD' }] });
    }
    const result = await queryPage(this.ctx, { partition: { name: 'pk', value: keys.auditDay(day).pk } }, page);
    return toPage(result, (i) => stripItem<AuditRecord>(i));
  }
}
