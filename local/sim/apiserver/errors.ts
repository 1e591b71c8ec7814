/**
 * Errors of the simulated API server. Each carries the exact `Status` body a real kube-apiserver answers with,
 * so the store (used in-process by the simulated controllers) and the HTTP layer fail the same way, and the HTTP
 * layer only has to serialise `error.status`.
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** Identifies the resource an error is about, as the real server names it in messages and details. */
export interface ResourceId {
  /** API group, '' for core. */
  group: string;
  /** Plural resource name (`configmaps`), used by NotFound/AlreadyExists/Conflict. */
  plural: string;
  /** Kind (`ConfigMap`), used by Invalid. */
  kind: string;
}

function qualified(r: ResourceId, by: 'plural' | 'kind'): string {
  const base = by === 'plural' ? r.plural : r.kind;
  return r.group === '' ? base : `${base}.${r.group}`;
}

function failure(code: number, reason: string, message: string, details?: StatusDetails): Status {
  const body: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details !== undefined) body.details = details;
  return body;
}

function details(r: ResourceId, name: string, by: 'plural' | 'kind', extra?: Partial<StatusDetails>): StatusDetails {
  const d: StatusDetails = { name };
  if (r.group !== '') d.group = r.group;
  d.kind = by === 'plural' ? r.plural : r.kind;
  return { ...d, ...extra };
}

/** Base class: a failed API call with the Status the real server would have returned. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: Status;
  constructor(status: Status, options?: ErrorOptions) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`, options);
    this.status = status;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
  static of(r: ResourceId, name: string): NotFoundError {
    return new NotFoundError(failure(404, 'NotFound', `${qualified(r, 'plural')} "${name}" not found`, details(r, name, 'plural')));
  }
  /** The answer to a path no resource is served at. */
  static path(): NotFoundError {
    return new NotFoundError(failure(404, 'NotFound', 'the server could not find the requested resource', {}));
  }
}

export class AlreadyExistsError extends ApiError {
  override name = 'AlreadyExistsError';
  static of(r: ResourceId, name: string): AlreadyExistsError {
    return new AlreadyExistsError(
      failure(409, 'AlreadyExists', `${qualified(r, 'plural')} "${name}" already exists`, details(r, name, 'plural')),
    );
  }
}

/** Optimistic-concurrency failure (stale resourceVersion) or a server-side-apply field conflict. */
export class ConflictError extends ApiError {
  override name = 'ConflictError';
  static staleResourceVersion(r: ResourceId, name: string): ConflictError {
    return new ConflictError(
      failure(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(r, 'plural')} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        details(r, name, 'plural'),
      ),
    );
  }
  static uidPrecondition(r: ResourceId, name: string, want: string, have: string): ConflictError {
    return new ConflictError(
      failure(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(r, 'plural')} "${name}": Precondition failed: UID in precondition: ${want}, UID in object meta: ${have}`,
        details(r, name, 'plural'),
      ),
    );
  }
  static resourceVersionPrecondition(r: ResourceId, name: string, want: string, have: string): ConflictError {
    return new ConflictError(
      failure(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(r, 'plural')} "${name}": Precondition failed: ResourceVersion in precondition: ${want}, ResourceVersion in object meta: ${have}`,
        details(r, name, 'plural'),
      ),
    );
  }
  static fieldManagers(r: ResourceId, name: string, conflicts: { manager: string; apiVersion: string; field: string }[]): ConflictError {
    const causes = conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${c.manager}" using ${c.apiVersion}`,
      field: c.field,
    }));
    const lines = conflicts.map((c) => `conflict with "${c.manager}" using ${c.apiVersion}: ${c.field}`);
    const message =
      conflicts.length === 1
        ? `Apply failed with 1 conflict: ${lines[0]}`
        : `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
    return new ConflictError(failure(409, 'Conflict', message, details(r, name, 'plural', { causes })));
  }
}

export interface FieldError {
  field: string;
  /** FieldValueRequired, FieldValueInvalid, FieldValueForbidden, ... */
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueNotSupported';
  detail: string;
  value?: unknown;
}

function fieldErrorText(e: FieldError): string {
  switch (e.type) {
    case 'FieldValueRequired':
      return `${e.field}: Required value${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueForbidden':
      return `${e.field}: Forbidden: ${e.detail}`;
    case 'FieldValueNotSupported':
      return `${e.field}: Unsupported value: ${JSON.stringify(e.value)}: ${e.detail}`;
    default:
      return `${e.field}: Invalid value: ${JSON.stringify(e.value)}: ${e.detail}`;
  }
}

