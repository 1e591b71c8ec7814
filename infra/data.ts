/**
 * The Slipway table, built from shared/store/table.ts (the same definition DynamoDB Local is created from),
 * and the narrow grants functions get on it.
 */
import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { keys } from '../shared/store/keys.ts';
import { TABLE_INDEXES, TABLE_KEYS } from '../shared/store/table.ts';

export interface DataProps {
  /** Customer-managed key; default the AWS-managed key `aws/dynamodb`. */
  tableKmsKeyArn?: string | undefined;
}

/** `AUDIT#` — the partition prefix of audit records (shared/store/keys.ts), derived rather than retyped. */
const AUDIT_PARTITION_PREFIX = keys.auditDay('').pk;
/** `ACCOUNT` — the onboarded accounts' partition. */
const ACCOUNT_PARTITION = keys.accounts().pk;
/** `IDEMPOTENCY#` — the partition prefix of Idempotency-Key records. */
const IDEMPOTENCY_PARTITION_PREFIX = keys.idempotency('', '').pk.replace(/#+$/, '#');
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
// TransactWriteItems is authorised through the item actions it contains; Scan is never used.
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

export class Data extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: DataProps = {}) {
    super(scope, id);
    if (props.tableKmsKeyArn && Token.isUnresolved(Stack.of(this).region)) {
      // TableV2 renders a replica's key per region: a region-agnostic stack cannot say which.
      throw new Error('slipway:tableKmsKeyArn needs a stack region: deploy with credentials (CDK_DEFAULT_REGION) or a region-specific env');
    }
    const attr = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: attr(TABLE_KEYS.partitionKey),
      sortKey: attr(TABLE_KEYS.sortKey),
      globalSecondaryIndexes: TABLE_INDEXES.map((i) => ({
        indexName: i.indexName,
        partitionKey: attr(i.partitionKey),
        sortKey: attr(i.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      })),
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: TABLE_KEYS.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: props.tableKmsKeyArn
        ? dynamodb.TableEncryptionV2.customerManagedKey(kms.Key.fromKeyArn(this, 'Key', props.tableKmsKeyArn))
        : dynamodb.TableEncryptionV2.awsManagedKey(),
      // Clusters, history and audit outlive any stack: a deleted stack leaves the table behind.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** The table and each GSI by name: no `index/*` wildcard. */
  private resources(): string[] {
    const arn = this.table.tableArn;
    return [arn, ...TABLE_INDEXES.map((i) => `${arn}/index/${i.indexName}`)];
  }

  grantRead(role: iam.IGrantable): void {
    role.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: READ_ACTIONS, resources: this.resources() }));
    this.grantKey(role, ['kms:Decrypt']);
  }

  grantReadWrite(role: iam.IGrantable): void {
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...READ_ACTIONS, ...WRITE_ACTIONS], resources: this.resources() }),
    );
    this.grantKey(role, ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
  }

  /**
   * What the revocation processor writes besides audit records: UpdateItem (a cluster handled) and DeleteItem
   * (all handled) on the `REVOCATION` outbox partition only. Its items are created by the membership changes.
   */
  grantRevocationOutbox(role: iam.IGrantable): void {
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [keys.revocations().pk] } },
      }),
    );
    this.grantKey(role, ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
  }

  /**
   * Appends to the audit trail and nothing else: PutItem on `AUDIT#…` partitions only (the audit store's writes
   * are conditional puts of new items, shared/store/dynamo/audit.ts), for functions that otherwise only read.
   */
  grantAuditAppend(role: iam.IGrantable): void {
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${AUDIT_PARTITION_PREFIX}*`] } },
      }),
    );
    this.grantKey(role, ['kms:Encrypt', 'kms:GenerateDataKey']);
  }

  /**
   * What retrying a Failed onboarding writes and nothing more, for a function that otherwise only reads: the
   * account record (the conditional put of the claim and of its compensation) with its audit record in one
   * transaction, and the Idempotency-Key records of its POSTs (put, complete, release).
   */
  grantAccountRetry(role: iam.IGrantable): void {
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [ACCOUNT_PARTITION, `${AUDIT_PARTITION_PREFIX}*`] } },
      }),
    );
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${IDEMPOTENCY_PARTITION_PREFIX}*`] } },
      }),
    );
    this.grantKey(role, ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
  }

  /** A customer-managed key must also let the function use it (the AWS-managed key needs no grant). */
  private grantKey(role: iam.IGrantable, actions: string[]): void {
    const key = this.table.encryptionKey;
    if (key) role.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [key.keyArn] }));
  }
}
