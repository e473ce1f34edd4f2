/**
 * metav1.Status errors exactly as the API server builds them (apimachinery
 * `pkg/api/errors/errors.go`): same codes, reasons, details and message wording,
 * because kubectl prints `Error from server (<reason>): <message>` from them and
 * client libraries branch on `reason`.
 */
import type { JsonObject } from './kube-object.js';

/** metav1.StatusCause: one field-level problem (`reason` is the cause type, e.g. `FieldValueInvalid`). */
export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

/** The machine-readable reasons kube-sim answers with (metav1.StatusReason). */
export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Expired'
  | 'TooManyRequests'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout'
  | 'Unauthorized'
  | 'Forbidden';

/**
 * An API error carrying the full Status body to send (`status`) and its HTTP code.
 * Thrown by the API layer, caught by the HTTP layer, which writes `status` as JSON
 * with `code` as the HTTP status. Branch on `instanceof` and `reason`, never on the message.
 */
export class ApiStatusError extends Error {
  override readonly name = 'ApiStatusError';
  /** The HTTP status code (also `status.code`). */
  readonly code: number;
  /** The machine-readable reason (also `status.reason`). */
  readonly reason: StatusReason;
  /** The whole metav1.Status body, ready to serialize. */
  readonly status: JsonObject;

  /** `listMeta`: the Status's own ListMeta (a 410 on a compacted list carries a `continue` there). */
  constructor(
    code: number,
    reason: StatusReason,
    message: string,
    details?: JsonObject,
    listMeta?: JsonObject,
  ) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: listMeta ?? {},
      status: 'Failure',
      message,
      reason,
      ...(details !== undefined && Object.keys(details).length > 0 ? { details } : {}),
      code,
    };
  }
}

/** `resource` or `resource.group`, as schema.GroupResource.String(). */
function qualified(resource: string, group: string | undefined): string {
  return group ? `${resource}.${group}` : resource;
}

/** StatusDetails without the empty fields Go's `omitempty` would drop. */
function details(fields: {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
}): JsonObject {
  const out: JsonObject = {};
  if (fields.name) out['name'] = fields.name;
  if (fields.group) out['group'] = fields.group;
  if (fields.kind) out['kind'] = fields.kind;
  if (fields.causes && fields.causes.length > 0) {
    out['causes'] = fields.causes.map((c) => {
      const cause: JsonObject = {};
      if (c.reason) cause['reason'] = c.reason;
      cause['message'] = c.message;
      if (c.field) cause['field'] = c.field;
      return cause;
    });
  }
  return out;
}

/** field.ErrorList.ToAggregate().Error(): one error as is, several as `[a, b]`. */
function aggregate(causes: readonly StatusCause[]): string {
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  return parts.length === 1 ? (parts[0] ?? '') : `[${parts.join(', ')}]`;
}

/** The media types a PATCH accepts, in the order the API server lists them. */
export const PATCH_MEDIA_TYPES: readonly string[] = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

/** The message of a Conflict on a stale resourceVersion, word for word as the registry's. */
export const OPTIMISTIC_LOCK_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again';

/**
 * Builders for every error kube-sim answers with; each returns a new {@link ApiStatusError}
 * whose Status matches the real API server's for the same situation.
 */
