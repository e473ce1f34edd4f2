/** Why a request could not be authenticated. */
export type AuthenticationFailure = 'missing' | 'expired' | 'invalid';

/**
 * The caller is not authenticated: no token, an expired one, or one that is forged,
 * malformed, signed with a refused algorithm or lacks the knm claims. Maps to 401.
 * The message never contains the token.
 */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';

  constructor(
    readonly reason: AuthenticationFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The caller is authenticated but its token does not cover what it asked for. Maps to 403. */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}