export class InvalidError extends ApiError {
  override name = 'InvalidError';
  static of(r: ResourceId, name: string, errors: FieldError[]): InvalidError {
    const texts = errors.map(fieldErrorText);
    const list = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
    const causes = errors.map((e, i) => ({ reason: e.type, message: texts[i]?.slice(e.field.length + 2), field: e.field }));
    return new InvalidError(
      failure(422, 'Invalid', `${qualified(r, 'kind')} "${name}" is invalid: ${list}`, details(r, name, 'kind', { causes })),
    );
  }
}

export class BadRequestError extends ApiError {
  override name = 'BadRequestError';
  static of(message: string): BadRequestError {
    return new BadRequestError(failure(400, 'BadRequest', message));
  }
}

export class ForbiddenError extends ApiError {
  override name = 'ForbiddenError';
  static namespaceTerminating(r: ResourceId, name: string, namespace: string): ForbiddenError {
    const message = `unable to create new content in namespace ${namespace} because it is being terminated`;
    return new ForbiddenError(
      failure(
        403,
        'Forbidden',
        `${qualified(r, 'plural')} "${name}" is forbidden: ${message}`,
        details(r, name, 'plural', { causes: [{ reason: 'NamespaceTerminating', message, field: 'metadata.namespace' }] }),
      ),
    );
  }
}

export class UnauthorizedError extends ApiError {
  override name = 'UnauthorizedError';
  static of(): UnauthorizedError {
    return new UnauthorizedError(failure(401, 'Unauthorized', 'Unauthorized'));
  }
}

export class MethodNotAllowedError extends ApiError {
  override name = 'MethodNotAllowedError';
  static of(method: string): MethodNotAllowedError {
    return new MethodNotAllowedError(failure(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`));
  }
}

export class UnsupportedMediaTypeError extends ApiError {
  override name = 'UnsupportedMediaTypeError';
  static of(contentType: string, accepted: readonly string[]): UnsupportedMediaTypeError {
    return new UnsupportedMediaTypeError(
      failure(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
        { causes: [{ reason: 'UnsupportedMediaType', message: contentType }] },
      ),
    );
  }
}

export class ServiceUnavailableError extends ApiError {
  override name = 'ServiceUnavailableError';
  static of(message = 'the server is currently unable to handle the request'): ServiceUnavailableError {
    return new ServiceUnavailableError(failure(503, 'ServiceUnavailable', message, { retryAfterSeconds: 1 }));
  }
}

/** A server-side failure; also what a real server answers for a storage error it has no better mapping for. */
export class InternalError extends ApiError {
  override name = 'InternalError';
  static of(message: string): InternalError {
    return new InternalError(failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }));
  }
  /** A storage error the API server does not map: it answers 500 with reason Unknown and the bare message. */
  static unmapped(message: string): InternalError {
    return new InternalError(failure(500, 'Unknown', message));
  }
}

/** Wraps any thrown value into a Status the HTTP layer can send (unknown errors become 500 InternalError). */
export function toStatus(err: unknown): Status {
  if (err instanceof ApiError) return err.status;
  const message = err instanceof Error ? err.message : String(err);
  return failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

/** The success Status returned by DELETE when the object was removed at once. */
export function successStatus(r: ResourceId, name: string, uid: string): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: details(r, name, 'plural', { uid }),
    code: 200,
  };
}
