/**
 * How long the client waits before reconnect attempt number `attempt` (1-based): a
 * pure function of the attempt (the watcher's stateful `BackoffPolicy` is another idea).
 */
export interface ReconnectBackoff {
  delayMs(attempt: number): number;
}

/** Options of {@link exponentialBackoff}. */
export interface ReconnectBackoffOptions {
  /** First delay. Default 250 ms. */
  initialMs?: number;
  /** Cap. Default 10,000 ms. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Random spread: the delay is scaled by a factor in [1 - jitter, 1]. Default 0.5. */
  jitter?: number;
  /** Random source in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/** Exponential backoff with jitter (so many clients do not reconnect in lockstep). */
export function exponentialBackoff(options: ReconnectBackoffOptions = {}): ReconnectBackoff {
  const { initialMs = 250, maxMs = 10_000, factor = 2, jitter = 0.5, random = Math.random } = options;
  return {
    delayMs(attempt: number): number {
      const raw = Math.min(maxMs, initialMs * factor ** Math.max(0, attempt - 1));
      return Math.round(raw * (1 - jitter * random()));
    },
  };
}
