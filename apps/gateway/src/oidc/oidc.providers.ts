import type { Provider } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Keyspace } from '@knm/contracts';
import type { RedisClient } from '@knm/node-store';
import type { GatewayConfig } from '../config/gateway-config.js';
import { RateLimiter } from '../security/rate-limiter.js';
import { IdentityProvider } from './identity-provider.js';
import { OidcController } from './oidc.controller.js';
import { OIDC, type OidcServices } from './oidc-services.js';
import { SessionAuthenticator } from './session-authenticator.js';
import { SessionStore } from './session-store.js';

/** The sign-in routes (they answer 404 / `oidc: false` without `KNM_OIDC_ISSUER`). */
export const OIDC_CONTROLLERS = [OidcController];

/** The {@link OIDC} provider: the sign-in services, or null when OIDC is not configured. */
export function oidcProviders(
  config: GatewayConfig,
  redis: RedisClient,
  keyspace: Keyspace,
  logger: Logger,
): Provider[] {
  let services: OidcServices | null = null;
  if (config.oidc) {
    const store = new SessionStore(redis, keyspace);
    const provider = new IdentityProvider(config.oidc, logger.child({ component: 'oidc' }));
    const sessions = new SessionAuthenticator(config.oidc, store, provider, new Set(config.corsOrigins));
    const logins = new RateLimiter(
      redis,
      keyspace,
      'login',
      { limit: config.oidc.loginLimit, windowMs: 60_000 },
      logger,
    );
    services = { config: config.oidc, store, provider, sessions, logins };
  }
  return [{ provide: OIDC, useValue: services }];
}
