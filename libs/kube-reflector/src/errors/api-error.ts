/**
 * A Kubernetes API request that got an HTTP answer other than success. `status` is
 * the HTTP status, `reason` the Status object's reason (`NotFound`, `Expired`,
 * `TooManyRequests`, ...) when the server sent one. `retryAfterSeconds` carries a
 * `Retry-After` header (or `details.retryAfterSeconds`) so callers can honour it.
 */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}
