import type { WatchEvent } from './lister-watcher.js';

/**
 * Why a full list was made: the first one; a 410 (compacted history) that forced a
 * relist; or `stuck`: the server kept refusing resumes (an error status other than
 * 410/429/5xx, 5xx for longer than the reflector's bound, or watches it ended at once
 * without an event, e.g. while replaying a backlog too large to buffer for us).
 */
export type ListReason = 'initial' | 'expired' | 'stuck';

/** Why a watch ended (and was restarted). */
export type WatchEndReason = 'closed' | 'watchdog' | 'error' | 'expired' | 'stopped';

/**
 * What a {@link Reflector} reports, for metrics and logs. Every method is optional
 * and called synchronously on the reflector's loop: keep them cheap, never throw
 * (a throwing observer is caught and ignored).
 */
export interface ReflectorObserver {
  /** A watch event arrived (before it is applied). */
  onEvent?(resource: string, type: WatchEvent<unknown>['type']): void;
  /** A full list completed and was handed to the store. */
  onListed?(
    resource: string,
    info: { reason: ListReason; items: number; pages: number; durationMs: number; resourceVersion: string },
  ): void;
  /** A 410 Expired (HTTP or watch ERROR event): a relist follows. */
  onExpired?(resource: string): void;
  /** A watch started (the server answered 200). */
  onWatchStarted?(resource: string, resourceVersion: string | undefined): void;
  /** A watch ended; unless the reflector stopped, another one follows. */
  onWatchEnded?(resource: string, info: { reason: WatchEndReason; events: number; durationMs: number }): void;
  /** A request or a stream failed; the next attempt is in `retryInMs`. */
  onError?(resource: string, error: Error, retryInMs: number): void;
  /**
   * Reachability changed: `false` when a list or watch request could not be made (the
   * API is unreachable or answering errors), `true` when one succeeded again.
   */
  onHealth?(resource: string, healthy: boolean, error?: Error): void;
}
