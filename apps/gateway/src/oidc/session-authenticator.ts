import type { IncomingHttpHeaders } from 'node:http';
import { AuthenticationError, ForbiddenError, type Principal } from '@knm/auth';
import { originAllowed } from '../realtime/origin-policy.js';
import { waitFor } from './wait-until.js';
import { SignInRefusedError, type IdentityProvider } from './identity-provider.js';
import type { OidcConfig } from './oidc-config.js';
import { sessionFor } from './person-grant.js';
import { readCookie, SESSION_COOKIE } from './session-cookies.js';
import type { SessionRecord, SessionStore } from './session-store.js';

/** How long a renewal may take before another replica may try. */
const RENEWAL_LOCK_MS = 15_000;

/**
 * Turns a dashboard session cookie into a principal, renewing the session with the
 * provider's refresh token once its tokens have expired (and mapping the groups the
 * provider then reports again, so a person removed from a group loses its role at the
 * next renewal). A session the provider refuses to renew (refresh token expired or
 * revoked) is deleted: 401.
 */
export class SessionAuthenticator {
  constructor(
    private readonly config: OidcConfig,
    private readonly store: SessionStore,
    private readonly provider: IdentityProvider,
    private readonly allowedOrigins: ReadonlySet<string>,
  ) {}

  /** The session id of a request's `Cookie` header, if it carries one. */
  sessionId(headers: IncomingHttpHeaders): string | undefined {
    return readCookie(headers.cookie, SESSION_COOKIE);
  }

  /**
   * The principal of a request's session cookie, or undefined when it has none.
   * A request that changes something (`unsafe`) must come from the dashboard's own
   * origin (or `KNM_CORS_ORIGINS`): a browser attaches the cookie to requests other
   * pages make too, and only their `Origin` tells them apart (SameSite=Lax alone still
   * lets sibling subdomains through).
   */
  async fromRequest(headers: IncomingHttpHeaders, unsafe: boolean): Promise<Principal | undefined> {
    const id = this.sessionId(headers);
    if (id === undefined) return undefined;
    if (unsafe && (headers.origin === undefined || !originAllowed({ headers }, this.allowedOrigins))) {
      throw new ForbiddenError(
        'a change made with a dashboard session must come from the dashboard (its Origin header)',
      );
    }
    return this.principal(id);
  }

  /** The principal of session `id`, renewed if due; throws {@link AuthenticationError} when it has ended. */
  async principal(id: string): Promise<Principal & { groups: string[]; renewAt: number }> {
    let record = await this.store.get(id);
    if (record === undefined) throw ended('your sign-in session has ended: sign in again');
    if (Date.now() >= record.renewAt) record = await this.renew(id, record);
    return {
      sub: record.sub,
      role: record.role,
      clusters: record.clusters,
      groups: record.groups,
      renewAt: record.renewAt,
      // Rounded up: a socket closed at `exp` then reconnects after the renewal is due, and renews.
      exp: Math.ceil(Math.min(record.renewAt, record.expiresAt) / 1000),
    };
  }

  private async renew(id: string, record: SessionRecord): Promise<SessionRecord> {
    if (Date.now() >= record.expiresAt || record.refreshToken === undefined) {
      await this.store.delete(id);
      throw ended('your sign-in session has ended: sign in again');
    }
    if (!(await this.store.lockRenewal(id, RENEWAL_LOCK_MS))) return this.awaitRenewal(id, record);
    try {
      const identity = await this.provider.renew(record.refreshToken, record.providerSub);
      const renewed = sessionFor(identity, this.config, record.expiresAt);
      await this.store.save(id, renewed);
      return renewed;
    } catch (err) {
      if (!(err instanceof SignInRefusedError)) throw err;
      await this.store.delete(id);
      throw ended(`your sign-in session has ended (${err.message}): sign in again`);
    } finally {
      await this.store.unlockRenewal(id);
    }
  }

  /** Another request (on any replica) is renewing this session: use its result. */
  private async awaitRenewal(id: string, stale: SessionRecord): Promise<SessionRecord> {
    let current: SessionRecord | undefined = stale;
    await waitFor(async () => {
      current = await this.store.get(id);
      return current === undefined || current.renewAt !== stale.renewAt;
    }, RENEWAL_LOCK_MS);
    if (current === undefined) throw ended('your sign-in session has ended: sign in again');
    return current;
  }
}

function ended(message: string): AuthenticationError {
  return new AuthenticationError('expired', message);
}
