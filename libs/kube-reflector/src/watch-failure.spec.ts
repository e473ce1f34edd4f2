import { describe, expect, it } from 'vitest';
import { ApiError } from './errors/api-error.js';
import { ApiUnreachableError } from './errors/api-unreachable-error.js';
import { ResourceExpiredError } from './errors/resource-expired-error.js';
import { classifyWatchFailure, type WatchAttempt } from './watch-failure.js';

const unanswered: WatchAttempt = { established: false, events: 0, durationMs: 3 };
const cutAtOnce: WatchAttempt = { established: true, events: 0, durationMs: 20 };
const livedLong: WatchAttempt = { established: true, events: 0, durationMs: 60_000 };
const delivered: WatchAttempt = { established: true, events: 4, durationMs: 20 };

describe('classifyWatchFailure', () => {
  it.each([
    ['410 (HTTP or ERROR event)', new ResourceExpiredError('too old'), unanswered, 'expired'],
    ['connection refused', new ApiUnreachableError('connect ECONNREFUSED'), unanswered, 'unreachable'],
    ['a timeout', new ApiUnreachableError('watch: timed out'), unanswered, 'unreachable'],
    ['a watch that lived, then broke', new ApiUnreachableError('reset'), livedLong, 'unreachable'],
    ['a watch that delivered, then broke', new ApiUnreachableError('reset'), delivered, 'unreachable'],
    ['429', new ApiError(429, 'slow down', 'TooManyRequests', 2), unanswered, 'throttled'],
    ['500', new ApiError(500, 'internal', 'InternalError'), unanswered, 'internal'],
    ['503 on an established watch (ERROR event)', new ApiError(503, 'unavailable'), delivered, 'internal'],
    [
      '400 (e.g. too large resource version)',
      new ApiError(400, 'too large', 'BadRequest'),
      unanswered,
      'refused',
    ],
    ['403', new ApiError(403, 'forbidden', 'Forbidden'), unanswered, 'refused'],
    ['a watch answered and cut before one event', new ApiUnreachableError('reset'), cutAtOnce, 'refused'],
  ] as const)('%s -> %s', (_name, error, attempt, kind) => {
    expect(classifyWatchFailure(error, attempt, 1_000)).toBe(kind);
  });
});
