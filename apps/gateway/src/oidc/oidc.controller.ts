import { Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AuthenticationError, ForbiddenError } from '@knm/auth';
import type { AllowedClusters, Role } from '@knm/contracts';
import { LOGGER } from '../common/injection-tokens.js';
import { RateLimitedError } from '../security/rate-limiter.js';
import { Public } from '../auth/public.decorator.js';
import { NotFoundError } from '../common/error-body.js';
import { SignInRefusedError } from './identity-provider.js';
import { OIDC, type OidcServices } from './oidc-services.js';
import { sessionFor } from './person-grant.js';
import { SessionCipher } from './session-cipher.js';
import { AUTH_PATH, cookie, LOGIN_COOKIE, readCookie, SESSION_COOKIE } from './session-cookies.js';
import { LOGIN_TTL_SECONDS } from './session-store.js';

/** `GET /api/v1/auth/session`: who this browser is signed in as, or why not. */
export type SessionResponse =
  | { signedIn: true; sub: string; role: Role; clusters: AllowedClusters; groups: string[]; renewAt: number }
  | { signedIn: false; oidc: boolean; error?: string };

/**
 * Dashboard sign-in through the OpenID Provider. The browser only ever holds an
 * opaque, HttpOnly session cookie; the provider's tokens stay in the gateway's
 * sealed session (see {@link SessionStore}):
 * - `GET /api/v1/auth/login` -> 302 to the provider (code + PKCE, state, nonce),
 *   binding the attempt to this browser with a short-lived login cookie
 * - `GET /api/v1/auth/callback` -> checks it all, maps the person's groups to a role,
 *   sets the session cookie, 302 to `/`; a refusal is kept for `session` to tell, then `/`
 * - `GET /api/v1/auth/session` -> {@link SessionResponse} (renews the session when due)
 * - `POST /api/v1/auth/logout` -> ends the session, revokes its refresh token, and
 *   answers the provider's end-session URL for the browser to visit
 */
@Public()
@Controller('api/v1/auth')
export class OidcController {
  constructor(
    @Inject(OIDC) private readonly oidc: OidcServices | null,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get('login')
  async login(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const oidc = this.required();
    // Each sign-in started writes a login record: a limit per address keeps any client
    // from filling Redis with them.
    const client = request.ip ?? 'unknown';
    const decision = await oidc.logins.hit(client);
    if (!decision.allowed) throw RateLimitedError.of(decision, `too many sign-ins started from ${client}`);
    const redirectUri = oidc.config.redirectUri ?? `${originOf(request)}${AUTH_PATH}/callback`;
    const { url, record } = await oidc.provider.startLogin(redirectUri);
    const loginId = SessionCipher.newId();
    await oidc.store.saveLogin(loginId, record);
    void reply
      .header('cache-control', 'no-store')
      .header(
        'set-cookie',
        cookie(LOGIN_COOKIE, loginId, {
          secure: secure(request),
          maxAgeSeconds: LOGIN_TTL_SECONDS,
          path: AUTH_PATH,
        }),
      )
      .redirect(url.toString(), 302);
  }

  @Get('callback')
  async callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const oidc = this.required();
    const loginId = readCookie(request.headers.cookie, LOGIN_COOKIE);
    const record = loginId === undefined ? undefined : await oidc.store.getLogin(loginId);
    if (loginId === undefined || record === undefined || 'error' in record) {
      throw new AuthenticationError(
        'invalid',
        'no sign-in is in progress in this browser (or it took more than 10 minutes): start again from the dashboard',
      );
    }
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    void reply.header('cache-control', 'no-store');
    let sessionId: string;
    let refreshToken: string | undefined;
    try {
      const identity = await oidc.provider.finishLogin(record, query);
      refreshToken = identity.refreshToken;
      const session = sessionFor(identity, oidc.config, Date.now() + oidc.config.sessionTtlSeconds * 1000);
      sessionId = await oidc.store.create(session);
      this.logger.info({ user: session.sub, role: session.role, clusters: session.clusters }, 'signed in');
    } catch (err) {
      if (!(err instanceof SignInRefusedError)) throw err;
      if (refreshToken !== undefined) await oidc.provider.revoke(refreshToken);
      this.logger.info({ reason: err.message }, 'sign-in refused');
      await oidc.store.saveLogin(loginId, { error: err.message });
      void reply.redirect('/', 302);
      return;
    }
    await oidc.store.deleteLogin(loginId);
    void reply
      .header('set-cookie', [
        cookie(LOGIN_COOKIE, '', { secure: secure(request), maxAgeSeconds: 0, path: AUTH_PATH }),
        cookie(SESSION_COOKIE, sessionId, {
          secure: secure(request),
          maxAgeSeconds: oidc.config.sessionTtlSeconds,
        }),
      ])
      .redirect('/', 302);
  }

  @Get('session')
  async session(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionResponse> {
    void reply.header('cache-control', 'no-store');
    const oidc = this.oidc;
    if (oidc === null) return { signedIn: false, oidc: false };
    const id = oidc.sessions.sessionId(request.headers);
    if (id !== undefined) {
      try {
        const principal = await oidc.sessions.principal(id);
        const { sub, role, clusters, groups, renewAt } = principal;
        return { signedIn: true, sub, role, clusters, groups, renewAt };
      } catch (err) {
        if (!(err instanceof AuthenticationError)) throw err;
        void reply.header(
          'set-cookie',
          cookie(SESSION_COOKIE, '', { secure: secure(request), maxAgeSeconds: 0 }),
        );
        return { signedIn: false, oidc: true, error: err.message };
      }
    }
    const loginId = readCookie(request.headers.cookie, LOGIN_COOKIE);
    const login = loginId === undefined ? undefined : await oidc.store.getLogin(loginId);
    if (loginId !== undefined && login !== undefined && 'error' in login) {
      // Told once: the next visit starts clean.
      await oidc.store.deleteLogin(loginId);
      return { signedIn: false, oidc: true, error: login.error };
    }
    return { signedIn: false, oidc: true };
  }

  @Post('logout')
  @HttpCode(200)
  async logout(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ signedOut: true; endSessionUrl?: string }> {
    const oidc = this.required();
    const id = oidc.sessions.sessionId(request.headers);
    if (id !== undefined) {
      if (request.headers.origin === undefined || originOf(request) !== request.headers.origin) {
        throw new ForbiddenError('sign out from the dashboard (its Origin header)');
      }
      const record = await oidc.store.get(id);
      await oidc.store.delete(id);
      if (record?.refreshToken !== undefined) await oidc.provider.revoke(record.refreshToken);
      if (record) this.logger.info({ user: record.sub }, 'signed out');
    }
    void reply
      .header('cache-control', 'no-store')
      .header('set-cookie', cookie(SESSION_COOKIE, '', { secure: secure(request), maxAgeSeconds: 0 }));
    const endSessionUrl = await oidc.provider.endSessionUrl(`${originOf(request)}/`);
    return { signedOut: true, ...(endSessionUrl !== undefined ? { endSessionUrl } : {}) };
  }

  private required(): OidcServices {
    if (this.oidc === null) {
      throw new NotFoundError('sign-in with an identity provider is not configured (KNM_OIDC_ISSUER)');
    }
    return this.oidc;
  }
}

/** The page's origin as the browser sees it (through trusted proxies: KNM_TRUST_PROXY). */
function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** Cookies are Secure when the page is https (directly or at a trusted balancer). */
function secure(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}
