import { describe, expect, it } from 'vitest';
import {
  SessionToken,
  TOKEN_STORAGE_KEY,
  TokenFormatError,
  readClaims,
  takeTokenFromFragment,
} from './session-token.js';
import { MemoryStorage } from '../storage/memory-storage.js';
import { testJwt as jwt } from './test-jwt.js';

describe('readClaims', () => {
  it('reads role, clusters, subject and expiry', () => {
    const claims = readClaims(jwt({ sub: 'ana', role: 'operator', clusters: ['dev'], exp: 2_000_000_000 }));
    expect(claims).toEqual({ sub: 'ana', role: 'operator', clusters: ['dev'], expiresAt: 2_000_000_000_000 });
  });

  it('rejects text that is not a JWT, and a JWT without knm claims', () => {
    expect(() => readClaims('hello')).toThrow(TokenFormatError);
    expect(() => readClaims('a.%%%.c')).toThrow(TokenFormatError);
    expect(() => readClaims(jwt({ sub: 'x', role: 'root', clusters: '*' }))).toThrow(/not a knm token/);
  });
});

describe('takeTokenFromFragment', () => {
  it('takes the token and keeps the rest of the fragment', () => {
    expect(takeTokenFromFragment('#token=abc.def.ghi&cluster=dev')).toEqual({
      token: 'abc.def.ghi',
      rest: '#cluster=dev',
    });
    expect(takeTokenFromFragment('#token=abc')).toEqual({ token: 'abc', rest: '' });
    expect(takeTokenFromFragment('#cluster=dev')).toBeUndefined();
    expect(takeTokenFromFragment('')).toBeUndefined();
  });
});

describe('SessionToken', () => {
  it('moves a fragment token to storage and reports a bad one without storing it', () => {
    const storage = new MemoryStorage();
    const session = new SessionToken(storage);
    const good = jwt({ sub: 'ana', role: 'viewer', clusters: '*' });
    expect(session.adoptFragment(`#token=${good}`)).toEqual({ rest: '' });
    expect(storage.items.get(TOKEN_STORAGE_KEY)).toBe(good);
    session.clear();
    const bad = session.adoptFragment('#token=nope');
    expect(bad?.error).toMatch(/not a JWT/);
    expect(session.get()).toBeUndefined();
  });
});
