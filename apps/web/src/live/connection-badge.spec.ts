import { describe, expect, it } from 'vitest';
import { badgeState, type BadgeInputs } from './connection-badge.js';

const base: BadgeInputs = {
  client: 'connected',
  watch: 'live',
  wasLive: true,
  lostAt: undefined,
  online: true,
  now: 100_000,
};

describe('badgeState', () => {
  it('is live only when connected and the watch is live', () => {
    expect(badgeState(base)).toBe('live');
    expect(badgeState({ ...base, watch: 'loading' })).toBe('reconnecting');
    expect(badgeState({ ...base, watch: 'subscribing', wasLive: false })).toBe('connecting');
  });

  it('reconnecting while lost, offline after the limit or when the browser is offline', () => {
    const lost = { ...base, client: 'disconnected' as const, watch: 'waiting' as const, lostAt: 90_000 };
    expect(badgeState(lost)).toBe('reconnecting');
    expect(badgeState({ ...lost, now: 130_001 })).toBe('offline');
    expect(badgeState({ ...base, online: false })).toBe('offline');
  });
});
