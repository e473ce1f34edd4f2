import { SignJWT } from 'jose';
import { AuthClaimsSchema, decode, type AuthClaims } from '@knm/contracts';

/** Options of {@link signToken}. */
export interface SignTokenOptions {
  /** The HS256 secret (at least 32 bytes). */
  secret: string | Uint8Array;
  /** Lifetime in seconds. Default 8 hours. */
  ttlSeconds?: number;
  /** `iss` claim. Default none. */
  issuer?: string;
  /** `aud` claim. Default none. */
  audience?: string;
  /** Time source. Default `() => new Date()`. */
  clock?: () => Date;
}

/** The shortest HS256 secret accepted (RFC 7518 asks for a key at least as long as the hash). */
export const MIN_SECRET_BYTES = 32;

/** The secret as bytes; throws a RangeError when it is too short to be safe. */
export function secretBytes(secret: string | Uint8Array): Uint8Array {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new RangeError(
      `the JWT secret must be at least ${MIN_SECRET_BYTES} bytes (got ${bytes.length}); set KNM_JWT_SECRET to a long random string`,
    );
  }
  return bytes;
}

/**
 * Signs a knm token (HS256) carrying `sub`, `role` and `clusters`, with `iat` and
 * `exp`. The claims are validated first, so a token this returns always verifies.
 */
export async function signToken(claims: AuthClaims, options: SignTokenOptions): Promise<string> {
  const valid = decode(AuthClaimsSchema, claims, 'token claims');
  const now = Math.floor((options.clock?.() ?? new Date()).getTime() / 1000);
  let jwt = new SignJWT({ role: valid.role, clusters: valid.clusters })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(valid.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.ttlSeconds ?? 8 * 3600));
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(secretBytes(options.secret));
}
