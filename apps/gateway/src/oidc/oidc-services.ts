import type { RateLimiter } from '../security/rate-limiter.js';
import type { IdentityProvider } from './identity-provider.js';
import type { OidcConfig } from './oidc-config.js';
import type { SessionAuthenticator } from './session-authenticator.js';
import type { SessionStore } from './session-store.js';

/** Everything dashboard sign-in needs; the OIDC injection token holds it, or null when OIDC is off. */
export interface OidcServices {
  config: OidcConfig;
  store: SessionStore;
  provider: IdentityProvider;
  sessions: SessionAuthenticator;
  /** Sign-ins started per client address (`KNM_OIDC_LOGIN_LIMIT` per minute). */
  logins: RateLimiter;
}

/** Nest injection token of {@link OidcServices} (`null` without `KNM_OIDC_ISSUER`). */
export const OIDC = Symbol('OIDC');
