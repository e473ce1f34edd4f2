import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRedis, type TestRedis } from '@knm/testing';
import { createRedisConnection } from '../src/redis-connection.js';
import { LuaScript } from '../src/lua-script.js';
import type { RedisClient } from '../src/redis-client.js';

let redis: TestRedis;
let pipelined: RedisClient;

beforeEach(async () => {
  redis = await createTestRedis();
  pipelined = createRedisConnection(redis.url, 'commands', { enableAutoPipelining: true });
});

afterEach(async () => {
  await pipelined.quit().catch(() => pipelined.disconnect());
  await redis.close();
});

describe('LuaScript on an auto-pipelining connection', () => {
  it('runs a script first used while other commands wait in the same pipeline, and every command settles', async () => {
    // ioredis copies a connection's scripts into a pipeline when it creates it: a script
    // defined while a pipeline is pending was missing from it, the call threw, and the
    // pipeline's results no longer matched its callbacks (an uncaught TypeError, and the
    // commands after it never settled: a gateway request that hung in CI).
    const key = `${redis.namespace}:k`;
    await redis.client.set(key, 'v');
    for (let round = 0; round < 3; round += 1) {
      const script = new LuaScript(`echo-${round}`, `return ARGV[1] .. redis.call('GET', KEYS[1])`, 1);
      const before = pipelined.get(key);
      const run = script.run(pipelined, [key], [`r${round}:`]);
      const after = pipelined.get(key);
      expect(await Promise.all([before, run, after])).toEqual(['v', `r${round}:v`, 'v']);
    }
  });
});
