import { AuthenticationError } from './auth-errors.js';

/**
 * The token of an `Authorization: Bearer <token>` header; `undefined` when there is
 * no header. Throws {@link AuthenticationError} (`invalid`) for another scheme.
 */
export function bearerToken(header: string | readonly string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value as string);
  if (!match) throw new AuthenticationError('invalid', 'Authorization header must be "Bearer <token>"');
  return match[1];
}
