/**
 * Access verification against STS and EC2: moto_server when it is on the machine, aws-sdk-client-mock
 * otherwise (see aws-backend.ts) — the same request-shape assertions for both.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAccessVerifier } from '../../local/vending.ts';
import { AwsAccessVerifier, AwsTransientError } from '../../shared/aws/verify-access.ts';
import { type AwsBackend, motoAvailable, startAwsBackend } from './aws-backend.ts';

const target = {
  provider: 'aws' as const,
  accountId: '222233334444',
  roleArn: 'arn:aws:iam::222233334444:role/SlipwayProvisioner',
  externalId: 'slipway-ext-1',
  regions: ['eu-west-1', 'eu-central-1'],
};

let aws: AwsBackend;

beforeAll(async () => {
  aws = await startAwsBackend();
});

afterAll(async () => {
  await aws?.close();
});

describe(`access verification (${motoAvailable() ? 'moto_server' : 'aws-sdk-client-mock'})`, () => {
  it('assumes the role with the external id, then asks EC2 with the assumed credentials in every region', async () => {
    // Act
    const result = await aws.verifier.verify(target);

    // Assess: the outcome
    expect(result.status, result.message).toBe('Verified');
    expect(Object.keys(result.offerings ?? {}).sort()).toEqual(['eu-central-1', 'eu-west-1']);
    expect(result.offerings?.['eu-west-1']).toContain('m6i.large');
    expect(result.offerings?.['eu-west-1']).toEqual([...(result.offerings?.['eu-west-1'] ?? [])].sort());

    // Assess: the requests, in order, and who signed them
    const [assume, ...ec2] = aws.sent;
    expect(assume).toMatchObject({
      command: 'AssumeRoleCommand',
      input: { RoleArn: target.roleArn, ExternalId: 'slipway-ext-1', RoleSessionName: 'slipway-verify-222233334444', DurationSeconds: 900 },
      accessKeyId: 'AKIASLIPWAYTEST00001',
    });
    expect(ec2[0]).toMatchObject({ command: 'DescribeRegionsCommand', input: { RegionNames: target.regions, AllRegions: true }, region: 'eu-west-1' });
    const offerings = ec2.filter((c) => c.command === 'DescribeInstanceTypeOfferingsCommand');
    expect(new Set(offerings.map((c) => c.region))).toEqual(new Set(target.regions));
    for (const call of offerings) {
      expect(call.input).toMatchObject({ LocationType: 'region', Filters: [{ Name: 'location', Values: [call.region] }] });
    }
    // Everything after AssumeRole is signed with the temporary credentials, never with Slipway's own.
    for (const call of ec2) expect(call.accessKeyId).toMatch(/^ASIA/);
  });

  it('a refused AssumeRole is a Failed verification with the reason, and EC2 is never asked', async () => {
    const result = await aws.denyingVerifier().verify(target);
    expect(result.status).toBe('Failed');
    expect(result.message).toContain('AccessDenied');
    expect(result.message).toContain(target.roleArn);
    expect(result.offerings).toBeUndefined();
  });
});

describe('access verification outcomes', () => {
  it('throttling is thrown as AwsTransientError for the workflow to retry', async () => {
    const sts = new STSClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const mock = mockClient(sts);
    mock.on(AssumeRoleCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    const verifier = new AwsAccessVerifier({ sts, ec2: (region, credentials) => new EC2Client({ region, credentials }) });
    await expect(verifier.verify(target)).rejects.toBeInstanceOf(AwsTransientError);
    expect(mock.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    mock.restore();
  });

  it('locally without AWS_ENDPOINT_URL an aws access fails verification and says why', async () => {
    const result = await localAccessVerifier({}).verify(target);
    expect(result.status).toBe('Failed');
    expect(result.message).toMatch(/AWS_ENDPOINT_URL is not set/);
  });
});
