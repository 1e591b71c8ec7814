/**
 * What a Step Functions Catch hands the failure path: `{Error, Cause}`. For Lambda task errors Cause is the
 * JSON `{errorType, errorMessage, trace}`; for others a plain string. Kept short: the cause is shown on the
 * record and published in events.
 */
export interface CaughtError {
  Error?: string;
  Cause?: string;
}

export function describeCaught(error: CaughtError | undefined): { name: string; cause: string } {
  const name = error?.Error ?? 'UnknownError';
  let cause = error?.Cause ?? 'no cause given';
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed && typeof parsed.errorMessage === 'string') cause = parsed.errorMessage;
  } catch {
    // not JSON: a plain cause
  }
  return { name, cause: cause.length > 1000 ? `${cause.slice(0, 997)}...` : cause };
}
