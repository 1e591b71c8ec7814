/**
 * The STS and EC2 the verification talks to in tests, chosen at run time: moto_server when it is on the
 * machine (started on a free loopback port, stopped after the suite), aws-sdk-client-mock otherwise. Both
 * record every command sent with its input, so the suites assert the same request shapes either way.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { DescribeInstanceTypeOfferingsCommand, DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsAccessVerifier } from '../../shared/aws/verify-access.ts';

export interface SentCommand {
  command: string;
  input: Record<string, unknown>;
  /** The access key the request was signed with (assumed-role keys start with ASIA). */
  accessKeyId?: string;
  region?: string;
}

export interface AwsBackend {
  kind: 'moto' | 'mock';
  verifier: AwsAccessVerifier;
  sent: SentCommand[];
  /** A verifier whose STS refuses AssumeRole as AWS does when the trust policy or external id does not match. */
  denyingVerifier(): AwsAccessVerifier;
  close(): Promise<void>;
}

const OUR_KEYS = { accessKeyId: 'AKIASLIPWAYTEST00001', secretAccessKey: 'slipway-test-secret' };

export const MOCK_INSTANCE_TYPES = ['m6i.large', 'm6i.xlarge', 'm7i.large', 't3.medium'];

export function motoAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' }).status === 0;
}

export async function startAwsBackend(): Promise<AwsBackend> {
  return motoAvailable() ? startMoto() : startMock();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function startMoto(): Promise<AwsBackend> {
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error('moto_server did not start within 20 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const sent: SentCommand[] = [];
  const recorder =
    (region: string, keys: () => Promise<{ accessKeyId: string }>) =>
    <I extends object, O>(next: (args: { input: I }) => Promise<O>, context: { commandName?: string }) =>
    async (args: { input: I }): Promise<O> => {
      sent.push({ command: String(context.commandName), input: { ...(args.input as Record<string, unknown>) }, accessKeyId: (await keys()).accessKeyId, region });
      return next(args);
    };
  const options = { step: 'initialize' as const, name: 'slipwayTestRecorder' };
  const record = <C extends STSClient | EC2Client>(client: C, region: string): C => {
    (client.middlewareStack as STSClient['middlewareStack']).add(recorder(region, () => client.config.credentials()), options);
    return client;
  };
  const verifier = new AwsAccessVerifier({
    sts: record(new STSClient({ region: 'us-east-1', endpoint, credentials: OUR_KEYS }), 'us-east-1'),
    ec2: (region, credentials) => record(new EC2Client({ region, endpoint, credentials }), region),
  });
  return {
    kind: 'moto',
    verifier,
    sent,
    denyingVerifier: () => denying(endpoint),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * moto 5.2.1 does not evaluate role trust policies or external ids (AssumeRole always succeeds), so the
 * refusal is aws-sdk-client-mock's in both variants, with the error AWS sends: AccessDenied, 403.
 */
function denying(endpoint?: string): AwsAccessVerifier {
  const sts = new STSClient({ region: 'us-east-1', credentials: OUR_KEYS, ...(endpoint ? { endpoint } : {}) });
  const mock = mockClient(sts);
  mock.on(AssumeRoleCommand).rejects(
    Object.assign(new Error('User: arn:aws:sts::000000000000:assumed-role/OnboardingStepsRole/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222233334444:role/SlipwayProvisioner'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    }),
  );
  return new AwsAccessVerifier({ sts, ec2: (region, credentials) => new EC2Client({ region, credentials, ...(endpoint ? { endpoint } : {}) }) });
}

async function startMock(): Promise<AwsBackend> {
  const sent: SentCommand[] = [];
  const sts = new STSClient({ region: 'us-east-1', credentials: OUR_KEYS });
  const stsMock = mockClient(sts);
  stsMock.on(AssumeRoleCommand).callsFake((input: Record<string, unknown>) => {
    sent.push({ command: 'AssumeRoleCommand', input: { ...input }, accessKeyId: OUR_KEYS.accessKeyId, region: 'us-east-1' });
    const roleArn = String(input.RoleArn);
    return {
      Credentials: { AccessKeyId: 'ASIAASSUMEDTEST00001', SecretAccessKey: 'assumed-secret', SessionToken: 'assumed-token', Expiration: new Date(Date.now() + 900_000) },
      AssumedRoleUser: { Arn: `${roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${String(input.RoleSessionName)}`, AssumedRoleId: 'AROATEST:x' },
    };
  });
  const ec2Mocks: Array<{ restore(): void }> = [];
  const verifier = new AwsAccessVerifier({
    sts,
    ec2: (region, credentials) => {
      const client = new EC2Client({ region, credentials });
      const mock = mockClient(client);
      ec2Mocks.push(mock);
      mock.on(DescribeRegionsCommand).callsFake((input: { RegionNames?: string[] }) => {
        sent.push({ command: 'DescribeRegionsCommand', input: { ...input }, accessKeyId: credentials.accessKeyId, region });
        return { Regions: (input.RegionNames ?? []).map((r) => ({ RegionName: r, OptInStatus: 'opt-in-not-required', Endpoint: `ec2.${r}.amazonaws.com` })) };
      });
      // Two pages, so pagination is exercised as with a real account's ~900 types.
      mock.on(DescribeInstanceTypeOfferingsCommand).callsFake((input: { NextToken?: string }) => {
        sent.push({ command: 'DescribeInstanceTypeOfferingsCommand', input: { ...input }, accessKeyId: credentials.accessKeyId, region });
        const page = input.NextToken === undefined ? MOCK_INSTANCE_TYPES.slice(0, 2) : MOCK_INSTANCE_TYPES.slice(2);
        return { InstanceTypeOfferings: page.map((t) => ({ InstanceType: t, LocationType: 'region', Location: region })), ...(input.NextToken === undefined ? { NextToken: 'page-2' } : {}) };
      });
      return client;
    },
  });
  return {
    kind: 'mock',
    verifier,
    sent,
    denyingVerifier: () => denying(),
    close: async () => {
      stsMock.restore();
      for (const m of ec2Mocks) m.restore();
    },
  };
}
