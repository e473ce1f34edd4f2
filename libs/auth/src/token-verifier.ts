import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import { AuthClaimsSchema, type AuthClaims } from '@knm/contracts';
import { AuthenticationError } from './auth-errors.js';
import { secretBytes } from './sign-token.js';

/** Options of {@link TokenVerifier}; at least one of `secret` and `jwksUrl` is required. */
export interface TokenVerifierOptions {
  /** HS256 secret (`KNM_JWT_SECRET`). Default none. */
  secret?: string | Uint8Array;
  /** JWKS URL of an identity provider whose RS256/ES256/EdDSA tokens are accepted. Default none. */
  jwksUrl?: string;
  /** Required `iss`. Default: not checked. */
  issuer?: string;
  /** Required `aud`. Default: not checked. */
  audience?: string;
  /**
   * The longest lifetime left a token may have, in seconds (`exp` minus now): a token
   * valid for longer is refused, however it was signed, so a leaked token cannot
   * outlive this bound. Default {@link DEFAULT_MAX_TOKEN_TTL_SECONDS} (24 h).
   */
  maxTtlSeconds?: number;
  /** Tolerated clock skew in seconds. Default 5. */
  clockToleranceSeconds?: number;
  /** Time source. Default `() => new Date()`. */
  clock?: () => Date;
}

/** A verified caller: the token's knm claims and when it expires. */
export interface Principal extends AuthClaims {
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** The identity provider's groups (a dashboard session; knm tokens carry none). */
  groups?: string[];
}

/** Default of {@link TokenVerifierOptions.maxTtlSeconds}: 24 hours (`KNM_MAX_TOKEN_TTL`). */
export const DEFAULT_MAX_TOKEN_TTL_SECONDS = 86_400;

/**
 * HS256 tokens kept verified (until their expiry), most recent last. Verifying one is
 * an HMAC through WebCrypto, an async job that cost a tenth of a gateway's CPU per
 * cached REST answer; an API client sends the same token with every request.
 */
const VERIFIED_TOKENS = 10_000;

/** The algorithms accepted with a JWKS (asymmetric only: an HMAC key in a JWKS would be a confusion risk). */
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];

/**
 * Verifies knm tokens. HS256 tokens are checked with the secret, tokens with any
 * other `alg` against the JWKS (when configured); `alg: none`, HS384/HS512 and
 * anything else are refused. `exp` is required and at most `maxTtlSeconds` away; the
 * claims are checked (`sub` printable and bounded). Every failure is an
 * {@link AuthenticationError} whose `reason` says `expired` or `invalid`; messages
 * never contain the token.
 */
export class TokenVerifier {
  private readonly secret: Uint8Array | undefined;
  private readonly jwks: JWTVerifyGetKey | undefined;
  private readonly options: TokenVerifierOptions;
  /**
   * HS256 tokens that verified, by their exact text: the same bytes under the same
   * secret verify the same way until `exp`, which is checked again at every use
   * (nothing else of a verified token can change: `nbf` has passed, the claims are in
   * the signed bytes). JWKS tokens are always verified again: a key the provider
   * withdraws must stop working at once.
   */
  private readonly verified = new Map<string, Principal>();

  constructor(options: TokenVerifierOptions) {
    if (options.secret === undefined && options.jwksUrl === undefined) {
      throw new RangeError('a token verifier needs a secret (KNM_JWT_SECRET) or a JWKS URL');
    }
    this.options = options;
    this.secret = options.secret === undefined ? undefined : secretBytes(options.secret);
    this.jwks = options.jwksUrl === undefined ? undefined : createRemoteJWKSet(new URL(options.jwksUrl));
  }

