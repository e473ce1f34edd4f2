import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthenticationError, ForbiddenError } from './auth-errors.js';
import { bearerToken } from './bearer-token.js';
import { assertClusterAccess, assertRole } from './cluster-access.js';
import { DurationParseError, parseDurationSeconds } from './duration.js';
import { signToken } from './sign-token.js';
import { TokenVerifier } from './token-verifier.js';

const secret = 'a-test-secret-that-is-long-enough-0123456789';
const verifier = new TokenVerifier({ secret });

async function failure(token: string | undefined, v = verifier): Promise<AuthenticationError> {
  try {
    await v.verify(token);
  } catch (err) {
    if (err instanceof AuthenticationError) return err;
    throw err;
  }
  throw new Error('token was accepted');
}

describe('TokenVerifier', () => {
  it('accepts a token made by signToken and returns its claims', async () => {
    const token = await signToken(
      { sub: 'ana', role: 'operator', clusters: ['dev' as never, 'prod' as never] },
      { secret },
    );
    const principal = await verifier.verify(token);
    expect(principal).toMatchObject({ sub: 'ana', role: 'operator', clusters: ['dev', 'prod'] });
    expect(principal.exp).toBeGreaterThan(Date.now() / 1000 + 8 * 3600 - 60);
  });

  it('keeps a verified token until its expiry, then refuses it as expired', async () => {
    let now = Date.now();
    const clocked = new TokenVerifier({ secret, clock: () => new Date(now) });
    const token = await signToken({ sub: 'ana', role: 'viewer', clusters: '*' }, { secret, ttlSeconds: 60 });
    const first = await clocked.verify(token);
    first.sub = 'changed by a caller';
    expect((await clocked.verify(token)).sub).toBe('ana');
    now += 30_000;
    expect((await clocked.verify(token)).sub).toBe('ana');
    now += 40_000; // past exp + the 5 s tolerance
    expect((await failure(token, clocked)).reason).toBe('expired');
    expect((await failure(token, clocked)).reason).toBe('expired');
  });

  it('a token that failed once fails every time (only verified tokens are kept)', async () => {
    const forged = await signToken({ sub: 'a', role: 'admin', clusters: '*' }, { secret: `${secret}-other` });
    expect((await failure(forged)).message).toMatch(/signature/);
    expect((await failure(forged)).message).toMatch(/signature/);
  });

  it('accepts clusters "*"', async () => {
    const token = await signToken({ sub: 'root', role: 'admin', clusters: '*' }, { secret, ttlSeconds: 60 });
    expect((await verifier.verify(token)).clusters).toBe('*');
  });

  const cases: { name: string; token: () => Promise<string | undefined>; reason: string; message: RegExp }[] =
    [
      { name: 'missing', token: async () => undefined, reason: 'missing', message: /no token/ },
      {
        name: 'expired',
        token: () =>
          signToken(
            { sub: 'a', role: 'viewer', clusters: '*' },
            { secret, ttlSeconds: 60, clock: () => new Date(Date.now() - 3_600_000) },
          ),
        reason: 'expired',
        message: /expired/,
      },
      {
        name: 'forged (other secret)',
        token: () =>
          signToken({ sub: 'a', role: 'admin', clusters: '*' }, { secret: `${secret}-but-another-one` }),
        reason: 'invalid',
        message: /signature/,
      },
      {
        name: 'alg none',
        token: async () =>
          new UnsecuredJWT({ role: 'admin', clusters: '*' }).setSubject('a').setExpirationTime('1h').encode(),
        reason: 'invalid',
        message: /algorithm "none"/,
      },
      {
        name: 'HS512 with the right secret',
        token: () =>
          new SignJWT({ role: 'admin', clusters: '*' })
            .setProtectedHeader({ alg: 'HS512' })
            .setSubject('a')
            .setExpirationTime('1h')
            .sign(new TextEncoder().encode(secret)),
        reason: 'invalid',
        message: /algorithm "HS512"/,
      },
      {
        name: 'no exp',
        token: () =>
          new SignJWT({ role: 'admin', clusters: '*' })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('a')
            .sign(new TextEncoder().encode(secret)),
        reason: 'invalid',
        message: /exp/,
      },
      {
        name: 'unknown role',
        token: () =>
          new SignJWT({ role: 'root', clusters: '*' })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('a')
            .setExpirationTime('1h')
            .sign(new TextEncoder().encode(secret)),
        reason: 'invalid',
        message: /role/,
      },
      { name: 'garbage', token: async () => 'not-a-jwt', reason: 'invalid', message: /not a JWT/ },
    ];
  for (const c of cases) {
    it(`refuses a ${c.name} token`, async () => {
      const token = await c.token();
      const err = await failure(token);
      expect(err.reason).toBe(c.reason);
      expect(err.message).toMatch(c.message);
      if (token) expect(err.message).not.toContain(token);
    });
  }

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => new TokenVerifier({ secret: 'short' })).toThrow(/at least 32 bytes/);
  });
});

describe('bearerToken', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer   xyz', 'xyz'],
  ])('%j -> %j', (header, token) => expect(bearerToken(header)).toBe(token));

  it('refuses another scheme', () => {
    expect(() => bearerToken('Basic dXNlcjpwYXNz')).toThrow(AuthenticationError);
  });
});

describe('parseDurationSeconds', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['8h', 28_800],
    ['7d', 604_800],
    ['1h30m', 5_400],
    ['120', 120],
  ])('%s = %d s', (text, seconds) => expect(parseDurationSeconds(text)).toBe(seconds));

  it.each(['', 'h', '8x', '1h 30m', '0s', '-5m'])('refuses %j', (text) => {
    expect(() => parseDurationSeconds(text)).toThrow(DurationParseError);
  });
});

describe('cluster access', () => {
  const viewer = { sub: 'v', role: 'viewer' as const, clusters: ['dev' as never], exp: 0 };
  it('allows a listed cluster and refuses another', () => {
    expect(() => assertClusterAccess(viewer, 'dev')).not.toThrow();
    expect(() => assertClusterAccess(viewer, 'prod')).toThrow(ForbiddenError);
    expect(() => assertClusterAccess({ ...viewer, clusters: ['*'] }, 'prod')).not.toThrow();
  });
  it('orders roles viewer < operator < admin', () => {
    expect(() => assertRole(viewer, 'viewer')).not.toThrow();
    expect(() => assertRole(viewer, 'operator')).toThrow(/needs role "operator"/);
    expect(() => assertRole({ ...viewer, role: 'admin' }, 'operator')).not.toThrow();
  });
});
