import { describe, expect, it } from 'vitest';
import { ApiError, ApiUnreachableError } from '@knm/kube-reflector';
import { operationsWorkerSettingsFromEnv } from '../queue/worker-settings.js';
import { isTransientApiError, withRetry } from './retry.js';

const instant = { initialMs: 1 };

describe('withRetry', () => {
  it.each([
    [new ApiUnreachableError('reset'), true],
    [new ApiError(500, 'boom'), true],
    [new ApiError(503, 'busy'), true],
    [new ApiError(429, 'slow down'), true],
    [new ApiError(409, 'conflict'), false],
    [new ApiError(404, 'gone'), false],
    [new ApiError(422, 'invalid'), false],
    [new Error('bug'), false],
  ])('%s transient: %s', (err, transient) => {
    expect(isTransientApiError(err)).toBe(transient);
  });

  it('retries transient errors, then succeeds; honours Retry-After', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const value = await withRetry(
      async () => {
        calls++;
        if (calls === 1) throw new ApiError(429, 'slow', 'TooManyRequests', 2);
        if (calls === 2) throw new ApiUnreachableError('reset');
        return 'ok';
      },
      {
        sleep: async (ms) => void sleeps.push(ms),
        backoff: () => ({ next: () => instant.initialMs, reset: () => {} }),
      },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    expect(sleeps).toEqual([2000, 1]);
  });

  it('gives up after the attempts, and at once on a permanent error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new ApiError(500, 'always');
        },
        { attempts: 3, sleep: async () => {} },
      ),
    ).rejects.toThrow('always');
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new ApiError(403, 'forbidden');
        },
        { sleep: async () => {} },
      ),
    ).rejects.toThrow('forbidden');
    expect(calls).toBe(1);
  });
});

describe('operationsWorkerSettingsFromEnv', () => {
  it('defaults, overrides and names a bad variable', () => {
    expect(operationsWorkerSettingsFromEnv({})).toEqual({
      enabled: true,
      concurrency: 2,
      clusterConcurrency: 2,
      nodeConcurrency: 5,
      lockDurationMs: 30_000,
      stalledIntervalMs: 15_000,
      auditMaxLen: 100_000,
      auditRetentionDays: 90,
      impersonate: false,
    });
    expect(operationsWorkerSettingsFromEnv({ KNM_OPS_IMPERSONATE: 'true' }).impersonate).toBe(true);
    expect(() => operationsWorkerSettingsFromEnv({ KNM_OPS_IMPERSONATE: 'on' })).toThrow(
      /KNM_OPS_IMPERSONATE/,
    );
    expect(
      operationsWorkerSettingsFromEnv({ KNM_OPS_ENABLED: 'false', KNM_OPS_NODE_CONCURRENCY: '9' }),
    ).toMatchObject({
      enabled: false,
      nodeConcurrency: 9,
    });
    expect(() => operationsWorkerSettingsFromEnv({ KNM_OPS_LOCK_MS: '-1' })).toThrow(/KNM_OPS_LOCK_MS=-1/);
    expect(() => operationsWorkerSettingsFromEnv({ KNM_OPS_ENABLED: 'yes' })).toThrow(/KNM_OPS_ENABLED/);
  });
});
