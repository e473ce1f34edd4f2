import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toClusterName } from '@knm/contracts';
import { NodeStoreReader } from '@knm/node-store';
import { createTestRedis, makeNodeSnapshot, type TestRedis } from '@knm/testing';
import { pino } from 'pino';
import { PositionReads } from '../src/clusters/position-reads.js';
import { RateLimiter } from '../src/security/rate-limiter.js';
import { seedCluster } from './support/gateway-harness.js';

let redis: TestRedis;

beforeEach(async () => {
  redis = await createTestRedis();
});

afterEach(async () => {
  await redis.close();
});

describe('RateLimiter.peek, shared reads (real Redis)', () => {
  it('every peek sees each hit counted before it, while concurrent peeks share reads', async () => {
    const limiter = new RateLimiter(
      redis.client,
      redis.keyspace,
      'auth',
      { limit: 5, windowMs: 60_000 },
      pino({ level: 'silent' }),
    );
    for (let hits = 1; hits <= 6; hits++) {
      await limiter.hit('10.0.0.1');
      const decisions = await Promise.all(Array.from({ length: 30 }, () => limiter.peek('10.0.0.1')));
      for (const d of decisions) {
        expect(d.count).toBe(hits);
        expect(d.allowed).toBe(hits < 5);
      }
    }
    expect((await limiter.peek('10.0.0.2')).count).toBe(0);
  });
});

describe('PositionReads (real Redis)', () => {
  it('shares reads among concurrent requests, and never answers a position older than the cluster was at the call', async () => {
    const { writer } = await seedCluster(redis, 'dev', [makeNodeSnapshot('n-1')], { 'n-1': 1 });
    const reader = new NodeStoreReader(redis.client, redis.keyspace);
    let reads = 0;
    const positions = new PositionReads({
      getPosition: (cluster) => {
        reads += 1;
        return reader.getPosition(cluster);
      },
    });
    const dev = toClusterName('dev');
    const metaKey = redis.keyspace.cluster(dev).meta;
    let calls = 0;
    for (let round = 0; round < 10; round++) {
      const written = await writer.applyPodDeltas({ 'n-1': 1 });
      expect(Number(await redis.client.hget(metaKey, 'seq'))).toBe(written);
      const answers = await Promise.all(Array.from({ length: 50 }, () => positions.get(dev)));
      calls += answers.length;
      for (const at of answers) expect(at?.seq).toBeGreaterThanOrEqual(written);
    }
    expect(reads).toBeLessThanOrEqual(20);
    expect(calls).toBe(500);
  });

  it('a request arriving while a read is in flight waits for the next read, which sees a write made meanwhile', async () => {
    const { writer } = await seedCluster(redis, 'dev', [makeNodeSnapshot('n-1')], { 'n-1': 1 });
    const dev = toClusterName('dev');
    const positions = new PositionReads(new NodeStoreReader(redis.client, redis.keyspace));
    const first = positions.get(dev);
    const written = await writer.applyPodDeltas({ 'n-1': 1 });
    const second = positions.get(dev);
    expect((await second)?.seq).toBeGreaterThanOrEqual(written);
    expect((await first)?.seq).toBeLessThanOrEqual(written);
  });

  it('undefined for a cluster that is not registered', async () => {
    const positions = new PositionReads(new NodeStoreReader(redis.client, redis.keyspace));
    expect(await positions.get(toClusterName('nope'))).toBeUndefined();
  });
});
