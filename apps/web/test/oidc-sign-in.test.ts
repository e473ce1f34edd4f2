/**
 * Signing in to the dashboard through a real OpenID Provider (`oidc-provider`,
 * started here) in real Chromium, against a gateway process on real Redis: the
 * single sign-on button, the provider's form, back to the dashboard showing only the
 * clusters the person's groups map to, no operation controls for a viewer (and the
 * gateway's 403 if it tries anyway), nothing readable by the page (no token in
 * storage, an HttpOnly cookie), a refused person told why, and sign-out at the
 * gateway and the provider. Then no token in any URL or gateway log line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  createTestRedis,
  freePort,
  spawnTestGateway,
  startOidcProvider,
  JWT_SHAPE,
  type ManagedProcess,
  type TestOidcProvider,
  type TestRedis,
} from '@knm/testing';
import { launchBrowser, type Browser } from './support/browser.js';
import { seedCluster, snapshot } from './support/seed-cluster.js';

/** What the page callbacks read (this file compiles with Node types, not the DOM lib). */
interface PageGlobals {
  document: { cookie: string };
  localStorage: Record<string, string>;
  sessionStorage: Record<string, string>;
}

let redis: TestRedis;
let provider: TestOidcProvider;
let gateway: ManagedProcess;
let browser: Browser;
let url: string;
/** Every URL any page of the run navigated to or requested. */
const requested: string[] = [];

async function newPage(): Promise<Page> {
  const page = await browser.newPage();
  page.on('request', (r) => requested.push(r.url()));
  return page;
}

