import type { ConnectionState, WatchState } from '@knm/client';

/** What the connection badge says. */
export type BadgeState = 'connecting' | 'live' | 'reconnecting' | 'offline';

/** Inputs of {@link badgeState}. */
export interface BadgeInputs {
  client: ConnectionState;
  watch: WatchState | undefined;
  /** Whether the watch was live at least once (before: `connecting`). */
  wasLive: boolean;
  /** When the connection was lost (ms), while it is lost. */
  lostAt: number | undefined;
  /** `navigator.onLine`. */
  online: boolean;
  now: number;
  /** Lost for longer than this -> `offline`. Default 30,000 ms. */
  offlineAfterMs?: number;
}

/**
 * The badge: `live` while the watch applies changes as they come; `reconnecting`
 * while the connection is being restored (the table keeps the last known data);
 * `offline` when the browser is offline or the connection has been lost for longer
 * than `offlineAfterMs` (the client keeps retrying with backoff either way);
 * `connecting` before the first time live.
 */
export function badgeState(inputs: BadgeInputs): BadgeState {
  if (!inputs.online) return 'offline';
  if (inputs.client === 'connected' && inputs.watch === 'live') return 'live';
  if (!inputs.wasLive) return 'connecting';
  if (inputs.lostAt !== undefined && inputs.now - inputs.lostAt > (inputs.offlineAfterMs ?? 30_000))
    return 'offline';
  return 'reconnecting';
}
