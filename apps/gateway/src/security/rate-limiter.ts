import type { Logger } from 'pino';
import type { Keyspace } from '@knm/contracts';
import { LuaScript, type RedisClient } from '@knm/node-store';
import { NextReads } from '../common/next-reads.js';

/** What a rate limiter says about one request. */
export interface RateLimitDecision {
  /** False once the window's count is over the limit. */
  readonly allowed: boolean;
  /** Hits counted in the current window (including this one for {@link RateLimiter.hit}). */
  readonly count: number;
  /** Milliseconds until the window ends (0 when no window is open). */
  readonly retryAfterMs: number;
}

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Hits allowed per window; 0 turns the limiter off. */
  limit: number;
  /** Window length in ms. */
  windowMs: number;
}

/**
 * INCR the window's counter; the first hit of a window sets its TTL (also repairs a
 * counter that lost its TTL). Returns `{count, pttl}`. Atomic, one key: fine on a Redis Cluster.
 */
const HIT = new LuaScript(
  'rate-limit-hit',
  `local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}`,
  1,
);

const OPEN: RateLimitDecision = { allowed: true, count: 0, retryAfterMs: 0 };

/**
 * A fixed-window counter per id (client address, token subject) kept in Redis under
 * `Keyspace.rateLimit(scope, id)`, so every gateway replica behind a round-robin
 * balancer shares it. A window opens on its first hit and lasts `windowMs`.
 *
 * When Redis does not answer, the limiter FAILS OPEN (allows) and logs a warning at
 * most once per window: the limits are a second line of defence (tokens are still
 * verified; operations cannot be enqueued without Redis anyway), and failing closed
 * would turn a Redis outage into a lock-out of every user.
 */
export class RateLimiter {
  private lastWarning = 0;
  /**
   * The counter reads of `peek`, shared by an id's concurrent requests (each joins a
   * read sent after it arrived, so a hit counted before a request is always seen by
   * it): the auth-failure limit peeks before every `/api/` request, and under load
   * these reads were a large part of a gateway's Redis commands.
   */
  private readonly peeks = new NextReads<string, [string | null, number]>((id) => {
    const key = this.keyspace.rateLimit(this.scope, id);
    return Promise.all([this.redis.get(key), this.redis.pttl(key)]);
  });

  constructor(
    private readonly redis: RedisClient,
    private readonly keyspace: Keyspace,
    /**
     * Which counter family: `auth` (failed authentications per address), `ops`
     * (operations per subject), `subscribe` (realtime subscribes per subject) or
     * `login` (sign-ins started at the identity provider per address).
     */
    readonly scope: 'auth' | 'ops' | 'subscribe' | 'login',
    private readonly options: RateLimiterOptions,
    private readonly logger: Logger,
  ) {}

  /** Whether the limiter is on (limit > 0). */
  get enabled(): boolean {
    return this.options.limit > 0;
  }

  /** Counts one hit for `id` and says whether it is within the limit. */
  async hit(id: string): Promise<RateLimitDecision> {
    if (!this.enabled) return OPEN;
    try {
      const reply = (await HIT.run(
        this.redis,
        [this.keyspace.rateLimit(this.scope, id)],
        [this.options.windowMs],
      )) as [number, number];
      const [count, ttl] = reply;
      return { allowed: count <= this.options.limit, count, retryAfterMs: Math.max(ttl, 0) };
    } catch (err) {
      return this.failOpen(err);
    }
  }

  /** Says whether `id` is already over the limit, without counting a hit. */
  async peek(id: string): Promise<RateLimitDecision> {
    if (!this.enabled) return OPEN;
    try {
      const [count, ttl] = await this.peeks.get(id);
      const n = Number(count ?? 0);
      return { allowed: n < this.options.limit, count: n, retryAfterMs: Math.max(ttl, 0) };
    } catch (err) {
      return this.failOpen(err);
    }
  }

  private failOpen(err: unknown): RateLimitDecision {
    const now = Date.now();
    if (now - this.lastWarning >= this.options.windowMs) {
      this.lastWarning = now;
      this.logger.warn(
        { scope: this.scope, err: err instanceof Error ? err.message : String(err) },
        'rate limiter cannot reach Redis: failing open (requests are not limited meanwhile)',
      );
    }
    return OPEN;
  }
}

/** A request refused by a rate limit: HTTP 429 with `Retry-After`. */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';

  constructor(
    message: string,
    /** Whole seconds until the caller may retry (at least 1). */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }

  /** The error for a refused decision. */
  static of(decision: RateLimitDecision, what: string): RateLimitedError {
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    return new RateLimitedError(`${what}; retry in ${seconds} s`, seconds);
  }
}
