import type { JobsOptions } from 'bullmq';

/** Seconds a delivered (or abandoned) message's job is kept: long enough that a late duplicate add is still refused. */
const KEEP_SECONDS = 7 * 24 * 3600;

/** Attempts of one message: with {@link deliveryBackoffMs}, about half an hour of an unreachable receiver. */
export const DELIVERY_ATTEMPTS = 30;

/** Delay before retry `attemptsMade`: 1 s, 2 s, 4 s ... capped at a minute. */
export function deliveryBackoffMs(attemptsMade: number): number {
  return Math.min(60_000, 1_000 * 2 ** Math.max(0, attemptsMade - 1));
}

/** Options of every delivery job (the dispatcher adds them; the worker's backoff strategy reads `custom`). */
export const deliveryJobOptions: JobsOptions = {
  attempts: DELIVERY_ATTEMPTS,
  backoff: { type: 'custom' },
  removeOnComplete: { age: KEEP_SECONDS },
  removeOnFail: { age: KEEP_SECONDS },
};
