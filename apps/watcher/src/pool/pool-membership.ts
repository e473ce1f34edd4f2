import type { Keyspace } from '@knm/contracts';
import type { RedisClient } from '@knm/node-store';

/**
 * A watcher's membership of the pool: a sorted set (`knm:pool:members`, member ->
 * expiry in Redis time) that each member renews on every {@link heartbeat}. An entry
 * not renewed for a TTL (the lease TTL: a dead member's clusters move as soon as
 * their leases expire) is no longer live and is pruned by whoever heartbeats next.
 * Times come from Redis's clock, so the members' clocks need not agree.
 */
export class PoolMembership {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyspace: Keyspace,
    readonly member: string,
    private readonly ttlMs: number,
  ) {}

  /** Renews this member, prunes the expired ones and answers the live members (this one included), sorted. */
  async heartbeat(): Promise<string[]> {
    const now = await this.redisNow();
    const key = this.keyspace.poolMembers;
    const replies = await this.redis
      .multi()
      .zadd(key, now + this.ttlMs, this.member)
      .zremrangebyscore(key, '-inf', now)
      .zrangebyscore(key, now + 1, '+inf')
      // The set outlives no pool: it expires when every member has been gone for a TTL.
      .pexpire(key, this.ttlMs * 2)
      .exec();
    if (!replies) throw new Error('Redis discarded the pool heartbeat');
    for (const [err] of replies) if (err) throw err;
    const live = replies[2]?.[1];
    if (!Array.isArray(live)) throw new Error('unexpected reply to the pool heartbeat');
    return (live as string[]).sort();
  }

  /** Leaves the pool at once (graceful stop): the others take this member's clusters at their next heartbeat. */
  async leave(): Promise<void> {
    await this.redis.zrem(this.keyspace.poolMembers, this.member);
  }

  private async redisNow(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }
}
