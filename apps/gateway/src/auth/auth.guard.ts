import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AuthenticationError, assertClusterAccess, bearerToken, type TokenVerifier } from '@knm/auth';
import { TOKEN_VERIFIER } from '../common/injection-tokens.js';
import { OIDC, type OidcServices } from '../oidc/oidc-services.js';
import { IS_PUBLIC } from './public.decorator.js';
import { setRequestPrincipal } from './request-principal.js';

/** Methods that change nothing: a session cookie needs no Origin check for them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The global HTTP guard: every route but those marked {@link Public} needs
 * `Authorization: Bearer <token>` (401 when missing, expired or forged, or when the URL
 * carries `access_token` or `token`: a token in a URL ends up in access logs) or, without
 * one, a dashboard session cookie (see `SessionAuthenticator`), and a route
 * naming a cluster (`:cluster` or `?cluster_name=`) needs a token covering it (403),
 * checked before anything about the cluster is read, so a 403 never tells whether
 * the cluster exists.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    @Inject(OIDC) private readonly oidc: OidcServices | null,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const query = request.query as Record<string, unknown> | undefined;
    if (query?.['access_token'] !== undefined || query?.['token'] !== undefined) {
      throw new AuthenticationError(
        'invalid',
        'a token in the URL is refused (it would end up in access logs): send Authorization: Bearer <token>',
      );
    }
    const header = request.headers.authorization;
    const session =
      header === undefined && this.oidc
        ? await this.oidc.sessions.fromRequest(request.headers, !SAFE_METHODS.has(request.method))
        : undefined;
    const principal = session ?? (await this.verifier.verify(bearerToken(header)));
    setRequestPrincipal(request, principal);
    const params = request.params as Record<string, string | undefined> | undefined;
    const cluster =
      params?.['cluster'] ??
      (typeof query?.['cluster_name'] === 'string' ? query['cluster_name'] : undefined);
    if (cluster !== undefined) assertClusterAccess(principal, cluster);
    return true;
  }
}
