import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { freePort } from './free-port.js';

/**
 * A JWT (an ID or access token) anywhere in a text: a base64url header and payload,
 * each a JSON object (so each starts `eyJ`, `{"`), then a dot. Not a bare `eyJ`: a
 * random base64url value (a PKCE challenge, a state) contains one now and then.
 */
export const JWT_SHAPE = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]+\./;

/** A person the test OpenID Provider knows. */
export interface TestPerson {
  /** Account id: the provider's `sub` and what the sign-in form's "username" takes. */
  id: string;
  email: string;
  groups: string[];
}

/** Options of {@link startOidcProvider}. */
export interface TestOidcProviderOptions {
  /** The relying party's client id. Default `knm`. */
  clientId?: string;
  /** Its secret. Default `knm-test-client-secret`. */
  clientSecret?: string;
  /** Callback URLs the client may use. */
  redirectUris: string[];
  /** Where the provider may send the browser after sign-out. Default none. */
  postLogoutRedirectUris?: string[];
  people: TestPerson[];
  /** Lifetimes in seconds. Defaults: access and ID token 600, refresh token 3,600. */
  accessTokenTtl?: number;
  refreshTokenTtl?: number;
}

/** A running test OpenID Provider. */
export interface TestOidcProvider {
  /** Its issuer URL (`http://127.0.0.1:<port>`). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Withdraws everything the provider granted `id` (as an administrator revoking a person's access). */
  revokePerson(id: string): Promise<void>;
  /** How many of the refresh tokens issued to `id` the provider would still accept. */
  liveRefreshTokens(id: string): Promise<number>;
  /** Every access and refresh token issued so far (tests look for them in URLs, logs and Redis). */
  readonly issued: readonly string[];
  /**
   * Every authorization code issued so far: the code flow carries them in the callback
   * URL (single use, bound to PKCE), but they belong in no log line and no Redis key.
   */
  readonly codes: readonly string[];
  close(): Promise<void>;
}

/**
 * Starts a real, certified OpenID Provider (`oidc-provider`) on 127.0.0.1 for tests:
 * discovery, authorization code with PKCE, refresh tokens with rotation, userinfo
 * (`email`, `groups` scopes), revocation, RP-initiated logout. Its sign-in page is a
 * plain form: `username` (a person's id, no password) and a "Sign in" button, which
 * grants every scope asked for; a sign-in page for someone unknown says so.
 */
export async function startOidcProvider(options: TestOidcProviderOptions): Promise<TestOidcProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = options.clientId ?? 'knm';
  const clientSecret = options.clientSecret ?? 'knm-test-client-secret';
  const people = new Map(options.people.map((p) => [p.id, p]));
  const grants = new Map<string, Set<string>>();
  // Its own signing key, so each provider (and a foreign one) signs differently.
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const provider = new Provider(issuer, {
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: `test-${port}`, alg: 'RS256', use: 'sig' }] },
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: options.postLogoutRedirectUris ?? [],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    claims: { openid: ['sub'], email: ['email'], groups: ['groups'] },
    scopes: ['openid', 'offline_access', 'email', 'groups', 'profile'],
    findAccount: (_ctx, id) => {
      const person = people.get(id);
      if (!person) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: id, email: person.email, groups: person.groups }),
      };
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['knm-test-provider-cookie-key-0123456789'] },
    ttl: {
      AccessToken: options.accessTokenTtl ?? 600,
      IdToken: options.accessTokenTtl ?? 600,
      RefreshToken: options.refreshTokenTtl ?? 3600,
      Grant: 3600,
      Session: 3600,
      Interaction: 600,
      AuthorizationCode: 60,
    },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  });
  const oidcCallback = provider.callback();
  const issued: string[] = [];
  const codes: string[] = [];
  const refreshTokens = new Map<string, string[]>();
  provider.on('authorization_code.saved', (code) => codes.push(code.jti));
  provider.on('access_token.saved', (token) => issued.push(token.jti));
  provider.on('refresh_token.saved', (token) => {
    issued.push(token.jti);
    refreshTokens.set(token.accountId, [...(refreshTokens.get(token.accountId) ?? []), token.jti]);
  });

  const interaction = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const details = await provider.interactionDetails(req, res);
    const uid = details.uid;
    if (req.method === 'GET' && details.prompt.name === 'login') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(
        `<!doctype html><title>Test provider</title><form method="post" action="/interaction/${uid}">` +
          '<label>Username <input name="username" autofocus></label><button type="submit">Sign in</button></form>',
      );
      return;
    }
    const accountId =
      details.prompt.name === 'login'
        ? (new URLSearchParams(await body(req)).get('username') ?? '')
        : (details.session?.accountId ?? '');
    if (!people.has(accountId)) {
      res.statusCode = 403;
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end('<!doctype html><p>unknown person</p>');
      return;
    }
    const grant = new provider.Grant({ accountId, clientId: String(details.params['client_id']) });
    grant.addOIDCScope(String(details.params['scope']));
    const grantId = await grant.save();
    grants.set(accountId, (grants.get(accountId) ?? new Set()).add(grantId));
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  };

  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interaction(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
      return;
    }
    void oidcCallback(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    issuer,
    clientId,
    clientSecret,
    async revokePerson(id) {
      for (const grantId of grants.get(id) ?? []) {
        const grant = await provider.Grant.find(grantId);
        await grant?.destroy();
      }
      grants.delete(id);
    },
    async liveRefreshTokens(id) {
      let live = 0;
      for (const value of refreshTokens.get(id) ?? []) {
        const token = await provider.RefreshToken.find(value);
        if (token && !token.isExpired && !token.consumed) live += 1;
      }
      return live;
    },
    issued,
    codes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
