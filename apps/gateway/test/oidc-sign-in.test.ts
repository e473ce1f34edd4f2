/**
 * Dashboard sign-in through a real OpenID Provider (`oidc-provider`, started here),
 * an in-process gateway on real Redis, plain HTTP with a cookie jar, and a real
 * socket.io-client: code + PKCE, roles from groups, the session cookie on REST and
 * the socket, CSRF (Origin) on changes, renewal, revocation, expiry, a foreign
 * issuer, sign-out; and no token in a URL, a log line or Redis in plain text.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterListResponseSchema, ErrorBodySchema, type SubscribeAck } from '@knm/contracts';
import {
  JWT_SHAPE,
  createTestRedis,
  makeNodeSnapshot,
  startOidcProvider,
  waitFor,
  type TestRedis,
} from '@knm/testing';
import { SessionCipher } from '../src/oidc/session-cipher.js';
import { SessionRecordSchema } from '../src/oidc/session-store.js';
import {
  connectSocket,
  connected,
  request,
  seedCluster,
  startGateway,
  token,
} from './support/gateway-harness.js';
import { CookieBrowser, PEOPLE, startOidcGateway, type OidcGateway } from './support/oidc-harness.js';

let redis: TestRedis;
const closers: (() => Promise<void>)[] = [];

async function gateway(options: Parameters<typeof startOidcGateway>[1] = {}): Promise<OidcGateway> {
  const gw = await startOidcGateway(redis, options);
  closers.unshift(() => gw.close());
  return gw;
}

async function json(
  browser: CookieBrowser,
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await browser.fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Every value under the test's namespace, as stored. */
async function redisValues(): Promise<string[]> {
  const keys = await redis.client.keys(`${redis.namespace}:*`);
  const values: string[] = [];
  for (const key of keys) {
    const type = await redis.client.type(key);
    if (type === 'string') values.push((await redis.client.get(key)) ?? '');
    else if (type === 'hash') values.push(JSON.stringify(await redis.client.hgetall(key)));
  }
  return values;
}

/**
 * Neither a log line, a visited URL nor a Redis value holds a token or the client
 * secret; no log line or Redis value holds an authorization code either (the code flow
 * carries those in the callback URL).
 */
async function expectNoSecretLeaked(
  gw: OidcGateway,
  browser: CookieBrowser,
  extra: string[] = [],
): Promise<void> {
  const secrets = [...gw.provider.issued, gw.provider.clientSecret, ...extra];
  expect(gw.provider.issued.length).toBeGreaterThan(0);
  const places = { logs: gw.logs, urls: browser.visited, redis: await redisValues() };
  for (const [where, lines] of Object.entries(places)) {
    const forbidden = where === 'urls' ? secrets : [...secrets, ...gw.provider.codes];
    for (const line of lines) {
      for (const secret of forbidden)
        expect(line.includes(secret), `${where} holds a secret: ${line}`).toBe(false);
      expect(JWT_SHAPE.test(line), `${where} holds a JWT: ${line}`).toBe(false);
    }
  }
}