  /** Verifies `token` and returns its principal, or throws {@link AuthenticationError}. */
  async verify(token: string | undefined): Promise<Principal> {
    if (token === undefined || token === '') {
      throw new AuthenticationError('missing', 'no token: send "Authorization: Bearer <token>"');
    }
    const known = this.verifiedBefore(token);
    if (known) return known;
    const tolerance = this.options.clockToleranceSeconds ?? 5;
    const common: JWTVerifyOptions = {
      requiredClaims: ['exp', 'sub'],
      clockTolerance: this.options.clockToleranceSeconds ?? 5,
      ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
      ...(this.options.audience ? { audience: this.options.audience } : {}),
      ...(this.options.clock ? { currentDate: this.options.clock() } : {}),
    };
    let payload: JWTPayload;
    try {
      const alg = headerAlg(token);
      if (alg === 'HS256' && this.secret) {
        payload = (await jwtVerify(token, this.secret, { ...common, algorithms: ['HS256'] })).payload;
      } else if (alg !== 'HS256' && this.jwks && JWKS_ALGORITHMS.includes(alg)) {
        payload = (await jwtVerify(token, this.jwks, { ...common, algorithms: JWKS_ALGORITHMS })).payload;
      } else {
        throw new AuthenticationError('invalid', `token algorithm "${alg}" is not accepted`);
      }
    } catch (err) {
      throw toAuthenticationError(err);
    }
    const claims = AuthClaimsSchema.safeParse(payload);
    if (!claims.success) {
      const problems = claims.error.issues.map((i) => `${i.path.join('.') || 'claims'}: ${i.message}`);
      throw new AuthenticationError('invalid', `token lacks valid knm claims (${problems.join('; ')})`);
    }
    const exp = payload.exp ?? 0;
    const maxTtl = this.options.maxTtlSeconds ?? DEFAULT_MAX_TOKEN_TTL_SECONDS;
    if (exp - this.nowSeconds() > maxTtl + tolerance) {
      throw new AuthenticationError(
        'invalid',
        `token is valid for longer than this gateway accepts (${maxTtl} s, KNM_MAX_TOKEN_TTL): get a shorter-lived one`,
      );
    }
    const principal: Principal = { ...claims.data, exp };
    if (this.secret && headerAlg(token) === 'HS256') this.remember(token, principal);
    return { ...principal };
  }

  /**
   * The principal of `token` when it is an HS256 token this verifier has verified
   * before and it has not expired since, without waiting for anything (the answer
   * {@link verify} would give); `undefined` otherwise: then call {@link verify}, which
   * verifies it (or says why it is refused). Lets a hot route authenticate a known
   * token in the same turn of the event loop as the request arrived.
   */
  verifiedBefore(token: string | undefined): Principal | undefined {
    if (token === undefined) return undefined;
    const known = this.verified.get(token);
    if (!known) return undefined;
    // As jose's own check: expired once exp <= now - tolerance.
    if (known.exp > this.nowSeconds() - (this.options.clockToleranceSeconds ?? 5)) return { ...known };
    this.verified.delete(token);
    return undefined;
  }

  private nowSeconds(): number {
    return Math.floor((this.options.clock?.() ?? new Date()).getTime() / 1000);
  }

  private remember(token: string, principal: Principal): void {
    if (this.verified.size >= VERIFIED_TOKENS) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(token, principal);
  }
}

function headerAlg(token: string): string {
  const [header] = token.split('.');
  try {
    const decoded = JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8')) as unknown;
    if (decoded && typeof decoded === 'object' && 'alg' in decoded && typeof decoded.alg === 'string') {
      return decoded.alg;
    }
  } catch {
    // Falls through to the error below.
  }
  throw new AuthenticationError('invalid', 'token is not a JWT (unreadable header)');
}

function toAuthenticationError(err: unknown): AuthenticationError {
  if (err instanceof AuthenticationError) return err;
  if (err instanceof joseErrors.JWTExpired) {
    return new AuthenticationError('expired', 'token expired: get a new one', { cause: err });
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new AuthenticationError('invalid', 'token signature does not verify', { cause: err });
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return new AuthenticationError('invalid', `token claim "${err.claim}" is not valid (${err.reason})`, {
      cause: err,
    });
  }
  if (err instanceof joseErrors.JOSEError) {
    return new AuthenticationError('invalid', `token is not valid (${err.code})`, { cause: err });
  }
  return new AuthenticationError('invalid', 'token could not be verified', { cause: err });
}
