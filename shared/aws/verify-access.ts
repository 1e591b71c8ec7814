/**
 * Verifying a cloud access the way Slipway will use it: sts:AssumeRole with the external id, then — with the
 * assumed credentials, as the provisioning steps would act — EC2 DescribeRegions for the access's regions
 * and DescribeInstanceTypeOfferings in each, so the record says what the account can actually run.
 *
 * Outcomes are split so the workflow can act on them: a refusal (denied, unknown role, region not enabled)
 * is a Failed verification with a reason; a transient failure (throttling, 5xx, network) is a thrown
 * AwsTransientError for the ASL Retry. SDK clients are injected (factories), never built deep inside.
 */
import { DescribeInstanceTypeOfferingsCommand, DescribeRegionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';

export interface AccessTarget {
  provider: 'aws' | 'sim';
  accountId: string;
  roleArn: string;
  externalId?: string | undefined;
  regions: readonly string[];
}

export interface VerificationResult {
  status: 'Verified' | 'Failed';
  message: string;
  /** Instance types EC2 offers, per region (Verified only). */
  offerings?: Record<string, string[]>;
}

export interface AccessVerifier {
  /** A refusal is a Failed result; AwsTransientError when it is worth retrying. */
  verify(target: AccessTarget): Promise<VerificationResult>;
}

/** A failure worth retrying (throttled, 5xx, network): the ASL Retry matches it by name. */
export class AwsTransientError extends Error {
  override readonly name = 'AwsTransientError';
}

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export interface AwsAccessVerifierOptions {
  /** The STS client Slipway's own credentials sign with. */
  sts: STSClient;
  /** An EC2 client in `region` signing with the assumed credentials. */
  ec2: (region: string, credentials: TemporaryCredentials) => EC2Client;
  /** Shown in the account's CloudTrail as the session name. */
  sessionName?: string;
}

/** The assumed session only needs to last for the EC2 reads: the minimum STS allows. */
const SESSION_SECONDS = 900;

const TRANSIENT = new Set([
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalError',
  'InternalFailure',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
]);

export class AwsAccessVerifier implements AccessVerifier {
  constructor(private readonly options: AwsAccessVerifierOptions) {}

  async verify(target: AccessTarget): Promise<VerificationResult> {
    let credentials: TemporaryCredentials;
    try {
      const out = await this.options.sts.send(
        new AssumeRoleCommand({
          RoleArn: target.roleArn,
          RoleSessionName: this.options.sessionName ?? `slipway-verify-${target.accountId}`,
          DurationSeconds: SESSION_SECONDS,
          ...(target.externalId === undefined ? {} : { ExternalId: target.externalId }),
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) return failed(`sts:AssumeRole of ${target.roleArn} returned no credentials`);
      credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
    } catch (err) {
      throwIfTransient(err, 'sts:AssumeRole');
      return failed(`sts:AssumeRole of ${target.roleArn}${target.externalId === undefined ? '' : ' with the external id'} was refused: ${describe(err)}`);
    }

    const [home] = target.regions;
    if (home === undefined) return failed('the access names no region');
    try {
      const regions = await this.options.ec2(home, credentials).send(new DescribeRegionsCommand({ RegionNames: [...target.regions], AllRegions: true }));
      const byName = new Map((regions.Regions ?? []).map((r) => [r.RegionName ?? '', r.OptInStatus ?? '']));
      const unusable = target.regions.filter((r) => !byName.has(r) || byName.get(r) === 'not-opted-in');
      if (unusable.length > 0) return failed(`region(s) ${unusable.join(', ')} not enabled in account ${target.accountId}`);

      const offerings: Record<string, string[]> = {};
      for (const region of target.regions) offerings[region] = await this.instanceTypes(this.options.ec2(region, credentials), region);
      const counts = target.regions.map((r) => `${r}: ${offerings[r]?.length ?? 0}`).join(', ');
      return { status: 'Verified', message: `assumed ${target.roleArn}; instance types offered: ${counts}`, offerings };
    } catch (err) {
      throwIfTransient(err, 'ec2');
      return failed(`EC2 with the assumed role of ${target.roleArn} was refused: ${describe(err)}`);
    }
  }

  private async instanceTypes(ec2: EC2Client, region: string): Promise<string[]> {
    const types = new Set<string>();
    let nextToken: string | undefined;
    do {
      const out = await ec2.send(
        new DescribeInstanceTypeOfferingsCommand({
          LocationType: 'region',
          Filters: [{ Name: 'location', Values: [region] }],
          MaxResults: 1000,
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        }),
      );
      for (const o of out.InstanceTypeOfferings ?? []) if (o.InstanceType) types.add(o.InstanceType);
      nextToken = out.NextToken || undefined;
    } while (nextToken !== undefined);
    return [...types].sort();
  }
}

/** When there is no AWS to ask (locally without AWS_ENDPOINT_URL): every aws access fails, saying why. */
export class UnavailableAccessVerifier implements AccessVerifier {
  constructor(private readonly reason: string) {}

  async verify(): Promise<VerificationResult> {
    return failed(this.reason);
  }
}

function failed(message: string): VerificationResult {
  return { status: 'Failed', message };
}

function throwIfTransient(err: unknown, what: string): void {
  const name = err instanceof Error ? err.name : '';
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const status = typeof err === 'object' && err !== null && '$metadata' in err ? (err.$metadata as { httpStatusCode?: number }).httpStatusCode : undefined;
  if (TRANSIENT.has(name) || TRANSIENT.has(code) || (status !== undefined && status >= 500)) {
    throw new AwsTransientError(`${what} failed transiently: ${describe(err)}`, { cause: err });
  }
}

/** Error name and message only: AWS error messages carry no secrets, credentials never reach here. */
function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
