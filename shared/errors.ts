/**
 * The error hierarchy every layer throws. Each class has a stable `name` so that:
 *  - the HTTP layer maps it to an RFC 9457 problem (status, type, title), and
 *  - Step Functions Retry/Catch can match it by `ErrorEquals` (aws-local-stepfunctions and Lambda both use
 *    `error.name`).
 */

export interface FieldError {
  /** JSON path of the offending field, e.g. `nodePools[0].desired`. */
  field: string;
  message: string;
  code?: string;
}

export interface PolicyViolation {
  code: string;
  policyId: string;
  field: string;
  message: string;
}

export abstract class SlipwayError extends Error {
  abstract readonly status: number;
  /** Last segment of the problem `type` URI. */
  abstract readonly problemType: string;
  abstract readonly title: string;
  readonly errors: ReadonlyArray<FieldError | PolicyViolation>;

  constructor(message: string, options?: { cause?: unknown; errors?: ReadonlyArray<FieldError | PolicyViolation> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.errors = options?.errors ?? [];
  }
}

export class ValidationError extends SlipwayError {
  override readonly name = 'ValidationError';
  readonly status = 400;
  readonly problemType = 'validation-error';
  readonly title = 'Invalid request';
}

export class MalformedRequestError extends SlipwayError {
  override readonly name = 'MalformedRequestError';
  readonly status = 400;
  readonly problemType = 'malformed-request';
  readonly title = 'Malformed request';
}

export class UnauthenticatedError extends SlipwayError {
  override readonly name = 'UnauthenticatedError';
  readonly status = 401;
  readonly problemType = 'unauthenticated';
  readonly title = 'Authentication required';
}

export class ForbiddenError extends SlipwayError {
  override readonly name = 'ForbiddenError';
  readonly status = 403;
  readonly problemType = 'forbidden';
  readonly title = 'Not allowed';
}

export class NotFoundError extends SlipwayError {
  override readonly name = 'NotFoundError';
  readonly status = 404;
  readonly problemType = 'not-found';
  readonly title = 'Not found';
}

export class MethodNotAllowedError extends SlipwayError {
  override readonly name = 'MethodNotAllowedError';
  readonly status = 405;
  readonly problemType = 'method-not-allowed';
  readonly title = 'Method not allowed';
}

/** The item exists already (create with a taken id/name). */
export class AlreadyExistsError extends SlipwayError {
  override readonly name = 'AlreadyExistsError';
  readonly status = 409;
  readonly problemType = 'already-exists';
  readonly title = 'Already exists';
}

/** Optimistic concurrency: the item changed since it was read, or the caller's generation is stale. */
export class ConcurrentModificationError extends SlipwayError {
  override readonly name = 'ConcurrentModificationError';
  readonly status = 409;
  readonly problemType = 'concurrent-modification';
  readonly title = 'Concurrent modification';
}

/** Another operation on the same cluster has not finished yet. */
export class OperationInFlightError extends SlipwayError {
  override readonly name = 'OperationInFlightError';
  readonly status = 409;
  readonly problemType = 'operation-in-flight';
  readonly title = 'Operation in flight';
}

/** The resource's current state does not allow the request (e.g. changing a cluster that is not Ready). */
export class ConflictError extends SlipwayError {
  override readonly name = 'ConflictError';
  readonly status = 409;
  readonly problemType = 'conflict';
  readonly title = 'Conflict with the current state';
}

/** The resource is still referenced (e.g. a network plan used by a cluster plan). */
export class InUseError extends SlipwayError {
  override readonly name = 'InUseError';
  readonly status = 409;
  readonly problemType = 'in-use';
  readonly title = 'Resource in use';
}

/** Same Idempotency-Key reused with a different request. */
export class IdempotencyKeyMismatchError extends SlipwayError {
  override readonly name = 'IdempotencyKeyMismatchError';
  readonly status = 422;
  readonly problemType = 'idempotency-key-mismatch';
  readonly title = 'Idempotency key reused with a different request';
}

/** Same Idempotency-Key while the first request is still being processed. */
export class IdempotencyKeyInProgressError extends SlipwayError {
  override readonly name = 'IdempotencyKeyInProgressError';
  readonly status = 409;
  readonly problemType = 'idempotency-key-in-progress';
  readonly title = 'A request with this idempotency key is in progress';
}

export class PolicyViolationError extends SlipwayError {
  override readonly name = 'PolicyViolationError';
  readonly status = 422;
  readonly problemType = 'policy-violation';
  readonly title = 'Request violates provisioning policy';
}

/** A reference in the request (plan, template, access…) is unknown or unusable. */
export class UnprocessableError extends SlipwayError {
  override readonly name = 'UnprocessableError';
  readonly status = 422;
  readonly problemType = 'unprocessable';
  readonly title = 'Request cannot be processed';
}

export class PayloadTooLargeError extends SlipwayError {
  override readonly name = 'PayloadTooLargeError';
  readonly status = 413;
  readonly problemType = 'payload-too-large';
  readonly title = 'Payload too large';
}

export class UnsupportedMediaTypeError extends SlipwayError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly status = 415;
  readonly problemType = 'unsupported-media-type';
  readonly title = 'Unsupported media type';
}

export class ThrottledError extends SlipwayError {
  override readonly name = 'ThrottledError';
  readonly status = 429;
  readonly problemType = 'throttled';
  readonly title = 'Too many requests';
}

/** Something the request needs (e.g. the workload cluster's API server) does not answer now: retry later. */
export class UnavailableError extends SlipwayError {
  override readonly name = 'UnavailableError';
  readonly status = 503;
  readonly problemType = 'unavailable';
  readonly title = 'Temporarily unavailable';
}

export const PROBLEM_TYPE_BASE = 'https://slipway.dev/problems/';
