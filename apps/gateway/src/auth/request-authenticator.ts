import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import {
  AuthenticationError,
  assertClusterAccess,
  bearerToken,
  type Principal,
  type TokenVerifier,
} from '@knm/auth';
import { TOKEN_VERIFIER } from '../common/injection-tokens.js';
import { OIDC, type OidcServices } from '../oidc/oidc-services.js';
import { setRequestPrincipal } from './request-principal.js';

/** Methods that change nothing: a session cookie needs no Origin check for them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Who a request is and whether it may touch the cluster it names: what the global
 * {@link AuthGuard} checks before every non-public route, and the cached REST routes
 * (`cached-routes.ts`) before their answer. `Authorization: Bearer <token>` (401 when
 * missing, expired or forged, or when the URL carries `access_token` or `token`: a
 * token in a URL ends up in access logs) or, without one, a dashboard session cookie
 * (see `SessionAuthenticator`); a request naming a cluster (`:cluster` or
 * `?cluster_name=`) needs a token covering it (403), checked before anything about
 * the cluster is read, so a 403 never tells whether the cluster exists.
 */
@Injectable()
export class RequestAuthenticator {
  constructor(
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    @Inject(OIDC) private readonly oidc: OidcServices | null,
  ) {}

  /**
   * Authenticates `request` and checks its cluster scope; remembers the principal on
   * the request ({@link requestPrincipal}). Answers at once (no promise) when the
   * request carries a bearer token verified before: a hot route can then start its
   * reads in the same turn of the event loop. Throws (or rejects with)
   * `AuthenticationError` or `ForbiddenError`.
   */
  authenticate(request: FastifyRequest): Principal | Promise<Principal> {
    const query = request.query as Record<string, unknown> | undefined;
    if (query?.['access_token'] !== undefined || query?.['token'] !== undefined) {
      throw new AuthenticationError(
        'invalid',
        'a token in the URL is refused (it would end up in access logs): send Authorization: Bearer <token>',
      );
    }
    const header = request.headers.authorization;
    if (header !== undefined || !this.oidc) {
      const token = bearerToken(header);
      const known = this.verifier.verifiedBefore(token);
      if (known) return this.admit(request, known);
      return this.verifier.verify(token).then((principal) => this.admit(request, principal));
    }
    const sessions = this.oidc.sessions;
    return sessions
      .fromRequest(request.headers, !SAFE_METHODS.has(request.method))
      .then((session) => session ?? this.verifier.verify(undefined))
      .then((principal) => this.admit(request, principal));
  }

  private admit(request: FastifyRequest, principal: Principal): Principal {
    setRequestPrincipal(request, principal);
    const params = request.params as Record<string, string | undefined> | undefined;
    const query = request.query as Record<string, unknown> | undefined;
    const cluster =
      params?.['cluster'] ??
      (typeof query?.['cluster_name'] === 'string' ? query['cluster_name'] : undefined);
    if (cluster !== undefined) assertClusterAccess(principal, cluster);
    return principal;
  }
}
