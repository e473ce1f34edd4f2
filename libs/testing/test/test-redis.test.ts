import { afterEach, describe, expect, it } from 'vitest';
import { toClusterName } from '@knm/contracts';
import { createTestRedis, redactUrl, type TestRedis } from '../src/test-redis.js';

describe('createTestRedis (real Redis)', () => {
  const opened: TestRedis[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((r) => r.close()));
  });
  const open = async (): Promise<TestRedis> => {
    const r = await createTestRedis();
    opened.push(r);
    return r;
  };

  it('writes and reads a cluster hash through the key layout', async () => {
    const redis = await open();
    const keys = redis.keyspace.cluster(toClusterName('dev'));
    await redis.client.hset(keys.nodes, 'worker-1', '{"name":"worker-1"}');
    await redis.client.hincrby(keys.pods, 'worker-1', 3);
    expect(await redis.client.hget(keys.nodes, 'worker-1')).toBe('{"name":"worker-1"}');
    expect(await redis.client.hget(keys.pods, 'worker-1')).toBe('3');
    expect(await redis.keys()).toEqual([keys.nodes, keys.pods].sort());
  });

  it('isolates tests from each other and deletes only its own keys on close', async () => {
    const a = await open();
    const b = await open();
    expect(a.namespace).not.toBe(b.namespace);
    const dev = toClusterName('dev');
    await a.client.set(a.keyspace.cluster(dev).lease, 'a');
    await b.client.set(b.keyspace.cluster(dev).lease, 'b');
    expect(await a.keys()).toEqual([a.keyspace.cluster(dev).lease]);
    await a.close();
    expect(await b.client.get(b.keyspace.cluster(dev).lease)).toBe('b');
    expect(await b.client.exists(a.keyspace.cluster(dev).lease)).toBe(0);
  });

  it('deletes many keys on close (batched)', async () => {
    const redis = await createTestRedis();
    const probe = await open();
    const pipeline = redis.client.pipeline();
    for (let i = 0; i < 1_200; i++) pipeline.set(`${redis.namespace}:k${i}`, '1');
    await pipeline.exec();
    expect((await redis.keys()).length).toBe(1_200);
    await redis.close();
    expect(await probe.client.keys(`${redis.namespace}:*`)).toEqual([]);
  });

  it('gives each connection of a test the same server', async () => {
    const redis = await open();
    const sub = redis.connect();
    const received = new Promise<string>((resolve) =>
      sub.on('message', (_ch: string, msg: string) => resolve(msg)),
    );
    const channel = redis.keyspace.cluster(toClusterName('dev')).changes;
    await sub.subscribe(channel);
    await redis.client.publish(channel, 'hello');
    expect(await received).toBe('hello');
  });
});

describe('redactUrl', () => {
  it('hides passwords and keeps the rest', () => {
    expect(redactUrl('redis://:s3cret@redis.internal:6380/2')).toBe('redis://:***@redis.internal:6380/2');
    expect(redactUrl('rediss://user:pw@h:6379')).toBe('rediss://user:***@h:6379');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('not a url')).toBe('<unparsable URL>');
  });
});
