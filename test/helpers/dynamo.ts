/**
 * Per-suite isolation on the run's shared DynamoDB Local: every call makes a uniquely named table from the
 * production table definition, so suites can run in parallel and never see each other's items.
 */
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { ensureTable, localDynamoClient } from '../../local/dynamodb.ts';
import { createDynamoStores } from '../../shared/store/dynamo/index.ts';
import type { Stores } from '../../shared/store/ports.ts';

export interface FreshStores {
  stores: Stores;
  /** The DocumentClient the stores use (for assertions on raw items). */
  client: DynamoDBDocumentClient;
  /** The low-level client (table administration). */
  raw: DynamoDBClient;
  tableName: string;
  endpoint: string;
  /** Deletes the table and closes the clients. */
  drop(): Promise<void>;
}

export function dynamoEndpoint(): string {
  return inject('dynamoEndpoint');
}

export interface FreshStoresOptions {
  /** Clock for the stores (e.g. a frozen one to put several writes in one millisecond). */
  now?: () => Date;
}

export async function freshStores(options: FreshStoresOptions = {}): Promise<FreshStores> {
  const endpoint = dynamoEndpoint();
  const raw = localDynamoClient(endpoint);
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const tableName = `t_${randomBytes(6).toString('hex')}`;
  await ensureTable(raw, tableName);
  return {
    stores: createDynamoStores({ client, tableName, ...(options.now ? { now: options.now } : {}) }),
    client,
    raw,
    tableName,
    endpoint,
    async drop() {
      await raw.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
}
