import { ApiError, ApiUnreachableError, ExponentialBackoff, type BackoffPolicy } from '@knm/kube-reflector';

/** Options of {@link withRetry}. */
export interface RetryOptions {
  /** Attempts in all (the first included). Default 5. */
  attempts?: number;
  /** Delay policy; a fresh one per call. Default exponential 200 ms .. 5 s with jitter. */
  backoff?: () => BackoffPolicy;
  /** Which errors are worth another attempt. Default {@link isTransientApiError}. */
  isTransient?: (err: unknown) => boolean;
  /** Sleep (injectable for tests). Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * True for failures that may pass on their own: no answer, 429 (API priority and
 * fairness), 5xx, and 409 only where the caller says so (it re-reads first).
 */
export function isTransientApiError(err: unknown): boolean {
  if (err instanceof ApiUnreachableError) return true;
  if (err instanceof ApiError) return err.status === 429 || err.status >= 500;
  return false;
}

/** True for a 404 answer. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}

/** True for a 409 Conflict answer (a resourceVersion precondition failed). */
export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.status === 409;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` until it succeeds, fails with a non-transient error, or runs out of
 * attempts (the last error is thrown). A `Retry-After` from the server is honoured
 * when it is longer than the backoff's delay (capped at 30 s).
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const backoff = options.backoff?.() ?? new ExponentialBackoff({ initialMs: 200, maxMs: 5_000 });
  const isTransient = options.isTransient ?? isTransientApiError;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isTransient(err)) throw err;
      let delay = backoff.next();
      if (err instanceof ApiError && err.retryAfterSeconds !== undefined) {
        delay = Math.max(delay, Math.min(30_000, err.retryAfterSeconds * 1000));
      }
      await sleep(delay);
    }
  }
}
