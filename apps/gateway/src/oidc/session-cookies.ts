/** The cookie holding the dashboard session's id. */
export const SESSION_COOKIE = 'knm_session';
/** The cookie binding a sign-in in progress to this browser. */
export const LOGIN_COOKIE = 'knm_login';
/** The login cookie is only sent to the sign-in routes. */
export const AUTH_PATH = '/api/v1/auth';

/** The value of cookie `name` in a `Cookie` header, if present. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{16,128}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/**
 * A `Set-Cookie` value: HttpOnly (no script reads it), SameSite=Lax (sent on the
 * provider's redirect back, a top-level GET, but not on other sites' requests),
 * Secure when the page is served over https. `maxAgeSeconds` 0 deletes it.
 */
export function cookie(
  name: string,
  value: string,
  options: { secure: boolean; maxAgeSeconds: number; path?: string },
): string {
  return [
    `${name}=${value}`,
    `Path=${options.path ?? '/'}`,
    `Max-Age=${options.maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
