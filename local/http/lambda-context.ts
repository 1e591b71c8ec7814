/** A Lambda `Context` for handlers called in-process, shaped like the one the Node.js runtime passes. */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** The callback-era `done`/`fail`/`succeed` are not supported by async handlers in AWS either. */
export class LegacyCallbackError extends Error {
  override readonly name = 'LegacyCallbackError';
}

export function lambdaContext(functionName: string, options: { timeoutMs?: number; region?: string; accountId?: string } = {}): Context {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const region = options.region ?? 'local';
  const accountId = options.accountId ?? '000000000000';
  const legacy = (): never => {
    throw new LegacyCallbackError('context.done/fail/succeed are not available to async handlers');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: legacy,
    fail: legacy,
    succeed: legacy,
  };
}
