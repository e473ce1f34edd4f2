import type { Cluster, Redis } from 'ioredis';

/**
 * The ioredis client node-store works with: a standalone `Redis` or a Redis
 * `Cluster`. Every script and MULTI touches keys of one cluster only, which share the
 * `{cluster}` hash tag and therefore one slot, so both work the same way.
 */
export type RedisClient = Redis | Cluster;