export const statusErrors = {
  /** 404 NotFound: `nodes "x" not found` (or `daemonsets.apps "x" not found` with a group). */
  notFound(resource: string, name: string, group?: string): ApiStatusError {
    return new ApiStatusError(
      404,
      'NotFound',
      `${qualified(resource, group)} ${JSON.stringify(name)} not found`,
      details({ name, group, kind: resource }),
    );
  },
  /** 409 AlreadyExists: `nodes "x" already exists`. */
  alreadyExists(resource: string, name: string, group?: string): ApiStatusError {
    return new ApiStatusError(
      409,
      'AlreadyExists',
      `${qualified(resource, group)} ${JSON.stringify(name)} already exists`,
      details({ name, group, kind: resource }),
    );
  },
  /**
   * 409 Conflict: `Operation cannot be fulfilled on nodes "x": <message>`; for a stale
   * resourceVersion pass {@link OPTIMISTIC_LOCK_MESSAGE}.
   */
  conflict(resource: string, name: string, message: string, group?: string): ApiStatusError {
    return new ApiStatusError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(resource, group)} ${JSON.stringify(name)}: ${message}`,
      details({ name, group, kind: resource }),
    );
  },
  /**
   * 422 Invalid: `Node "x" is invalid: spec.taints[0].effect: Unsupported value: ...` with
   * `details.causes`. Each cause's `message` is the error body (without the field), as upstream.
   */
  invalid(kind: string, name: string, causes: StatusCause[], group?: string): ApiStatusError {
    return new ApiStatusError(
      422,
      'Invalid',
      `${qualified(kind, group)} ${JSON.stringify(name)} is invalid: ${aggregate(causes)}`,
      details({ name, group, kind, causes }),
    );
  },
  /** 400 BadRequest with the message as given (bad selectors, bodies, parameters). */
  badRequest(message: string): ApiStatusError {
    return new ApiStatusError(400, 'BadRequest', message);
  },
  /**
   * 410 Expired (too old resourceVersion, compacted continue token); `continueToken`
   * goes into the Status's `metadata.continue` (the inconsistent continuation offered
   * for a compacted paged list).
   */
  expired(message: string, continueToken?: string): ApiStatusError {
    return new ApiStatusError(
      410,
      'Expired',
      message,
      undefined,
      continueToken !== undefined ? { continue: continueToken } : undefined,
    );
  },
  /** 429 TooManyRequests; `details.retryAfterSeconds` when given (the HTTP layer also sets Retry-After). */
  tooManyRequests(message: string, retryAfterSeconds?: number): ApiStatusError {
    return new ApiStatusError(
      429,
      'TooManyRequests',
      message,
      retryAfterSeconds !== undefined ? { retryAfterSeconds } : undefined,
    );
  },
  /** 405 MethodNotAllowed: `update is not supported on resources of kind "namespaces"`. */
  methodNotSupported(resource: string, verb: string, group?: string): ApiStatusError {
    return new ApiStatusError(
      405,
      'MethodNotAllowed',
      `${verb} is not supported on resources of kind ${JSON.stringify(qualified(resource, group))}`,
      details({ group, kind: resource }),
    );
  },
  /**
   * 415 UnsupportedMediaType, worded like the API server's negotiation error; the
   * rejected content type goes into `details.causes` for the curious.
   */
  unsupportedMediaType(contentType: string, accepted: readonly string[] = PATCH_MEDIA_TYPES): ApiStatusError {
    return new ApiStatusError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
      details({ causes: [{ message: `unsupported content type ${JSON.stringify(contentType)}` }] }),
    );
  },
  /** 500 InternalError: `Internal error occurred: <message>`, the message also as the single cause. */
  internal(message: string): ApiStatusError {
    return new ApiStatusError(500, 'InternalError', `Internal error occurred: ${message}`, {
      causes: [{ message }],
    });
  },
  /** 503 ServiceUnavailable with the message as given. */
  serviceUnavailable(message: string): ApiStatusError {
    return new ApiStatusError(503, 'ServiceUnavailable', message);
  },
  /** 401 Unauthorized, as the API server answers a request without valid credentials. */
  unauthorized(): ApiStatusError {
    return new ApiStatusError(401, 'Unauthorized', 'Unauthorized');
  },
  /**
   * 504 Timeout for a resourceVersion the server has not reached yet:
   * `Too large resource version: <rv>, current: <current>`, retry after 1 s.
   */
  resourceVersionTooLarge(resourceVersion: number, current: number): ApiStatusError {
    return new ApiStatusError(
      504,
      'Timeout',
      `Too large resource version: ${resourceVersion}, current: ${current}`,
      {
        causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
        retryAfterSeconds: 1,
      },
    );
  },
};

/**
 * A success Status (what DELETE of a collection or some subresources answer):
 * `{kind:'Status',apiVersion:'v1',metadata:{},status:'Success', details?}`.
 */
export function successStatus(statusDetails?: JsonObject): JsonObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    ...(statusDetails !== undefined ? { details: statusDetails } : {}),
  };
}
