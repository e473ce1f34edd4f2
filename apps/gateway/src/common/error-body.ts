import { HttpException, HttpStatus } from '@nestjs/common';
import { AuthenticationError, ForbiddenError } from '@knm/auth';
import { ContractError, listedIssues, type ErrorBody } from '@knm/contracts';
import { NodesBusyError, OperationFinishedError } from '@knm/node-ops';
import { InvalidQueryError, StaleContinueError } from '@knm/node-query';
import { RateLimitedError } from '../security/rate-limiter.js';

/** A resource the caller asked for does not exist (404). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/**
 * What the gateway relays for another process could not be had: that process failed
 * (502), none is there to ask (503), or it did not answer in time (504); or it says
 * the thing does not exist (404). The message says which, for a person to act on.
 */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';

  constructor(
    readonly status: 404 | 502 | 503 | 504,
    message: string,
  ) {
    super(message);
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  406: 'Not Acceptable',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function body(
  statusCode: number,
  message: string,
  details?: readonly { path: string; message: string }[],
): ErrorBody {
  const out: ErrorBody = { statusCode, error: REASONS[statusCode] ?? 'Error', message };
  if (details && details.length > 0) out.details = listedIssues(details);
  return out;
}

/**
 * The REST error body for any error the gateway may throw: each typed error maps to
 * its status (ContractError/InvalidQueryError 400, AuthenticationError 401,
 * ForbiddenError 403, NotFoundError 404, UpstreamError its status, NodesBusyError and OperationFinishedError 409, StaleContinueError 410, RateLimitedError 429, Nest's
 * HttpExceptions as they say); anything else is a 500 whose message says nothing
 * internal.
 */
export function errorBodyOf(err: unknown): ErrorBody {
  if (err instanceof ContractError) return body(400, err.message, err.issues);
  if (err instanceof InvalidQueryError) return body(400, err.message, err.details);
  if (err instanceof AuthenticationError) return body(401, err.message);
  if (err instanceof ForbiddenError) return body(403, err.message);
  if (err instanceof NotFoundError) return body(404, err.message);
  if (err instanceof UpstreamError) return body(err.status, err.message);
  if (err instanceof NodesBusyError || err instanceof OperationFinishedError) return body(409, err.message);
  if (err instanceof StaleContinueError) return body(410, err.message);
  if (err instanceof RateLimitedError) return body(429, err.message);
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const response = err.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? String((response as { message: unknown }).message)
        : err.message;
    return body(status, message);
  }
  return body(HttpStatus.INTERNAL_SERVER_ERROR, 'internal error; see the gateway log');
}
