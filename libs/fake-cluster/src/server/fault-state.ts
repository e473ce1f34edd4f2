import { statusErrors, type ApiStatusError } from '../api/api-status.js';

/** A standing error-rate fault. */
export interface ErrorRateFault {
  fraction: number;
  status: 500 | 429;
  /** Wall-clock ms after which it stops; undefined = until cleared. */
  until: number | undefined;
}

/**
 * The standing faults of a kube-sim server (errors, latency). Fault injection
 * draws from `random` (default `Math.random`): it is not part of the simulated
 * cluster, so it must not consume the simulation's seeded randomness (that would
 * make churn depend on how many requests were made).
 */
export class FaultState {
  errorRate: ErrorRateFault | undefined;
  latencyMs = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** The error to answer this request with, if the error-rate fault picks it. */
  pickError(): ApiStatusError | undefined {
    const fault = this.errorRate;
    if (fault === undefined) return undefined;
    if (fault.until !== undefined && this.now() >= fault.until) {
      this.errorRate = undefined;
      return undefined;
    }
    if (this.random() >= fault.fraction) return undefined;
    return fault.status === 429
      ? statusErrors.tooManyRequests('Too many requests, please try again later.', 1)
      : statusErrors.internal('kube-sim: injected fault');
  }

  clear(): void {
    this.errorRate = undefined;
    this.latencyMs = 0;
  }
}
