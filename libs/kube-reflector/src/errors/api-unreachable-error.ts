/**
 * The API server could not be reached or the connection broke (refused, reset, DNS,
 * TLS, a body cut short). Transient by nature: the reflector backs off and retries.
 * `cause` holds the underlying error.
 */
export class ApiUnreachableError extends Error {
  override name = 'ApiUnreachableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
