/**
 * How long to wait before the next attempt after a failure. Stateful: `next()`
 * grows the delay, `reset()` (called after a success) starts over. Injectable so
 * tests can make retries instant or deterministic.
 */
export interface BackoffPolicy {
  /** The delay before the next attempt, in ms. */
  next(): number;
  /** Forget past failures (after a success). */
  reset(): void;
}

/** Options of {@link ExponentialBackoff}. */
export interface ExponentialBackoffOptions {
  /** First delay. Default 200 ms. */
  initialMs?: number;
  /** Cap. Default 30,000 ms (client-go's reflector caps at 30 s too). */
  maxMs?: number;
  /** Growth per failure. Default 2. */
  factor?: number;
  /**
   * Fraction of the delay that is random: the delay is `d * (1 - jitter + jitter * random())`.
   * Default 0.5, so many watchers that failed together do not retry together.
   */
  jitter?: number;
  /** Random source in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/** Exponential backoff with jitter: 200 ms, 400 ms, 800 ms ... up to 30 s by default. */
export class ExponentialBackoff implements BackoffPolicy {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: ExponentialBackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 200;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0.5;
    this.random = options.random ?? Math.random;
  }

  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt += 1;
    return Math.round(base * (1 - this.jitter + this.jitter * this.random()));
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
