import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStorage } from '../storage/memory-storage.js';
import { SessionStore } from './session-store.js';
import { TOKEN_STORAGE_KEY } from './session-token.js';
import { testJwt } from './test-jwt.js';

const NOW_S = 1_800_000_000;

function setup(storage = new MemoryStorage()) {
  const events: string[] = [];
  const session = new SessionStore(storage, {
    signedIn: () => events.push('signedIn'),
    signedOut: () => events.push('signedOut'),
  });
  return { storage, session, events };
}

describe('SessionStore', () => {
  beforeEach(() => vi.useFakeTimers({ now: NOW_S * 1000 }));
  afterEach(() => vi.useRealTimers());

  it('signs in with a knm token: claims, role, connections opened', () => {
    const { storage, session, events } = setup();
    const token = testJwt({ sub: 'ana', role: 'operator', clusters: '*', exp: NOW_S + 60 });
    session.signIn(token);
    expect(session.claims.value?.sub).toBe('ana');
    expect(session.canOperate.value).toBe(true);
    expect(session.signInError.value).toBeUndefined();
    expect(storage.items.get(TOKEN_STORAGE_KEY)).toBe(token);
    expect(events).toEqual(['signedIn']);
  });

  it('refuses an expired or unreadable token without connecting', () => {
    const { storage, session, events } = setup();
    session.signIn(testJwt({ sub: 'ana', role: 'admin', clusters: '*', exp: NOW_S }));
    expect(session.signInError.value).toMatch(/expired/);
    expect(storage.items.has(TOKEN_STORAGE_KEY)).toBe(false);
    session.signIn('nope');
    expect(session.signInError.value).toMatch(/not a JWT/);
    expect(session.claims.value).toBeUndefined();
    expect(events).toEqual([]);
  });

  it('a viewer may not operate', () => {
    const { session } = setup();
    session.signIn(testJwt({ sub: 'vic', role: 'viewer', clusters: '*' }));
    expect(session.canOperate.value).toBe(false);
  });

  it('adopts a #token= fragment, leaves the rest of it, and resumes with the stored token', () => {
    const storage = new MemoryStorage();
    const first = setup(storage);
    const token = testJwt({ sub: 'ana', role: 'viewer', clusters: '*' });
    expect(first.session.adoptFragment(`#token=${token}&x=1`)).toBe('#x=1');
    expect(first.session.adoptFragment('#x=1')).toBeUndefined();
    expect(first.session.adoptFragment('#token=nope')).toBe('');
    expect(first.session.signInError.value).toMatch(/not a JWT/);
    // A reload: a new store on the same tab storage.
    const reloaded = setup(storage);
    reloaded.session.resume();
    expect(reloaded.session.claims.value?.sub).toBe('ana');
    expect(reloaded.events).toEqual(['signedIn']);
  });

  it('signs out: connections closed, token forgotten, the message shown', () => {
    const { storage, session, events } = setup();
    session.signIn(testJwt({ sub: 'ana', role: 'viewer', clusters: '*' }));
    session.signOut('sign in again');
    expect(events).toEqual(['signedIn', 'signedOut']);
    expect(storage.items.has(TOKEN_STORAGE_KEY)).toBe(false);
    expect(session.claims.value).toBeUndefined();
    expect(session.signInError.value).toBe('sign in again');
    const reloaded = setup(storage);
    reloaded.session.resume();
    expect(reloaded.session.claims.value).toBeUndefined();
    expect(reloaded.events).toEqual([]);
  });
});
