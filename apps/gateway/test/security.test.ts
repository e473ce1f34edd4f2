/**
 * The gateway's security promises, in one place (in-process gateways on real Redis,
 * real HTTP and a real socket.io-client):
 * - authentication: no token, expired, wrong signature, wrong algorithm (`none`,
 *   HS512), garbage, a token in the URL (REST and handshake) -> 401 / refused handshake;
 * - authorization: a viewer mutating -> 403; a cluster outside the token -> 403 and a
 *   refused subscribe;
 * - origins: REST CORS and the Socket.IO handshake only for allowed origins;
 * - rate limits: auth failures per client address and operations per subject, shared
 *   by two replicas, 429 + Retry-After + JSON; a forged X-Forwarded-For from an
 *   untrusted peer changes nothing; Redis down -> fail open;
 * - size limits: body (413), JSON depth (400), media type (415), Socket.IO message size;
 * - security headers on every answer.
 * Secrets in logs and Redis with a password over TLS: `redis-tls.test.ts` (spawned
 * processes). Malformed input of every route and event: `fuzz.test.ts`.
 */
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import {
  ClusterListResponseSchema,
  ErrorBodySchema,
  RealtimeEvents,
  WsStatsResponseSchema,
  type SubscribeAck,
} from '@knm/contracts';
import { createRedisConnection } from '@knm/node-store';
import { createTestRedis, freePort, makeNodeSnapshot, waitFor, type TestRedis } from '@knm/testing';
import { NodesGateway } from '../src/realtime/nodes.gateway.js';
import { RateLimiter } from '../src/security/rate-limiter.js';
import {
  SECRET,
  connectSocket,
  connected,
  httpCall,
  request,
  seedCluster,
  startGateway,
  token,
  type HttpAnswer,
  type RunningGateway,
} from './support/gateway-harness.js';
import type { GatewayConfig } from '../src/config/gateway-config.js';

let redis: TestRedis;
let viewer: string;
const sockets: Socket[] = [];
const closers: (() => Promise<void>)[] = [];