beforeEach(async () => {
  redis = await createTestRedis();
  closers.push(() => redis.close());
  await seedCluster(redis, 'dev', [makeNodeSnapshot('n-1'), makeNodeSnapshot('n-2')]);
  await seedCluster(redis, 'prod', [makeNodeSnapshot('p-1')]);
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('OIDC sign-in', () => {
  it('signs an operator in with code + PKCE; the cookie session sees only its mapped clusters, on REST and the socket', async () => {
    const gw = await gateway();
    const browser = new CookieBrowser();
    const login = await browser.fetch(`${gw.url}/api/v1/auth/login`);
    expect(login.status).toBe(302);
    const authUrl = new URL(login.headers.get('location') ?? '');
    expect(authUrl.origin).toBe(gw.provider.issuer);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('code_challenge')).toBeTruthy();
    expect(authUrl.searchParams.get('state')).toBeTruthy();
    expect(authUrl.searchParams.get('nonce')).toBeTruthy();
    const loginCookie = login.headers.getSetCookie().join('\n');
    expect(loginCookie).toMatch(
      /knm_login=[\w-]+; Path=\/api\/v1\/auth; Max-Age=600; HttpOnly; SameSite=Lax/,
    );

    const ana = new CookieBrowser();
    expect(await ana.signIn(gw.url, 'ana')).toBe(`${gw.url}/`);
    const sessionId = ana.cookie(gw.url, 'knm_session');
    expect(sessionId).toMatch(/^[\w-]{43}$/);

    const session = await json(ana, `${gw.url}/api/v1/auth/session`);
    expect(session.body).toMatchObject({
      signedIn: true,
      sub: 'ana@example.com',
      role: 'operator',
      clusters: ['dev', 'staging'],
      groups: ['team-a', 'everyone'],
    });
    const clusters = await json(ana, `${gw.url}/api/v1/clusters`);
    expect(clusters.status).toBe(200);
    expect(ClusterListResponseSchema.parse(clusters.body).items.map((c) => c.name)).toEqual(['dev']);
    expect((await ana.fetch(`${gw.url}/api/v1/clusters/dev/nodes`)).status).toBe(200);
    const prod = await json(ana, `${gw.url}/api/v1/clusters/prod/nodes`);
    expect(prod.status).toBe(403);

    // A change with the cookie needs the dashboard's own Origin (cross-site requests carry the cookie too).
    const body = JSON.stringify({ action: 'cordon', params: {}, nodes: ['n-1'], dryRun: true });
    const post = (headers: Record<string, string>) =>
      json(ana, `${gw.url}/api/v1/clusters/dev/operations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const noOrigin = await post({});
    expect(noOrigin.status).toBe(403);
    expect(ErrorBodySchema.parse(noOrigin.body).message).toMatch(/must come from the dashboard/);
    expect((await post({ origin: 'https://evil.example' })).status).toBe(403);
    const sameOrigin = await post({ origin: gw.url });
    expect(sameOrigin.status, JSON.stringify(sameOrigin.body)).toBe(200);
    // A real operation carries the person's groups, for a cluster that impersonates operators.
    const created = await json(ana, `${gw.url}/api/v1/clusters/dev/operations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: gw.url },
      body: JSON.stringify({ action: 'cordon', params: {}, nodes: ['n-2'] }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    expect(created.body['operation']).toMatchObject({
      createdBy: 'ana@example.com',
      createdByGroups: ['team-a', 'everyone'],
    });

    // The socket authenticates with the cookie alone.
    const socket = connectSocket(gw.url, undefined, { extraHeaders: { cookie: ana.cookieHeader(gw.url) } });
    closers.unshift(async () => void socket.disconnect());
    await connected(socket);
    expect(await request<SubscribeAck>(socket, 'subscribe', { cluster: 'dev' })).toMatchObject({ ok: true });
    expect(await request<SubscribeAck>(socket, 'subscribe', { cluster: 'prod' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });

    // Redis holds the session sealed, under a hash of the cookie; the cookie opens it.
    const key = `${redis.namespace}:session:${SessionCipher.lookup(sessionId ?? '')}`;
    const sealed = (await redis.client.get(key)) ?? '';
    expect(sealed).not.toContain('ana@example.com');
    const record = SessionRecordSchema.parse(JSON.parse(SessionCipher.open(sessionId ?? '', sealed) ?? '{}'));
    expect(gw.provider.issued).toContain(record.refreshToken);
    expect(SessionCipher.open(SessionCipher.newId(), sealed)).toBeUndefined();
    expect(await redis.client.keys(`${redis.namespace}:*${sessionId ?? ''}*`)).toEqual([]);
    // The provider's own tokens are no knm credential, as a bearer token or as the cookie.
    for (const providerToken of gw.provider.issued) {
      const asBearer = await fetch(`${gw.url}/api/v1/clusters`, {
        headers: { authorization: `Bearer ${providerToken}` },
      });
      expect(asBearer.status).toBe(401);
      const asCookie = await fetch(`${gw.url}/api/v1/clusters`, {
        headers: { cookie: `knm_session=${providerToken}` },
      });
      expect(asCookie.status).toBe(401);
    }
    await expectNoSecretLeaked(gw, ana, [sessionId ?? '']);
  });

  it('keeps knm tokens working for API clients next to sessions', async () => {
    const gw = await gateway();
    const answer = await fetch(`${gw.url}/api/v1/clusters`, {
      headers: { authorization: `Bearer ${await token({ clusters: '*' })}` },
    });
    expect(answer.status).toBe(200);
    expect((await fetch(`${gw.url}/api/v1/clusters`)).status).toBe(401);
  });

  it('lets a viewer read but not operate', async () => {
    const gw = await gateway();
    const vic = new CookieBrowser();
    await vic.signIn(gw.url, 'vic');
    expect((await json(vic, `${gw.url}/api/v1/auth/session`)).body).toMatchObject({
      role: 'viewer',
      clusters: ['dev'],
    });
    expect((await vic.fetch(`${gw.url}/api/v1/clusters/dev/nodes`)).status).toBe(200);
    const post = await json(vic, `${gw.url}/api/v1/clusters/dev/operations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: gw.url },
      body: JSON.stringify({ action: 'cordon', params: {}, nodes: ['n-1'] }),
    });
    expect(post.status).toBe(403);
    expect(ErrorBodySchema.parse(post.body).message).toMatch(/needs role "operator"/);
  });

  it('refuses a person none of whose groups is mapped, saying so', async () => {
    const gw = await gateway();
    const bob = new CookieBrowser();
    expect(await bob.signIn(gw.url, 'bob')).toBe(`${gw.url}/`);
    expect(bob.cookie(gw.url, 'knm_session')).toBeUndefined();
    const session = await json(bob, `${gw.url}/api/v1/auth/session`);
    expect(session.body).toEqual({
      signedIn: false,
      oidc: true,
      error:
        'bob@example.com is not allowed in knm: your groups (everyone) are not mapped to a knm role. Ask an administrator to map one of your groups (KNM_OIDC_ROLE_MAP).',
    });
    // Said once; and bob's refresh token was given back.
    expect((await json(bob, `${gw.url}/api/v1/auth/session`)).body).toEqual({ signedIn: false, oidc: true });
    expect(await gw.provider.liveRefreshTokens('bob')).toBe(0);
    expect((await bob.fetch(`${gw.url}/api/v1/clusters`)).status).toBe(401);
    await expectNoSecretLeaked(gw, bob);
  });

  it('signs out: the session ends, its refresh token is revoked, and the provider’s sign-out URL carries no token', async () => {
    const gw = await gateway();
    const sam = new CookieBrowser();
    await sam.signIn(gw.url, 'sam');
    const stolen = sam.cookieHeader(gw.url);
    expect((await sam.fetch(`${gw.url}/api/v1/clusters`)).status).toBe(200);
    expect((await json(sam, `${gw.url}/api/v1/auth/logout`, { method: 'POST' })).status).toBe(403);
    const out = await json(sam, `${gw.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { origin: gw.url },
    });
    expect(out.status).toBe(200);
    const endSession = new URL(String(out.body['endSessionUrl']));
    expect(endSession.origin).toBe(gw.provider.issuer);
    expect(Object.fromEntries(endSession.searchParams)).toEqual({
      client_id: gw.provider.clientId,
      post_logout_redirect_uri: `${gw.url}/`,
    });
    expect(sam.cookie(gw.url, 'knm_session')).toBeUndefined();
    expect(await gw.provider.liveRefreshTokens('sam')).toBe(0);
    const replay = await fetch(`${gw.url}/api/v1/clusters`, { headers: { cookie: stolen } });
    expect(replay.status).toBe(401);
    await expectNoSecretLeaked(gw, sam);
  });

  it('renews the session with the refresh token, and ends it once the provider revokes the person', async () => {
    const gw = await gateway({ accessTokenTtl: 1 });
    const ana = new CookieBrowser();
    await ana.signIn(gw.url, 'ana');
    const first = (await json(ana, `${gw.url}/api/v1/auth/session`)).body;
    await waitFor(() => Date.now() > Number(first['renewAt']), {
      timeout: 5_000,
      what: 'the session to be due for renewal',
    });
    // Renewed on the next request, on REST and then for the session endpoint.
    expect((await ana.fetch(`${gw.url}/api/v1/clusters`)).status).toBe(200);
    const renewed = (await json(ana, `${gw.url}/api/v1/auth/session`)).body;
    expect(renewed).toMatchObject({ signedIn: true, sub: 'ana@example.com', role: 'operator' });
    expect(Number(renewed['renewAt'])).toBeGreaterThan(Number(first['renewAt']));

    await gw.provider.revokePerson('ana');
    await waitFor(() => Date.now() > Number(renewed['renewAt']), {
      timeout: 5_000,
      what: 'the session to be due for renewal',
    });
    const refused = await json(ana, `${gw.url}/api/v1/clusters`);
    expect(refused.status).toBe(401);
    expect(ErrorBodySchema.parse(refused.body).message).toMatch(
      /your sign-in session has ended \(the identity provider refused the renewal: .*\): sign in again/,
    );
    expect((await json(ana, `${gw.url}/api/v1/auth/session`)).body).toMatchObject({ signedIn: false });
    await expectNoSecretLeaked(gw, ana);
  });

  it('closes a session’s socket when it is due for renewal; the reconnect renews it', async () => {
    // Long enough for the renewed socket to subscribe before it is due in turn.
    const gw = await gateway({ accessTokenTtl: 3 });
    const ana = new CookieBrowser();
    await ana.signIn(gw.url, 'ana');
    const first = (await json(ana, `${gw.url}/api/v1/auth/session`)).body;
    const socket = connectSocket(gw.url, undefined, { extraHeaders: { cookie: ana.cookieHeader(gw.url) } });
    closers.unshift(async () => void socket.disconnect());
    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    await connected(socket);
    expect(await closed).toBe('io server disconnect');
    const again = connectSocket(gw.url, undefined, { extraHeaders: { cookie: ana.cookieHeader(gw.url) } });
    closers.unshift(async () => void again.disconnect());
    await connected(again);
    expect(await request<SubscribeAck>(again, 'subscribe', { cluster: 'dev' })).toMatchObject({ ok: true });
    const renewed = (await json(ana, `${gw.url}/api/v1/auth/session`)).body;
    expect(Number(renewed['renewAt'])).toBeGreaterThan(Number(first['renewAt']));
  });

  it('ends the session when the provider’s refresh token has expired', async () => {
    const gw = await gateway({ accessTokenTtl: 1, refreshTokenTtl: 2 });
    const ana = new CookieBrowser();
    await ana.signIn(gw.url, 'ana');
    expect((await ana.fetch(`${gw.url}/api/v1/clusters`)).status).toBe(200);
    await waitFor(async () => (await gw.provider.liveRefreshTokens('ana')) === 0, {
      timeout: 10_000,
      what: 'the provider to let the refresh token expire',
    });
    const refused = await json(ana, `${gw.url}/api/v1/clusters`);
    expect(refused.status).toBe(401);
    expect(ErrorBodySchema.parse(refused.body).message).toMatch(/session has ended/);
  });

  it('refuses a sign-in completed at another issuer (mix-up), and a callback this browser did not start', async () => {
    const gw = await gateway();
    const foreign = await startOidcProvider({
      clientId: gw.provider.clientId,
      clientSecret: gw.provider.clientSecret,
      redirectUris: [`${gw.url}/api/v1/auth/callback`],
      people: PEOPLE,
    });
    closers.unshift(() => foreign.close());
    const mallory = new CookieBrowser();
    const landed = await mallory.signIn(
      gw.url,
      'sam',
      (authUrl) => new URL(authUrl.pathname + authUrl.search, foreign.issuer),
    );
    expect(landed).toBe(`${gw.url}/`);
    expect(mallory.cookie(gw.url, 'knm_session')).toBeUndefined();
    const session = await json(mallory, `${gw.url}/api/v1/auth/session`);
    expect(session.body).toMatchObject({ signedIn: false, oidc: true });
    expect(String(session.body['error'])).toMatch(
      /^the sign-in response of the identity provider was refused: .*iss/,
    );
    expect(await redis.client.keys(`${redis.namespace}:session:*`)).toEqual([]);

    const stranger = await fetch(`${gw.url}/api/v1/auth/callback?code=abc&state=def`, { redirect: 'manual' });
    expect(stranger.status).toBe(401);
    expect(ErrorBodySchema.parse(await stranger.json()).message).toMatch(
      /no sign-in is in progress in this browser/,
    );
    // Refused callbacks are logged (debug) without their code.
    expect(gw.logs.some((l) => l.includes('/api/v1/auth/callback?code=[redacted]&state=def'))).toBe(true);
    expect(gw.logs.some((l) => l.includes('code=abc'))).toBe(false);
  });

  it('limits the sign-ins started per address (no flood of login records)', async () => {
    const gw = await gateway({ oidc: { loginLimit: 3 } });
    for (let i = 0; i < 3; i += 1) {
      expect((await fetch(`${gw.url}/api/v1/auth/login`, { redirect: 'manual' })).status).toBe(302);
    }
    const refused = await fetch(`${gw.url}/api/v1/auth/login`, { redirect: 'manual' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(await redis.client.keys(`${redis.namespace}:oidc-login:*`)).toHaveLength(3);
  });

  it('answers oidc: false and 404s the sign-in routes when no issuer is configured', async () => {
    const gw = await startGateway(redis);
    closers.unshift(() => gw.close());
    expect(await (await fetch(`${gw.url}/api/v1/auth/session`)).json()).toEqual({
      signedIn: false,
      oidc: false,
    });
    const login = await fetch(`${gw.url}/api/v1/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(404);
    expect(ErrorBodySchema.parse(await login.json()).message).toMatch(/KNM_OIDC_ISSUER/);
  });
});
