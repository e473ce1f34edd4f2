import { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRedisConnection,
  parseRedisUrl,
  redactRedisUrl,
  redisPubSubMode,
  RedisUrlError,
} from './redis-connection.js';
import type { RedisClient } from './redis-client.js';

const opened: RedisClient[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.disconnect();
});

describe('parseRedisUrl', () => {
  it.each([
    [
      'redis://127.0.0.1:6379',
      { mode: 'standalone', tls: false, endpoints: [{ host: '127.0.0.1', port: 6379 }], db: 0 },
    ],
    ['redis://cache', { mode: 'standalone', tls: false, endpoints: [{ host: 'cache', port: 6379 }], db: 0 }],
    ['rediss://:s%40cret@cache:6380/3', { mode: 'standalone', tls: true, password: 's@cret', db: 3 }],
    ['redis://knm:pw@cache', { username: 'knm', password: 'pw' }],
    ['redis://knm@cache', { username: 'knm' }],
    ['redis://[::1]:7000', { endpoints: [{ host: '::1', port: 7000 }] }],
    [
      'redis+cluster://10.0.0.1:7000,10.0.0.2,redis-2:7002',
      {
        mode: 'cluster',
        tls: false,
        db: 0,
        endpoints: [
          { host: '10.0.0.1', port: 7000 },
          { host: '10.0.0.2', port: 6379 },
          { host: 'redis-2', port: 7002 },
        ],
      },
    ],
    ['rediss+cluster://:pw@seed:7000/', { mode: 'cluster', tls: true, password: 'pw' }],
    ['REDIS+CLUSTER://seed', { mode: 'cluster', endpoints: [{ host: 'seed', port: 6379 }] }],
  ])('%s', (url, expected) => {
    expect(parseRedisUrl(url)).toMatchObject(expected);
  });

  it('keeps no password it was not given and redacts the one it was', () => {
    expect(parseRedisUrl('redis://cache')).not.toHaveProperty('password');
    expect(parseRedisUrl('redis://u:topsecret@cache').display).toBe('redis://u:***@cache');
  });

  it.each([
    ['http://cache:6379', /unknown scheme "http:"/],
    ['cache:6379', /not a URL/],
    ['redis://', /empty host|no host/],
    ['redis://a:1,b:2', /several hosts need the redis\+cluster:\/\/ scheme/],
    ['redis+cluster://a:1/2', /a Redis Cluster has only database 0/],
    ['redis://a:99999', /bad port/],
    ['redis://a:1/x', /database "x" is not a number/],
    ['redis+cluster://a:1,,b:2', /empty host/],
    ['redis://a?family=6', /query options are not supported/],
  ])('refuses %s', (url, message) => {
    const attempt = (): unknown => parseRedisUrl(url);
    expect(attempt).toThrow(RedisUrlError);
    expect(attempt).toThrow(message);
  });

  it('error messages never carry the password', () => {
    try {
      parseRedisUrl('redis+cluster://u:hunter2@a:1/5');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RedisUrlError);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});

describe('redactRedisUrl', () => {
  it.each([
    ['redis://u:pw@h:1', 'redis://u:***@h:1'],
    ['redis+cluster://:pw@a:1,b:2', 'redis+cluster://:***@a:1,b:2'],
    ['redis://h:1', 'redis://h:1'],
    ['not a url', 'not a url'],
  ])('%s -> %s', (url, expected) => {
    expect(redactRedisUrl(url)).toBe(expected);
  });
});

describe('redisPubSubMode', () => {
  it('is sharded exactly on a cluster URL', () => {
    expect(redisPubSubMode('redis://h')).toBe('classic');
    expect(redisPubSubMode('rediss://h')).toBe('classic');
    expect(redisPubSubMode('redis+cluster://a,b')).toBe('sharded');
    expect(redisPubSubMode(parseRedisUrl('rediss+cluster://a'))).toBe('sharded');
  });
});

describe('createRedisConnection (lazy: nothing is contacted)', () => {
  const lazy = { lazyConnect: true } as const;

  it('a standalone URL gives a Redis with the URL settings and per-purpose retries', () => {
    const commands = createRedisConnection('rediss://u:pw@cache:6380/2', 'commands', lazy);
    const bull = createRedisConnection('redis://cache', 'bullmq', lazy);
    opened.push(commands, bull);
    expect(commands).toBeInstanceOf(Redis);
    expect((commands as Redis).options).toMatchObject({
      host: 'cache',
      port: 6380,
      db: 2,
      username: 'u',
      password: 'pw',
      tls: {},
      maxRetriesPerRequest: 2,
      enableAutoPipelining: false,
    });
    expect((bull as Redis).options.maxRetriesPerRequest).toBeNull();
  });

  it('a cluster URL gives a Cluster seeded with every node; only a subscriber gets sharded subscribers', () => {
    const url = 'redis+cluster://:pw@a:7000,b:7001';
    const commands = createRedisConnection(url, 'commands', { ...lazy, enableAutoPipelining: true });
    const subscriber = createRedisConnection(url, 'subscriber', lazy);
    const bull = createRedisConnection(url, 'bullmq', lazy);
    opened.push(commands, subscriber, bull);
    for (const c of [commands, subscriber, bull]) expect(c).toBeInstanceOf(Cluster);
    const options = (c: RedisClient) => (c as Cluster).options;
    expect(options(commands)).toMatchObject({ shardedSubscribers: false, enableAutoPipelining: true });
    expect(options(commands).redisOptions).toMatchObject({ password: 'pw', maxRetriesPerRequest: 2 });
    expect(options(subscriber)).toMatchObject({ shardedSubscribers: true });
    expect(options(subscriber).redisOptions?.maxRetriesPerRequest).toBeNull();
    expect(options(bull).redisOptions?.maxRetriesPerRequest).toBeNull();
    // startupNodes is private in the typings; the seed list is what this test is about.
    expect((commands as unknown as { startupNodes: unknown }).startupNodes).toEqual([
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
    ]);
  });

  it('a bad URL throws RedisUrlError before anything is opened', () => {
    expect(() => createRedisConnection('mysql://x', 'commands')).toThrow(RedisUrlError);
  });
});
