import { Writable } from 'node:stream';
import { pino } from 'pino';
import { RoleMap } from '@knm/auth';
import {
  freePort,
  startOidcProvider,
  type TestOidcProvider,
  type TestPerson,
  type TestRedis,
} from '@knm/testing';
import { createGatewayApp } from '../../src/app/gateway-app.js';
import type { GatewayConfig } from '../../src/config/gateway-config.js';
import type { OidcConfig } from '../../src/oidc/oidc-config.js';
import { SECRET, type RunningGateway } from './gateway-harness.js';

/** The people of the test provider and what the role map makes of them. */
export const PEOPLE: TestPerson[] = [
  { id: 'ana', email: 'ana@example.com', groups: ['team-a', 'everyone'] },
  { id: 'vic', email: 'vic@example.com', groups: ['auditors'] },
  { id: 'bob', email: 'bob@example.com', groups: ['everyone'] },
  { id: 'sam', email: 'sam@example.com', groups: ['sre'] },
];
export const ROLE_MAP = 'sre=admin:*;team-a=operator:dev,staging;auditors=viewer:dev';

/** A gateway signing people in through a test provider, with every log line it wrote. */
export interface OidcGateway extends RunningGateway {
  provider: TestOidcProvider;
  logs: string[];
}

/**
 * Starts a test OpenID Provider and a gateway (on a port known in advance: the
 * provider only redirects to registered callback URLs) that signs people in through
 * it, logging at trace into `logs`.
 */
export async function startOidcGateway(
  redis: TestRedis,
  options: {
    accessTokenTtl?: number;
    refreshTokenTtl?: number;
    oidc?: Partial<OidcConfig>;
  } = {},
): Promise<OidcGateway> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const provider = await startOidcProvider({
    redirectUris: [`${url}/api/v1/auth/callback`],
    postLogoutRedirectUris: [`${url}/`],
    people: PEOPLE,
    ...(options.accessTokenTtl !== undefined ? { accessTokenTtl: options.accessTokenTtl } : {}),
    ...(options.refreshTokenTtl !== undefined ? { refreshTokenTtl: options.refreshTokenTtl } : {}),
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const config: GatewayConfig = {
    port,
    host: '127.0.0.1',
    redisUrl: redis.url,
    redisNamespace: redis.namespace,
    jwtSecret: SECRET,
    corsOrigins: [],
    staleAfterMs: 15_000,
    transports: ['websocket'],
    maxBufferedMessages: 256,
    maxBufferedBytes: 1024 * 1024,
    slowSocketTimeoutMs: 60_000,
    maxUnackedBytes: 32 * 1024,
    liveRate: 20,
    batchBudgetBytes: 64 * 1024 * 1024,
    compressMinBytes: 16 * 1024,
    logLevel: 'trace',
    gatewayId: 'gw-oidc',
    oidc: {
      issuer: provider.issuer,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      scopes: ['openid', 'email', 'groups', 'offline_access'],
      usernameClaim: 'email',
      groupsClaim: 'groups',
      roleMap: RoleMap.parse(ROLE_MAP),
      sessionTtlSeconds: 3600,
      loginLimit: 60,
      ...options.oidc,
    },
  };
  const app = await createGatewayApp(config, { logger: pino({ level: 'trace' }, sink) });
  await app.listen(port, '127.0.0.1');
  let closed = false;
  return {
    app,
    id: 'gw-oidc',
    url,
    provider,
    logs,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      await provider.close();
    },
  };
}

/**
 * A browser's HTTP side: a cookie jar per host and redirects followed by hand, so
 * the test sees every hop (and that no token ever appears in one).
 */
export class CookieBrowser {
  private readonly jars = new Map<string, Map<string, string>>();
  /** Every URL visited. */
  readonly visited: string[] = [];

  /** The cookie `name` this browser holds for `url`'s host. */
  cookie(url: string, name: string): string | undefined {
    return this.jars.get(new URL(url).host)?.get(name);
  }

  /** The `Cookie` header this browser sends to `url`. */
  cookieHeader(url: string): string {
    return [...(this.jars.get(new URL(url).host) ?? new Map<string, string>())]
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
  }

  /** One request (no redirect followed); records the cookies it sets. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    this.visited.push(url);
    const headers = new Headers(init.headers);
    const jar = this.cookieHeader(url);
    if (jar) headers.set('cookie', jar);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    const host = new URL(url).host;
    for (const set of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = set.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const jarOfHost = this.jars.get(host) ?? new Map<string, string>();
      this.jars.set(host, jarOfHost);
      if (attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))) jarOfHost.delete(name);
      else jarOfHost.set(name, pair.slice(eq + 1).trim());
    }
    return response;
  }

  /** Follows redirects from `url` until an answer that is not one; returns it and where it ended. */
  async follow(url: string, init: RequestInit = {}): Promise<{ response: Response; url: string }> {
    let current = url;
    let response = await this.fetch(current, init);
    for (let hops = 0; response.status >= 300 && response.status < 400; hops += 1) {
      if (hops > 20) throw new Error('too many redirects');
      current = new URL(response.headers.get('location') ?? '', current).toString();
      response = await this.fetch(current);
    }
    return { response, url: current };
  }

  /**
   * Signs in as `person` from the gateway at `gatewayUrl`: the gateway's login
   * redirect, the provider's form, back to the gateway's callback and the dashboard.
   * `via` may rewrite the provider's authorization URL (to sign in somewhere else).
   */
  async signIn(gatewayUrl: string, person: string, via: (authUrl: URL) => URL = (u) => u): Promise<string> {
    const login = await this.fetch(`${gatewayUrl}/api/v1/auth/login`);
    if (login.status !== 302) throw new Error(`login answered ${login.status}: ${await login.text()}`);
    const authUrl = via(new URL(login.headers.get('location') ?? ''));
    const { response: form, url: formUrl } = await this.follow(authUrl.toString());
    const html = await form.text();
    const action = /action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no sign-in form at ${formUrl}: ${html.slice(0, 200)}`);
    const posted = await this.fetch(new URL(action, formUrl).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: person }).toString(),
    });
    const next = new URL(posted.headers.get('location') ?? '', formUrl).toString();
    return (await this.follow(next)).url;
  }
}
