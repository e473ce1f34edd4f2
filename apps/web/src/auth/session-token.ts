import { AuthClaimsSchema, type AuthClaims } from '@knm/contracts';
import type { KeyValueStorage } from '../storage/dashboard-storage.js';

/** The sessionStorage key the token is kept under (per tab, gone when the tab closes). */
export const TOKEN_STORAGE_KEY = 'knm.token';

/** A token the dashboard cannot use, with what to do about it. */
export class TokenFormatError extends Error {
  override readonly name = 'TokenFormatError';
}

/** What the dashboard reads from a token (the gateway verifies it; this only drives the UI). */
export interface SessionClaims extends AuthClaims {
  /** Expiry (ms since the epoch), when the token has one. */
  expiresAt?: number;
}

function base64UrlDecode(part: string): string {
  const padded = part
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(part.length / 4) * 4, '=');
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * Reads the knm claims of a JWT WITHOUT verifying it: the gateway verifies every
 * request; the dashboard only needs the role (to hide buttons a viewer may not
 * use), the subject and the expiry. Throws {@link TokenFormatError} when the text
 * is not a JWT carrying knm claims.
 */
export function readClaims(token: string): SessionClaims {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !parts[1])
    throw new TokenFormatError('not a JWT: expected three dot-separated parts');
  let payload: unknown;
  try {
    payload = JSON.parse(base64UrlDecode(parts[1]));
  } catch {
    throw new TokenFormatError('not a JWT: the payload is not base64url-encoded JSON');
  }
  const claims = AuthClaimsSchema.safeParse(payload);
  if (!claims.success) {
    throw new TokenFormatError(
      `not a knm token: ${claims.error.issues.map((i) => i.message).join('; ')} (create one with npm run token)`,
    );
  }
  const exp = (payload as { exp?: unknown }).exp;
  return typeof exp === 'number' ? { ...claims.data, expiresAt: exp * 1000 } : claims.data;
}

/**
 * Takes a token out of a URL fragment `#token=<jwt>` (the local demo's automatic
 * sign-in: a fragment never reaches a server or its logs). Returns the token and
 * the fragment without it, or undefined when there is none.
 */
export function takeTokenFromFragment(hash: string): { token: string; rest: string } | undefined {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token');
  if (!token) return undefined;
  params.delete('token');
  const rest = params.toString();
  return { token, rest: rest ? `#${rest}` : '' };
}

/**
 * The signed-in token of this tab: moved from the URL fragment to sessionStorage on
 * start, set by the sign-in form, cleared on sign-out or when the gateway answers 401.
 */
export class SessionToken {
  constructor(private readonly storage: KeyValueStorage) {}

  /** The stored token, if any. */
  get(): string | undefined {
    return this.storage.getItem(TOKEN_STORAGE_KEY) ?? undefined;
  }

  /** Stores `token` after checking it reads as a knm token; returns its claims. */
  set(token: string): SessionClaims {
    const claims = readClaims(token);
    this.storage.setItem(TOKEN_STORAGE_KEY, token.trim());
    return claims;
  }

  clear(): void {
    this.storage.removeItem(TOKEN_STORAGE_KEY);
  }

  /**
   * Adopts a `#token=` fragment when present: stores it and returns the fragment to
   * leave in the address bar (without the token), so it is neither bookmarked nor
   * shared by accident. Returns undefined when the fragment carries no token.
   */
  adoptFragment(hash: string): { rest: string; error?: string } | undefined {
    const taken = takeTokenFromFragment(hash);
    if (!taken) return undefined;
    try {
      this.set(taken.token);
      return { rest: taken.rest };
    } catch (err) {
      return { rest: taken.rest, error: err instanceof Error ? err.message : String(err) };
    }
  }
}
