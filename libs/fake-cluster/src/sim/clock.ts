/**
 * Where the simulation reads the time. Injected so that tests can run the
 * simulation on a {@link ManualClock} and get identical timestamps (and therefore
 * identical truths) for identical seeds and actions.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.current += ms;
  }

  /** Sets the clock to `ms` (never backwards). */
  set(ms: number): void {
    this.current = Math.max(this.current, ms);
  }
}

/** RFC 3339 at second precision, as the API server serialises metav1.Time. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
