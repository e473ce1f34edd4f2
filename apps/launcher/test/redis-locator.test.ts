import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { freePort, redisServerSuiteRuns, startRedisCluster, testRedisUrl } from '@knm/testing';
import { locateRedis, RedisUnavailableError } from '../src/redis-locator.js';
import { ProcessSupervisor } from '../src/process-supervisor.js';

// In CI (CI=true) these run even without redis-server, and fail: CI installs it.
const hasRedisServer = redisServerSuiteRuns();

describe('locateRedis', () => {
  const supervisors: ProcessSupervisor[] = [];
  afterEach(async () => {
    for (const s of supervisors.splice(0)) await s.stopAll();
  });
  const supervisor = (): ProcessSupervisor => {
    const s = new ProcessSupervisor({ onLine: () => undefined, onUnexpectedExit: () => undefined });
    supervisors.push(s);
    return s;
  };

  it('uses the configured URL when it answers', async () => {
    const url = await testRedisUrl();
    expect(await locateRedis({ configuredUrl: url, supervisor: supervisor() })).toEqual({
      url,
      source: 'configured',
    });
  });

  it.skipIf(!hasRedisServer)(
    'uses a configured Redis Cluster (redis+cluster://) when it answers',
    async () => {
      const cluster = await startRedisCluster();
      try {
        // A generous ping: a fresh cluster's first answer (slot map, every master) is slow on a busy machine.
        expect(
          await locateRedis({ configuredUrl: cluster.url, supervisor: supervisor(), pingTimeoutMs: 10_000 }),
        ).toEqual({
          url: cluster.url,
          source: 'configured',
        });
      } finally {
        await cluster.close();
      }
    },
  );

  it('refuses a configured URL that does not answer, saying how to get a Redis', async () => {
    const port = await freePort();
    const attempt = locateRedis({
      configuredUrl: `redis://:secret@127.0.0.1:${port}`,
      supervisor: supervisor(),
    });
    await expect(attempt).rejects.toThrow(RedisUnavailableError);
    await expect(attempt).rejects.toThrow(
      /redis:\/\/:\*\*\*@127\.0\.0\.1.*does not answer.*apt-get install -y redis-server/,
    );
  });

  it('uses the local default when it answers', async () => {
    const url = await testRedisUrl();
    expect(await locateRedis({ localUrl: url, supervisor: supervisor() })).toEqual({ url, source: 'local' });
  });

  it.skipIf(!hasRedisServer)(
    'starts redis-server from PATH on a free port when nothing answers, and the supervisor stops it',
    async () => {
      const s = supervisor();
      const port = await freePort();
      const found = await locateRedis({ localUrl: `redis://127.0.0.1:${port}`, supervisor: s });
      expect(found.source).toBe('started');
      expect(found.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      const client = new Redis(found.url, { maxRetriesPerRequest: 1 });
      expect(await client.ping()).toBe('PONG');
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
      client.disconnect();
      const pid = found.child?.pid ?? -1;
      expect(pid).toBeGreaterThan(0);
      await s.stopAll();
      expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    },
  );

  it('says how to get a Redis when nothing answers and no redis-server is on PATH', async () => {
    const port = await freePort();
    const attempt = locateRedis({
      localUrl: `redis://127.0.0.1:${port}`,
      redisServerCommand: 'knm-no-such-redis-server',
      supervisor: supervisor(),
    });
    await expect(attempt).rejects.toThrow(RedisUnavailableError);
    await expect(attempt).rejects.toThrow(/knm-no-such-redis-server is not on the PATH.*set REDIS_URL/);
  });
});
