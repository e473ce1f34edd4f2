import { ServiceUnavailableException } from '@nestjs/common';
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import { isLoopback, type OidcConfig } from './oidc-config.js';
import type { LoginRecord } from './session-store.js';

/** Who the provider says signed in, and the tokens knm keeps to renew that. */
export interface ProviderIdentity {
  /** The provider's `sub`. */
  providerSub: string;
  /** The username claim's value. */
  username: unknown;
  /** The groups claim's value. */
  groups: unknown;
  refreshToken?: string;
  /** When the provider's tokens expire (ms since the epoch). */
  renewAt: number;
}

/** The provider refused a sign-in or a renewal; `message` says why, in words for the person. */
export class SignInRefusedError extends Error {
  override readonly name = 'SignInRefusedError';
}

/**
 * knm as an OpenID Connect relying party: discovery from the issuer (retried at the
 * next use while it fails, so a gateway starts while its provider is down),
 * authorization code with PKCE (S256), state and nonce, ID token validation (issuer,
 * audience, signature, expiry: openid-client), userinfo when the ID token lacks the
 * groups, refresh, revocation and the RP-initiated sign-out URL.
 */
export class IdentityProvider {
  private discovered: Promise<oidc.Configuration> | undefined;

  constructor(
    private readonly config: OidcConfig,
    private readonly logger: Logger,
  ) {}

  /** The provider's authorization URL for a new sign-in, and what the callback must check. */
  async startLogin(redirectUri: string): Promise<{ url: URL; record: LoginRecord }> {
    const provider = await this.provider();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(provider, {
      redirect_uri: redirectUri,
      scope: this.config.scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      // Without consent a provider may drop offline_access, and with it the refresh token.
      ...(this.config.scopes.includes('offline_access') ? { prompt: 'consent' } : {}),
    });
    return { url, record: { state, nonce, codeVerifier, redirectUri } };
  }

  /** Exchanges the callback's code (`query`: the callback's query string) for the person's identity. */
  async finishLogin(
    record: Extract<LoginRecord, { state: string }>,
    query: string,
  ): Promise<ProviderIdentity> {
    const provider = await this.provider();
    const current = new URL(record.redirectUri);
    current.search = query;
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(provider, current, {
        pkceCodeVerifier: record.codeVerifier,
        expectedState: record.state,
        expectedNonce: record.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw this.refusal(err, 'sign-in');
    }
    return this.identity(provider, tokens);
  }

  /** Renews with `refreshToken`; the provider must still say it is `providerSub`. */
  async renew(refreshToken: string, providerSub: string): Promise<ProviderIdentity> {
    const provider = await this.provider();
    let tokens: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
    try {
      tokens = await oidc.refreshTokenGrant(provider, refreshToken);
    } catch (err) {
      throw this.refusal(err, 'renewal');
    }
    const identity = await this.identity(provider, tokens, providerSub);
    if (identity.providerSub !== providerSub) {
      throw new SignInRefusedError('the identity provider renewed the session for another person');
    }
    return { ...identity, refreshToken: identity.refreshToken ?? refreshToken };
  }

  /** Revokes `refreshToken` at the provider when it offers revocation; failures are only logged. */
  async revoke(refreshToken: string): Promise<void> {
    try {
      const provider = await this.provider();
      if (!provider.serverMetadata().revocation_endpoint) return;
      await oidc.tokenRevocation(provider, refreshToken, { token_type_hint: 'refresh_token' });
    } catch (err) {
      this.logger.warn(
        { reason: (err as Error).message },
        'could not revoke a refresh token at the identity provider',
      );
    }
  }

  /**
   * Where the browser goes to end its session at the provider too (RP-initiated
   * logout), naming the client rather than sending the ID token, which would put a
   * token in a URL; undefined when the provider offers no end-session endpoint.
   */
  async endSessionUrl(postLogoutRedirectUri: string): Promise<string | undefined> {
    const provider = await this.provider();
    if (!provider.serverMetadata().end_session_endpoint) return undefined;
    return oidc
      .buildEndSessionUrl(provider, {
        client_id: this.config.clientId,
        post_logout_redirect_uri: postLogoutRedirectUri,
      })
      .toString();
  }

  private async identity(
    provider: oidc.Configuration,
    tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
    expectedSub?: string,
  ): Promise<ProviderIdentity> {
    let claims: Record<string, unknown> | undefined = tokens.claims();
    if (claims === undefined && expectedSub === undefined) {
      throw new SignInRefusedError('the identity provider sent no ID token');
    }
    const providerSub = typeof claims?.['sub'] === 'string' ? claims['sub'] : (expectedSub ?? '');
    const wanted = [this.config.usernameClaim, this.config.groupsClaim];
    if (wanted.some((c) => claims?.[c] === undefined) && provider.serverMetadata().userinfo_endpoint) {
      // Many providers put scope claims (groups, email) only in userinfo.
      const info = await oidc.fetchUserInfo(provider, tokens.access_token, providerSub);
      claims = { ...info, ...claims };
    }
    const expiresIn = tokens.expiresIn();
    const idExp = typeof claims?.['exp'] === 'number' ? claims['exp'] * 1000 : undefined;
    return {
      providerSub,
      username: claims?.[this.config.usernameClaim],
      groups: claims?.[this.config.groupsClaim],
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      renewAt: expiresIn !== undefined ? Date.now() + expiresIn * 1000 : (idExp ?? Date.now() + 300_000),
    };
  }

  private refusal(err: unknown, what: string): Error {
    if (err instanceof oidc.AuthorizationResponseError || err instanceof oidc.ResponseBodyError) {
      return new SignInRefusedError(
        `the identity provider refused the ${what}: ${err.error_description ?? err.error}`,
      );
    }
    if (err instanceof ServiceUnavailableException) return err;
    const cause = (err as Error).cause;
    // openid-client says "invalid response encountered"; the check that failed is its cause.
    const message =
      cause instanceof Error ? `${(err as Error).message} (${cause.message})` : (err as Error).message;
    if (/fetch failed|ECONNREFUSED|ETIMEDOUT|ENOTFOUND/.test(message)) {
      return new ServiceUnavailableException('the identity provider cannot be reached; retry');
    }
    // A response that does not check out (state, nonce, issuer, signature, expiry).
    return new SignInRefusedError(`the ${what} response of the identity provider was refused: ${message}`);
  }

  private provider(): Promise<oidc.Configuration> {
    this.discovered ??= this.discover().catch((err: unknown) => {
      this.discovered = undefined;
      this.logger.warn(
        { issuer: this.config.issuer, reason: (err as Error).message },
        'OIDC discovery failed',
      );
      throw new ServiceUnavailableException('the identity provider cannot be reached; retry');
    });
    return this.discovered;
  }

  private async discover(): Promise<oidc.Configuration> {
    const issuer = new URL(this.config.issuer);
    // Plain http is refused by openid-client; allowed here only on loopback (tests, demos).
    const execute =
      issuer.protocol === 'http:' && isLoopback(issuer.hostname) ? [oidc.allowInsecureRequests] : [];
    return oidc.discovery(
      issuer,
      this.config.clientId,
      this.config.clientSecret,
      this.config.clientSecret === undefined ? oidc.None() : undefined,
      { execute },
    );
  }
}
