import { ApiError } from './errors/api-error.js';
import { ResourceExpiredError } from './errors/resource-expired-error.js';

/**
 * What a failed watch resume means, after client-go's `Reflector.watch`:
 *
 * - `expired`: 410 (HTTP or an ERROR event): the history since our resourceVersion is
 *   gone; only a list helps, so the reflector relists at once.
 * - `unreachable`: no answer (connection refused or reset, DNS, TLS, a timeout), or an
 *   established watch whose connection died after it had lived: the API or the path
 *   to it is down, and a list would fail the same way. Re-watch from the last
 *   resourceVersion with backoff; never a reason to list.
 * - `throttled`: 429: the server asks us to wait. Re-watch after `Retry-After` or the
 *   backoff; never a reason to list.
 * - `internal`: 5xx: an API server in trouble (a restart, etcd leader election).
 *   Retried from the last resourceVersion for a bounded time (client-go's
 *   `MaxInternalErrorRetryDuration`) before it counts as a refused resume.
 * - `refused`: the server answered and would not serve the resume: another error
 *   status (400, 403, 404, ...), or a watch it accepted and then ended, cleanly or
 *   broken, sooner than the minimum watch duration without a single event (client-go
 *   calls it "very short watch": e.g. a server that drops us while replaying a backlog
 *   larger than it will buffer). Resuming may never succeed; a list can, so these
 *   count toward the reflector's `relistAfterFailedResumes`.
 */
export type WatchFailureKind = 'expired' | 'unreachable' | 'throttled' | 'internal' | 'refused';

/** How a watch attempt went before it failed. */
export interface WatchAttempt {
  /** The server answered the watch request with a stream. */
  established: boolean;
  /** Events (bookmarks included) the stream delivered. */
  events: number;
  /** From the request to the failure, ms. */
  durationMs: number;
}

/** Classifies the failure of a watch resumed from a resourceVersion (see {@link WatchFailureKind}). */
export function classifyWatchFailure(
  error: unknown,
  attempt: WatchAttempt,
  minWatchDurationMs: number,
): WatchFailureKind {
  if (error instanceof ResourceExpiredError) return 'expired';
  if (error instanceof ApiError) {
    if (error.status === 429) return 'throttled';
    if (error.status >= 500) return 'internal';
    return 'refused';
  }
  if (attempt.established && attempt.events === 0 && attempt.durationMs < minWatchDurationMs)
    return 'refused';
  return 'unreachable';
}
