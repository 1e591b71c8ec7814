/** The DynamoDB Local launcher: start/stop, data kept on disk across restarts, clear start-up errors. */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTimeToLiveCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable, JavaNotFoundError, localDocumentClient, localDynamoClient, PortInUseError, startDynamoDbLocal } from '../../local/dynamodb.ts';
import { dynamoEndpoint } from '../helpers/dynamo.ts';

describe('DynamoDB Local launcher', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-ddb-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps data under dbPath across a restart; ensureTable is idempotent and enables TTL', async () => {
    // Prepare
    const first = await startDynamoDbLocal({ dbPath: dir });
    const raw1 = localDynamoClient(first.endpoint);
    await ensureTable(raw1, 'slipway');
    await ensureTable(raw1, 'slipway');
    await localDocumentClient(first.endpoint).send(new PutCommand({ TableName: 'slipway', Item: { pk: 'P', sk: 'S', v: 1 } }));
    const ttl = await raw1.send(new DescribeTimeToLiveCommand({ TableName: 'slipway' }));
    raw1.destroy();
    await first.stop();

    // Act
    const second = await startDynamoDbLocal({ dbPath: dir });
    try {
      const item = await localDocumentClient(second.endpoint).send(new GetCommand({ TableName: 'slipway', Key: { pk: 'P', sk: 'S' } }));

      // Assess
      expect(item.Item).toEqual({ pk: 'P', sk: 'S', v: 1 });
      expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'ttl', TimeToLiveStatus: 'ENABLED' });
    } finally {
      await second.stop();
    }
  });

  it('says clearly when the port is taken', async () => {
    // Prepare
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen({ port: 0, host: '0.0.0.0' }, r));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;

    // Act
    const err = await startDynamoDbLocal({ port }).catch((e: unknown) => e);
    blocker.close();

    // Assess
    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as Error).message).toBe(
      `DynamoDB Local cannot listen on port ${port}: the port is already in use (choose another port or stop the other process)`,
    );
  });

  it('says clearly when java is missing', async () => {
    // Prepare
    const path = process.env.PATH;
    process.env.PATH = dir;

    // Act
    const err = await startDynamoDbLocal({}).catch((e: unknown) => e);
    process.env.PATH = path;

    // Assess
    expect(err).toBeInstanceOf(JavaNotFoundError);
    expect((err as Error).message).not.toContain('\n');
  });

  it('the shared test instance answers', async () => {
    // Act
    const raw = localDynamoClient(dynamoEndpoint());
    const out = await raw.send(new ListTablesCommand({}));
    raw.destroy();

    // Assess
    expect(Array.isArray(out.TableNames)).toBe(true);
  });
});
