/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds. Default 10,000. */
  timeout?: number;
  /** Poll every this many milliseconds. Default 25. */
  interval?: number;
  /** Said in the error when it times out. Default "condition". */
  what?: string;
}

/**
 * Polls `predicate` until it returns a value other than `undefined`, `null` or
 * `false`, and returns that value. A predicate that throws is retried; when time
 * runs out the error names `what` and carries the last value or thrown error, so a
 * failing test says what it was waiting for and what it saw instead.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Exclude<T, false | null | undefined>> {
  const { timeout = 10_000, interval = 25, what = 'condition' } = options;
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value !== undefined && value !== null && value !== false) {
        return value as Exclude<T, false | null | undefined>;
      }
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const seen = last instanceof Error ? `${last.name}: ${last.message}` : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${seen})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