/** {@link httpCall} as the viewer unless `auth` says otherwise. */
function call(
  url: string,
  path: string,
  init: { method?: string; auth?: string | null; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpAnswer> {
  return httpCall(url, path, { ...init, auth: init.auth === undefined ? viewer : init.auth });
}

/** Expects a JSON error body with `status` and a message matching `message`. */
function expectError(answer: HttpAnswer, status: number, message: RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  const body = ErrorBodySchema.parse(answer.body);
  expect(body.statusCode).toBe(status);
  expect(body.message).toMatch(message);
}

function open(url: string, auth: Record<string, unknown> | null, extra = {}): Socket {
  const socket = connectSocket(url, auth ?? undefined, extra);
  sockets.push(socket);
  return socket;
}

/** The connect_error message of a refused handshake (fails when it connects). */
async function refused(socket: Socket): Promise<string> {
  try {
    await connected(socket);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the handshake was accepted');
}

/** Sends raw bytes to `port` and resolves with everything the server wrote before it closed. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
    socket.on('close', () => resolve(answer));
  });
}

async function gateway(overrides: Partial<GatewayConfig> = {}, id?: string): Promise<RunningGateway> {
  const gw = await startGateway(redis, overrides, id);
  closers.unshift(() => gw.close());
  return gw;
}

function sign(claims: Record<string, unknown>, alg: string, key: string, exp: number | string = '1h') {
  return new SignJWT(claims)
    .setProtectedHeader({ alg })
    .setSubject(String(claims['sub'] ?? 'mallory'))
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(key));
}

beforeEach(async () => {
  redis = await createTestRedis();
  closers.push(() => redis.close());
  await seedCluster(redis, 'dev', [makeNodeSnapshot('n-1'), makeNodeSnapshot('n-2')]);
  await seedCluster(redis, 'prod', [makeNodeSnapshot('p-1')]);
  viewer = await token();
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  for (const close of closers.splice(0)) await close();
});

describe('authentication', () => {
  it('refuses no token, expired, wrong signature, alg none, HS512 and garbage: REST 401 and handshake', async () => {
    const gw = await gateway();
    const [, payload] = viewer.split('.');
    const cases: [string | null, RegExp][] = [
      [null, /no token/],
      [
        await sign({ role: 'admin', clusters: '*' }, 'HS256', SECRET, Math.floor(Date.now() / 1000) - 3600),
        /expired/,
      ],
      [await sign({ role: 'admin', clusters: '*' }, 'HS256', `${SECRET}-not-ours`), /signature/],
      [`${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`, /algorithm "none"/],
      [await sign({ role: 'admin', clusters: '*' }, 'HS512', SECRET), /algorithm "HS512"/],
      ['x.y.z', /not (a JWT|valid)/],
    ];
    for (const [bad, message] of cases) {
      expectError(await call(gw.url, '/api/v1/clusters', { auth: bad }), 401, message);
      expect(await refused(open(gw.url, bad === null ? null : { token: bad }))).toMatch(message);
    }
    expect(
      (
        await call(gw.url, '/api/v1/clusters', {
          auth: null,
          headers: { authorization: 'Basic dXNlcjpwYXNz' },
        })
      ).status,
    ).toBe(401);
    expect(await refused(open(gw.url, { token: 42 }))).toMatch(/auth.token must be a string/);
    // The valid token works on both.
    expect((await call(gw.url, '/api/v1/clusters')).status).toBe(200);
    await connected(open(gw.url, { token: viewer }));
  });

  it("bounds a token's lifetime (KNM_MAX_TOKEN_TTL, default 24 h) and its subject (printable, <= 256) before writing it anywhere", async () => {
    const gw = await gateway();
    const in100Years = Math.floor(Date.now() / 1000) + 100 * 365 * 86_400;
    const cases: [string, RegExp][] = [
      [
        await sign({ role: 'admin', clusters: '*' }, 'HS256', SECRET, in100Years),
        /longer than this gateway accepts \(86400 s, KNM_MAX_TOKEN_TTL\)/,
      ],
      [
        await sign({ sub: 'm'.repeat(5_000), role: 'admin', clusters: '*' }, 'HS256', SECRET),
        /at most 256 characters/,
      ],
      [
        await sign({ sub: 'mal\u0000lory', role: 'admin', clusters: '*' }, 'HS256', SECRET),
        /must be printable/,
      ],
      [await sign({ sub: 'mal\nlory', role: 'admin', clusters: '*' }, 'HS256', SECRET), /must be printable/],
    ];
    const cordon = JSON.stringify({ action: 'cordon', nodes: ['n-1'] });
    for (const [bad, message] of cases) {
      expectError(await call(gw.url, '/api/v1/clusters', { auth: bad }), 401, message);
      expectError(
        await call(gw.url, '/api/v1/clusters/dev/operations', { method: 'POST', auth: bad, body: cordon }),
        401,
        message,
      );
      expect(await refused(open(gw.url, { token: bad }))).toMatch(message);
    }
    // Nothing of theirs reached Redis: no operation, no per-user key.
    expect((await redis.keys()).filter((k) => /:op:|ratelimit:ops|mmmm|mal/.test(k))).toEqual([]);
    // A gateway configured for longer accepts a 7-day token; 24 h is fine by default.
    const week = await sign({ role: 'viewer', clusters: '*' }, 'HS256', SECRET, '7d');
    expectError(await call(gw.url, '/api/v1/clusters', { auth: week }), 401, /KNM_MAX_TOKEN_TTL/);
    const lenient = await gateway({ maxTokenTtlSeconds: 30 * 86_400 });
    expect((await call(lenient.url, '/api/v1/clusters', { auth: week })).status).toBe(200);
    const day = await sign({ role: 'viewer', clusters: '*' }, 'HS256', SECRET, '24h');
    expect((await call(gw.url, '/api/v1/clusters', { auth: day })).status).toBe(200);
  });

  it('refuses a token in the URL, even a valid one, on REST and on the handshake', async () => {
    const gw = await gateway();
    for (const param of ['access_token', 'token']) {
      expectError(
        await call(gw.url, `/api/v1/clusters?${param}=${viewer}`, { auth: null }),
        401,
        /token in the URL is refused/,
      );
      expectError(
        await call(gw.url, `/api/v1/clusters/dev/nodes?${param}=${viewer}`),
        401,
        /token in the URL is refused/,
      );
    }
    expect(await refused(open(gw.url, { token: viewer }, { query: { token: viewer } }))).toMatch(
      /in the URL is refused/,
    );
  });
});

describe('authorization', () => {
  it('a viewer cannot mutate (403), and a token bounds the clusters on REST and Socket.IO (403, forbidden ack)', async () => {
    const gw = await gateway();
    const cordon = JSON.stringify({ action: 'cordon', nodes: ['n-1'] });
    expectError(
      await call(gw.url, '/api/v1/clusters/dev/operations', { method: 'POST', body: cordon }),
      403,
      /role "operator"/,
    );
    const devOnly = await token({ role: 'admin', clusters: ['dev' as never] });
    expectError(
      await call(gw.url, '/api/v1/clusters/prod/operations', { method: 'POST', auth: devOnly, body: cordon }),
      403,
      /cluster "prod"/,
    );
    for (const path of [
      '/api/v1/clusters/prod/nodes',
      '/api/v1/clusters/prod/nodes/p-1',
      '/api/v1/clusters/prod/pod-counts',
      '/api/v1/clusters/prod/operations',
      '/api/v1/nodes?cluster_name=prod',
    ]) {
      expectError(await call(gw.url, path, { auth: devOnly }), 403, /does not cover cluster "prod"/);
    }
    // Unknown clusters answer the same 403: a token never learns which clusters exist.
    expectError(await call(gw.url, '/api/v1/clusters/nope/nodes', { auth: devOnly }), 403, /"nope"/);
    const list = ClusterListResponseSchema.parse(
      (await call(gw.url, '/api/v1/clusters', { auth: devOnly })).body,
    );
    expect(list.items.map((c) => c.name)).toEqual(['dev']);

    const socket = open(gw.url, { token: devOnly });
    await connected(socket);
    for (const cluster of ['prod', 'nope']) {
      const ack = await request<SubscribeAck>(socket, RealtimeEvents.subscribe, { cluster });
      expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    expect(await request<SubscribeAck>(socket, RealtimeEvents.subscribe, { cluster: 'dev' })).toMatchObject({
      ok: true,
    });
  });
});

describe('what a token may see of the realtime side', () => {
  it('ws/stats shows only the clusters the token covers, summed over replicas', async () => {
    const a = await gateway({}, 'gw-a');
    const b = await gateway({}, 'gw-b');
    for (const [gw, cluster] of [
      [a, 'dev'],
      [a, 'prod'],
      [b, 'prod'],
    ] as const) {
      const socket = open(gw.url, { token: viewer });
      await connected(socket);
      expect(await request<SubscribeAck>(socket, RealtimeEvents.subscribe, { cluster })).toMatchObject({
        ok: true,
      });
    }
    const devOnly = await token({ clusters: ['dev' as never] });
    const scoped = WsStatsResponseSchema.parse(
      (await call(a.url, '/api/v1/ws/stats', { auth: devOnly })).body,
    );
    expect(scoped.subscriptions).toEqual({ dev: 1 });
    expect(scoped.replicas.map((r) => r.subscriptions)).toEqual([{ dev: 1 }, {}]);
    expect(JSON.stringify(scoped)).not.toContain('prod');
    const all = WsStatsResponseSchema.parse((await call(b.url, '/api/v1/ws/stats')).body);
    expect(all.subscriptions).toEqual({ dev: 1, prod: 2 });
  });

  it("gives Socket.IO the configured ping timeout (KNM_WS_PING_TIMEOUT_MS), Socket.IO's 20 s by default", async () => {
    const gw = await gateway({ wsPingTimeoutMs: 45_000 });
    expect(gw.app.get(NodesGateway).namespace.server.engine.opts.pingTimeout).toBe(45_000);
    const defaults = await gateway();
    expect(defaults.app.get(NodesGateway).namespace.server.engine.opts.pingTimeout).toBe(20_000);
  });

  it('refuses the default namespace, and closes every connection that has not authenticated', async () => {
    const gw = await gateway({ wsConnectTimeoutMs: 300 });
    const engine = gw.app.get(NodesGateway).namespace.server.engine;
    const root = io(gw.url, { transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(root);
    expect(await refused(root)).toMatch(/default namespace is closed: connect to \/nodes/);
    expect(await refused(open(gw.url, null))).toMatch(/no token/);
    const member = open(gw.url, { token: viewer });
    await connected(member);
    // The two refused ones are cut by the server (the client would have kept them open).
    await waitFor(() => engine.clientsCount === 1, {
      timeout: 10_000,
      what: 'unauthenticated connections closed',
    });
    expect(member.connected).toBe(true);
    const stats = WsStatsResponseSchema.parse((await call(gw.url, '/api/v1/ws/stats')).body);
    expect(stats.clients).toBe(1);
  });

  it('serves /metrics open by default, or only with Bearer KNM_METRICS_TOKEN when set', async () => {
    const open = await gateway();
    expect((await call(open.url, '/metrics', { auth: null })).status).toBe(200);
    const scrapeToken = 'scrape-0123456789-abcdef';
    const closed = await gateway({ metricsToken: scrapeToken });
    expectError(await call(closed.url, '/metrics', { auth: null }), 401, /KNM_METRICS_TOKEN/);
    expectError(await call(closed.url, '/metrics', { auth: viewer }), 401, /KNM_METRICS_TOKEN/);
    const scraped = await call(closed.url, '/metrics', { auth: scrapeToken });
    expect(scraped.status).toBe(200);
    expect(String(scraped.body)).toContain('knm_gateway_sockets');
    expect((await call(closed.url, '/healthz', { auth: null })).status).toBe(200);
  });
});

describe('origins', () => {
  it('REST CORS and the Socket.IO handshake allow listed origins (and the page’s own) only', async () => {
    const gw = await gateway();
    const preflight = (origin: string) =>
      fetch(`${gw.url}/api/v1/clusters`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    expect((await preflight('http://allowed.example')).headers.get('access-control-allow-origin')).toBe(
      'http://allowed.example',
    );
    expect((await preflight('http://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    const simple = await call(gw.url, '/api/v1/clusters', { headers: { origin: 'http://evil.example' } });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();

    expect(
      await refused(open(gw.url, { token: viewer }, { extraHeaders: { origin: 'http://evil.example' } })),
    ).toMatch(/websocket error/);
    await connected(open(gw.url, { token: viewer }, { extraHeaders: { origin: 'http://allowed.example' } }));
    // The dashboard the gateway serves connects from the gateway's own origin, listed or not.
    await connected(open(gw.url, { token: viewer }, { extraHeaders: { origin: new URL(gw.url).origin } }));
  });
});

describe('rate limits', () => {
  const authLimit = { authFailureLimit: 4, authFailureWindowMs: 60_000 };

  it('auth failures per client address are shared by two replicas: then 429 with Retry-After, REST and handshake', async () => {
    const behindProxy = { security: { ...authLimit, trustProxy: 'loopback' } };
    const a = await gateway(behindProxy, 'gw-a');
    const b = await gateway(behindProxy, 'gw-b');
    // The test talks from 127.0.0.1, configured as a trusted proxy: X-Forwarded-For names the client.
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    expect(
      (await call(a.url, '/api/v1/clusters', { auth: 'bad', headers: from('203.0.113.1') })).status,
    ).toBe(401);
    expect((await call(b.url, '/api/v1/clusters', { auth: null, headers: from('203.0.113.1') })).status).toBe(
      401,
    );
    expect(await refused(open(a.url, { token: 'bad' }, { extraHeaders: from('203.0.113.1') }))).toMatch(
      /not/,
    );
    expect(await refused(open(b.url, null, { extraHeaders: from('203.0.113.1') }))).toMatch(/no token/);
    // Fifth request from that address: refused before its (valid) token is looked at, on both replicas.
    for (const gw of [a, b]) {
      const limited = await call(gw.url, '/api/v1/clusters', { headers: from('203.0.113.1') });
      expectError(limited, 429, /too many failed authentications from 203\.0\.113\.1; retry in \d+ s/);
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(await refused(open(gw.url, { token: viewer }, { extraHeaders: from('203.0.113.1') }))).toMatch(
        /too many failed authentications/,
      );
    }
    // Another address is not affected; health stays open to everyone.
    expect((await call(a.url, '/api/v1/clusters', { headers: from('203.0.113.2') })).status).toBe(200);
    await connected(open(b.url, { token: viewer }, { extraHeaders: from('203.0.113.2') }));
    expect((await call(a.url, '/healthz', { auth: null, headers: from('203.0.113.1') })).status).toBe(200);
    expect(await redis.client.get(redis.keyspace.rateLimit('auth', '203.0.113.1'))).toBe('4');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy (no dodging by forging it)', async () => {
    const gw = await gateway({ security: { ...authLimit, trustProxy: '10.0.0.0/8' } });
    for (let i = 0; i < 4; i += 1) {
      const answer = await call(gw.url, '/api/v1/clusters', {
        auth: 'bad',
        headers: { 'x-forwarded-for': `198.51.100.${i}` },
      });
      expect(answer.status).toBe(401);
    }
    const limited = await call(gw.url, '/api/v1/clusters', {
      headers: { 'x-forwarded-for': '198.51.100.77' },
    });
    expectError(limited, 429, /from 127\.0\.0\.1/);
    expect(await redis.client.exists(redis.keyspace.rateLimit('auth', '198.51.100.0'))).toBe(0);
  });

  it('trusts no proxy by default, not even loopback: a local client cannot forge its address or lock another out', async () => {
    const gw = await gateway({ security: authLimit });
    for (let i = 0; i < 4; i += 1) {
      const answer = await call(gw.url, '/api/v1/clusters', {
        auth: 'bad',
        headers: { 'x-forwarded-for': '203.0.113.9' },
      });
      expect(answer.status).toBe(401);
    }
    // Counted against the real peer, not the forged address: the victim is not locked out...
    expect(await redis.client.exists(redis.keyspace.rateLimit('auth', '203.0.113.9'))).toBe(0);
    expect(await redis.client.get(redis.keyspace.rateLimit('auth', '127.0.0.1'))).toBe('4');
    // ...and a new forged address does not escape the lockout, on REST nor on the handshake.
    const fresh = { 'x-forwarded-for': '203.0.113.10' };
    expectError(await call(gw.url, '/api/v1/clusters', { headers: fresh }), 429, /from 127\.0\.0\.1/);
    expect(await refused(open(gw.url, { token: viewer }, { extraHeaders: fresh }))).toMatch(
      /too many failed authentications from 127\.0\.0\.1/,
    );
  });

  it('operations per token subject are shared by two replicas: then 429 with Retry-After; others go on', async () => {
    const limits = { security: { opsRateLimit: 3, opsRateWindowMs: 60_000 } };
    const a = await gateway(limits, 'gw-a');
    const b = await gateway(limits, 'gw-b');
    const olga = await token({ sub: 'olga', role: 'operator' });
    const dryRun = JSON.stringify({ action: 'cordon', nodes: ['n-1'], dryRun: true });
    const post = (gw: RunningGateway, auth: string) =>
      call(gw.url, '/api/v1/clusters/dev/operations', { method: 'POST', auth, body: dryRun });
    expect((await post(a, olga)).status).toBe(200);
    expect((await post(b, olga)).status).toBe(200);
    expect((await post(a, olga)).status).toBe(200);
    for (const gw of [b, a]) {
      const limited = await post(gw, olga);
      expectError(limited, 429, /too many operation requests by "olga"; retry in \d+ s/);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // Cancels count too: over the limit, one is refused before the operation is even looked up.
    expectError(
      await call(a.url, '/api/v1/operations/dev.00000000-0000-4000-8000-000000000000/cancel', {
        method: 'POST',
        auth: olga,
      }),
      429,
      /too many operation requests by "olga"/,
    );
    expect((await post(b, await token({ sub: 'pete', role: 'operator' }))).status).toBe(200);
    // Reads are not limited.
    expect((await call(a.url, '/api/v1/clusters/dev/operations', { auth: olga })).status).toBe(200);
  });

  it('opens a new window when the old one ends (the counter carries a TTL)', async () => {
    const limiter = new RateLimiter(
      redis.client,
      redis.keyspace,
      'ops',
      { limit: 1, windowMs: 400 },
      pino({ level: 'silent' }),
    );
    expect(await limiter.hit('sam')).toMatchObject({ allowed: true, count: 1 });
    const over = await limiter.hit('sam');
    expect(over).toMatchObject({ allowed: false, count: 2 });
    expect(over.retryAfterMs).toBeGreaterThan(0);
    expect(over.retryAfterMs).toBeLessThanOrEqual(400);
    expect(await redis.client.pttl(redis.keyspace.rateLimit('ops', 'sam'))).toBeGreaterThan(0);
    await waitFor(async () => (await limiter.peek('sam')).allowed, {
      timeout: 10_000,
      what: 'the window to end',
    });
    expect(await limiter.hit('sam')).toMatchObject({ allowed: true, count: 1 });
  });

  it('fails open, with a warning, when Redis does not answer', async () => {
    const port = await freePort();
    const dead = createRedisConnection(`redis://127.0.0.1:${port}`, 'commands', { maxRetriesPerRequest: 0 });
    dead.on('error', () => undefined);
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const limiter = new RateLimiter(dead, redis.keyspace, 'auth', { limit: 1, windowMs: 60_000 }, logger);
    try {
      for (let i = 0; i < 3; i += 1)
        expect(await limiter.hit('203.0.113.9')).toMatchObject({ allowed: true });
      expect(await limiter.peek('203.0.113.9')).toMatchObject({ allowed: true });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/failing open/);
    } finally {
      dead.disconnect();
    }
  });
});

describe('size limits', () => {
  it('answers 413 to a body over the limit, 400 to JSON nested too deep, 415 to a non-JSON body', async () => {
    const gw = await gateway({ security: { httpBodyLimit: 4096, jsonMaxDepth: 8 } });
    const admin = await token({ role: 'admin' });
    const post = (body: string, headers: Record<string, string> = {}) =>
      call(gw.url, '/api/v1/clusters/dev/operations', { method: 'POST', auth: admin, body, headers });
    const huge = JSON.stringify({ action: 'cordon', nodes: ['n-1'], reason: 'x'.repeat(5000) });
    expectError(await post(huge), 413, /too large/);
    let deep: unknown = ['n-1'];
    for (let i = 0; i < 9; i += 1) deep = { nested: deep };
    expectError(
      await post(JSON.stringify({ action: 'cordon', nodes: deep })),
      400,
      /nests deeper than 8 levels/,
    );
    expectError(await post('action=cordon', { 'content-type': 'text/plain' }), 415, /must be JSON/);
    expectError(await post('{"action": "cordon",'), 400, /not valid JSON/);
    expectError(await post('{"__proto__": {"admin": true}, "action": "cordon"}'), 400, /JSON/);
    // A node name may have 253 characters; a longer path parameter matches no route.
    expectError(
      await call(gw.url, `/api/v1/clusters/dev/nodes/${'n'.repeat(253)}`),
      404,
      /is not in cluster "dev"/,
    );
    expectError(await call(gw.url, `/api/v1/clusters/dev/nodes/${'n'.repeat(254)}`), 404, /Cannot GET/);
    // Within the limits the same route works.
    expect((await post(JSON.stringify({ action: 'cordon', nodes: ['n-1'], dryRun: true }))).status).toBe(200);
  });

  it('closes a socket that sends a message over the Socket.IO limit; the gateway carries on', async () => {
    const gw = await gateway({ security: { wsMaxMessageBytes: 2048 } });
    const socket = open(gw.url, { token: viewer });
    await connected(socket);
    const closed = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    socket.emit(RealtimeEvents.subscribe, { cluster: 'dev', pad: 'x'.repeat(4096) });
    expect(await closed).toMatch(/transport (close|error)/);
    const next = open(gw.url, { token: viewer });
    await connected(next);
    expect(await request<SubscribeAck>(next, RealtimeEvents.subscribe, { cluster: 'dev' })).toMatchObject({
      ok: true,
    });
  });
});

describe('malformed HTTP', () => {
  it('handles a malformed chunked request straight to a gateway (no socket address left): no TypeError, a 400', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    // Behind a trusted proxy, X-Forwarded-For makes Fastify ask whether the (gone) peer is trusted.
    const gw = await startGateway(redis, { security: { trustProxy: 'loopback' } }, undefined, logger);
    closers.unshift(() => gw.close());
    const { port } = new URL(gw.url);
    for (let i = 0; i < 5; i += 1) {
      const answer = await rawExchange(
        Number(port),
        `POST /api/v1/clusters/dev/operations HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.5\r\n` +
          'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      );
      // Node's parser refuses the chunk while the request's hooks are still queued.
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    }
    // A request after them is served, so the malformed ones have gone through every hook.
    expect((await call(gw.url, '/api/v1/clusters')).status).toBe(200);
    expect(lines.filter((l) => /TypeError|"level":50/.test(l))).toEqual([]);
  });
});

describe('cached routes (served by Fastify directly, not by Nest)', () => {
  it('keep every check, in order: the auth-failure limit, token, scope, cluster name, query; headers and CORS', async () => {
    const gw = await gateway({ security: { authFailureLimit: 2, authFailureWindowMs: 60_000 } });
    const devOnly = await token({ clusters: ['dev' as never] });
    const routes = [
      '/api/v1/clusters/dev/nodes?limit=1',
      '/api/v1/clusters/dev/nodes/n-1',
      '/api/v1/clusters/dev/pod-counts',
      '/api/v1/clusters/dev/resources',
    ];
    for (const path of routes) {
      const ok = await call(gw.url, path, { headers: { origin: 'http://allowed.example' } });
      expect(ok.status, path).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe('http://allowed.example');
      // CORS's Vary: Origin is kept beside the answer's own Vary: Accept-Encoding.
      expect(
        ok.headers
          .get('vary')
          ?.toLowerCase()
          .split(/\s*,\s*/)
          .sort(),
      ).toEqual(['accept-encoding', 'origin']);
      expect(ok.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(ok.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(
        (await call(gw.url, path, { headers: { origin: 'http://evil.example' } })).headers.get(
          'access-control-allow-origin',
        ),
      ).toBeNull();
      expectError(
        await call(gw.url, path.replace('/dev/', '/prod/'), { auth: devOnly }),
        403,
        /does not cover cluster "prod"/,
      );
    }
    expectError(await call(gw.url, '/api/v1/clusters/Bad_Name/pod-counts'), 400, /cluster name in the path/);
    expectError(await call(gw.url, '/api/v1/clusters/dev/nodes?limit=0'), 400, /node list query/);
    expectError(await call(gw.url, '/api/v1/clusters/nope/resources'), 404, /not registered/);
    // A token in the URL and no token: two 401s, counted; the address is then at the limit.
    expectError(await call(gw.url, '/api/v1/clusters/dev/nodes/n-1?access_token=x'), 401, /token in the URL/);
    expectError(await call(gw.url, '/api/v1/clusters/dev/pod-counts', { auth: null }), 401, /no token/);
    for (const path of routes) {
      const limited = await call(gw.url, path);
      expectError(limited, 429, /too many failed authentications/);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });
});

describe('security headers', () => {
  it('sets CSP, nosniff, frame options, Referrer-Policy and HSTS on answers and errors, and no X-Powered-By', async () => {
    const gw = await gateway({ security: { authFailureLimit: 1 } });
    const answers = [
      await call(gw.url, '/api/v1/clusters'),
      await call(gw.url, '/api/v1/clusters/Bad_Name/nodes'),
      await call(gw.url, '/api/v1/clusters', { auth: null }),
      await call(gw.url, '/healthz', { auth: null }),
      await call(gw.url, '/api/v1/clusters'), // 429 after the 401 above
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 400, 401, 200, 429]);
    for (const answer of answers) {
      const h = answer.headers;
      expect(h.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(h.get('content-security-policy')).toMatch(/frame-ancestors 'self'/);
      expect(h.get('content-security-policy')).toMatch(/object-src 'none'/);
      expect(h.get('x-content-type-options')).toBe('nosniff');
      expect(h.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(h.get('referrer-policy')).toBe('no-referrer');
      expect(h.get('strict-transport-security')).toMatch(/max-age=\d{7,}/);
      expect(h.get('x-powered-by')).toBeNull();
      expect(h.get('server')).toBeNull();
    }
  });
});