/** From the dashboard's sign-in form through the provider's form back to the dashboard. */
async function signIn(page: Page, person: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.locator('[data-testid=sso-sign-in]').click();
  await page.waitForURL((u) => u.toString().startsWith(provider.issuer));
  await page.getByLabel('Username').fill(person);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${url}/`);
}

beforeAll(async () => {
  redis = await createTestRedis();
  await seedCluster(redis, 'dev', [snapshot('dev-1'), snapshot('dev-2')], { 'dev-1': 3 });
  await seedCluster(redis, 'prod', [snapshot('prod-1')], {});
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({
    redirectUris: [`${url}/api/v1/auth/callback`],
    postLogoutRedirectUris: [`${url}/`],
    people: [
      { id: 'vic', email: 'vic@example.com', groups: ['auditors', 'everyone'] },
      { id: 'bob', email: 'bob@example.com', groups: ['everyone'] },
    ],
  });
  gateway = spawnTestGateway({
    redis,
    jwtSecret: 'web-oidc-secret-0123456789-abcdefghijklmn',
    port,
    env: {
      KNM_CORS_ORIGINS: url,
      LOG_LEVEL: 'trace',
      KNM_OIDC_ISSUER: provider.issuer,
      KNM_OIDC_CLIENT_ID: provider.clientId,
      KNM_OIDC_CLIENT_SECRET: provider.clientSecret,
      KNM_OIDC_SCOPES: 'openid email groups offline_access',
      KNM_OIDC_USERNAME_CLAIM: 'email',
      KNM_OIDC_ROLE_MAP: 'sre=admin:*;auditors=viewer:dev',
    },
  });
  await gateway.waitForOutput(/gateway listening/, 60_000);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.stop('SIGTERM', 10_000);
  await provider?.close();
  await redis?.close();
});

describe('dashboard sign-in through an OpenID Provider', () => {
  it('signs a viewer in: only its mapped clusters, no operations, nothing readable by the page; signs out', async () => {
    const page = await newPage();
    await signIn(page, 'vic');
    await page.locator('[data-testid=connection-badge][data-state=live]').waitFor({ timeout: 30_000 });
    await expect
      .poll(() => page.locator('.user span').first().textContent())
      .toMatch(/vic@example\.com · viewer/);
    await expect
      .poll(() =>
        page
          .locator('nav.clusters button.cluster')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-cluster'))),
      )
      .toEqual(['dev']);
    await page.locator('.spacer .row[data-node=dev-1]').waitFor();
    expect(await page.locator('[role=toolbar][aria-label="Node operations"]').count()).toBe(0);
    await browser.screenshot(page, 'oidc-viewer');

    // The page itself asking: the cookie goes along, the gateway refuses the role and the other cluster.
    const attempts = await page.evaluate(async () => {
      const post = await fetch('/api/v1/clusters/dev/operations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'cordon', params: {}, nodes: ['dev-1'] }),
      });
      const prod = await fetch('/api/v1/clusters/prod/nodes');
      return {
        post: post.status,
        message: ((await post.json()) as { message: string }).message,
        prod: prod.status,
      };
    });
    expect(attempts).toEqual({
      post: 403,
      message: 'this needs role "operator"; your token has "viewer"',
      prod: 403,
    });

    // Nothing the page can read holds a credential: no storage, the cookie is HttpOnly.
    const readable = await page.evaluate(() => {
      const page = globalThis as unknown as PageGlobals;
      return {
        cookie: page.document.cookie,
        local: JSON.stringify({ ...page.localStorage }),
        session: JSON.stringify({ ...page.sessionStorage }),
      };
    });
    expect(readable.cookie).toBe('');
    for (const value of [readable.local, readable.session]) {
      expect(value).not.toMatch(/eyJ/);
      for (const token of provider.issued) expect(value).not.toContain(token);
    }
    const cookies = await browser.context.cookies(url);
    const session = cookies.find((c) => c.name === 'knm_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.toString().startsWith(provider.issuer));
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${url}/`);
    await page.locator('[data-testid=sso-sign-in]').waitFor();
    expect((await browser.context.cookies(url)).some((c) => c.name === 'knm_session')).toBe(false);
    expect(await provider.liveRefreshTokens('vic')).toBe(0);
    const replay = await fetch(`${url}/api/v1/clusters`, {
      headers: { cookie: `knm_session=${session?.value ?? ''}` },
    });
    expect(replay.status).toBe(401);
    await page.close();
  });

  it('shows the sign-in page with the gateway’s reason when the session ends under it', async () => {
    const page = await newPage();
    await signIn(page, 'vic');
    await page.locator('[data-testid=connection-badge][data-state=live]').waitFor({ timeout: 30_000 });
    // The session is gone (ended elsewhere, or its time was up): the next request is refused.
    const sessions = await redis.client.keys(`${redis.namespace}:session:*`);
    expect(sessions.length).toBeGreaterThan(0);
    await redis.client.del(...sessions);
    await page.locator('[data-testid=sso-sign-in]').waitFor({ timeout: 30_000 });
    await expect
      .poll(() => page.locator('#token-error').textContent())
      .toBe('your sign-in session has ended: sign in again');
    await page.close();
    // vic is still signed in at the provider: the next person starts from a fresh browser.
    await browser.context.clearCookies();
  });

  it('tells a person whose groups map to no role why they cannot come in', async () => {
    const page = await newPage();
    await signIn(page, 'bob');
    await expect
      .poll(() => page.locator('#token-error').textContent())
      .toBe(
        'bob@example.com is not allowed in knm: your groups (everyone) are not mapped to a knm role. Ask an administrator to map one of your groups (KNM_OIDC_ROLE_MAP).',
      );
    await browser.screenshot(page, 'oidc-refused');
    await page.close();
  });

  it('put no token in a URL or a gateway log line', () => {
    expect(provider.issued.length).toBeGreaterThan(0);
    const output = gateway.output();
    expect(output).toMatch(/"msg":"signed in"/);
    for (const token of provider.issued) {
      expect(output).not.toContain(token);
      for (const address of requested) expect(address).not.toContain(token);
    }
    for (const code of provider.codes) expect(output).not.toContain(code);
    expect(output).not.toContain(provider.clientSecret);
    expect(output).not.toMatch(JWT_SHAPE);
    for (const address of requested) expect(address).not.toMatch(JWT_SHAPE);
  });
});
