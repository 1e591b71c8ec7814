import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_INDEXES, TABLE_KEYS } from '../../shared/store/table.ts';
import { type Built, resourcesOf, synthTemplate, removeOutdirs } from './helpers.ts';

afterAll(removeOutdirs);

describe('data: the Slipway table', () => {
  let built: Built;
  beforeAll(() => {
    built = synthTemplate();
  });

  it('is built from shared/store/table.ts: keys, GSIs, TTL attribute', () => {
    built.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: TABLE_INDEXES.map((i) =>
        Match.objectLike({
          IndexName: i.indexName,
          KeySchema: [
            { AttributeName: i.partitionKey, KeyType: 'HASH' },
            { AttributeName: i.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        }),
      ),
      TimeToLiveSpecification: { AttributeName: TABLE_KEYS.ttlAttribute, Enabled: true },
    });
  });

  it('is protected: on-demand, PITR, deletion protection, KMS encryption, retained', () => {
    const tables = resourcesOf(built.template, 'AWS::DynamoDB::GlobalTable');
    expect(Object.keys(tables)).toHaveLength(1);
    const [table] = Object.values(tables);
    expect(table?.DeletionPolicy).toBe('Retain');
    built.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [
        Match.objectLike({
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ],
    });
  });

  it('uses a customer-managed key when slipway:tableKmsKeyArn is set', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const { template } = synthTemplate({
      context: { 'slipway:tableKmsKeyArn': keyArn },
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [Match.objectLike({ SSESpecification: { KMSMasterKeyId: keyArn } })],
    });
  });
});
