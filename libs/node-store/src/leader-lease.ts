import type { ClusterKeys, ClusterName, Keyspace } from '@knm/contracts';
import { LeaseAbortedError, UnexpectedReplyError } from './errors.js';
import { ACQUIRE_LEASE, RELEASE_LEASE, RENEW_LEASE } from './lease-scripts.js';
import { scriptStatus } from './lua-script.js';
import { ReplyCode } from './reply-code.js';
import type { RedisClient } from './redis-client.js';

/** Options of {@link LeaderLease}. */
export interface LeaderLeaseOptions {
  /** Lease time to live: how long a silent leader keeps the lease. Default 5,000 ms. */
  ttlMs?: number;
  /** How often the leader renews. Default `ttlMs / 3`. */
  renewEveryMs?: number;
  /** How often a standby tries to take the lease. Default 1,000 ms. */
  retryEveryMs?: number;
  /** Monotonic-enough milliseconds clock for loss detection. Default `Date.now`. */
  now?: () => number;
  /** Called with Redis errors of acquire/renew attempts (they are retried, never thrown). Default: ignored. */
  onError?: (err: Error) => void;
}

/**
 * Leader election for one cluster's watchers, with a fencing epoch.
 *
 * `acquire` polls until `knm:{c}:lease` is free, then in ONE script sets it to this
 * replica's identity with a TTL, increments `knm:{c}:epoch` and records epoch and
 * leader in meta; it resolves with the new epoch, which the caller passes to its
 * `NodeStoreWriter`. While leading, the lease is renewed every `renewEveryMs`, only
 * if it still holds our identity.
 *
 * Loss: when a renew finds another holder or no lease, or when no renew has
 * succeeded for `ttlMs` (Redis unreachable or hung), `onLost` listeners fire once
 * and `isLeader` turns false. The TTL deadline is measured from when the last
 * successful renew was *sent*, so it passes before the key can expire in Redis:
 * the local `isLeader` turns false before a standby can take over (unless this
 * process' event loop stalls). The caller must stop its watcher. Fencing makes any
 * write after a takeover fail with `FencedError` anyway, so a paused ex-leader that
 * has not noticed yet is harmless.
 *
 * After a loss, `acquire` may be called again (standby again). After `release`,
 * the lease is done: `acquire` rejects with {@link LeaseAbortedError}.
 *
 * Redis data loss: the lease remembers the highest epoch it has held or seen (a
 * standby learns it from each poll) and passes it to the acquire script as a floor.
 * When Redis comes back empty, the next acquire continues above that epoch instead
 * of starting at 1 again (an old writer with a reused epoch would pass the fence)
 * and moves meta.seq past every seq of the old life (see `ACQUIRE_LEASE`).
 */
export class LeaderLease {
  private readonly keys: ClusterKeys;
  private readonly ttlMs: number;
  private readonly renewEveryMs: number;
  private readonly retryEveryMs: number;
  private readonly now: () => number;
  private readonly onError: (err: Error) => void;
  private readonly lostListeners: ((reason: string) => void)[] = [];
  private readonly stopController = new AbortController();
  private currentEpoch: number | undefined;
  private highestEpoch = 0;
  private leading = false;
  private released = false;
  private pending: Promise<number> | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private renewInFlight = false;
  private lastRenewedAt = 0;

  constructor(
    private readonly redis: RedisClient,
    keyspace: Keyspace,
    readonly cluster: ClusterName,
    readonly identity: string,
    options: LeaderLeaseOptions = {},
  ) {
    if (!identity) throw new RangeError('identity must not be empty');
    this.keys = keyspace.cluster(cluster);
    this.ttlMs = options.ttlMs ?? 5_000;
    this.renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(this.ttlMs / 3));
    this.retryEveryMs = options.retryEveryMs ?? 1_000;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
    if (this.renewEveryMs >= this.ttlMs) {
      throw new RangeError(`renewEveryMs (${this.renewEveryMs}) must be shorter than ttlMs (${this.ttlMs})`);
    }
  }

  /** The epoch of the last successful acquire (`undefined` before the first). */
  get epoch(): number | undefined {
    return this.currentEpoch;
  }

  /**
   * The highest epoch this lease has held or seen in Redis (a standby learns it from
   * each poll): the floor its next acquire continues from if Redis lost its data.
   */
  get highestEpochSeen(): number {
    return this.highestEpoch;
  }

  /** True from a successful acquire until the lease is lost or released. */
  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Resolves when this replica holds the lease, with its new epoch. Polls every
   * `retryEveryMs` while another replica holds it; Redis errors are reported to
   * `onError` and retried. Rejects with {@link LeaseAbortedError} when released or
   * when `signal` aborts. Concurrent calls share one attempt (the first caller's
   * signal governs it); while leading it
   * resolves at once with the current epoch.
   */
  acquire(signal?: AbortSignal): Promise<number> {
    if (this.released) return Promise.reject(new LeaseAbortedError(this.cluster, 'released'));
    if (this.leading && this.currentEpoch !== undefined) return Promise.resolve(this.currentEpoch);
    this.pending ??= this.acquireLoop(signal).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Registers a listener fired once per lost lease (taken over, expired, Redis gone for longer than the TTL). */
  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  /**
   * Stops renewing, stops any pending acquire, and deletes the lease if it is still
   * ours, so a standby takes over at its next poll instead of after the TTL. Does not
   * fire `onLost`. Idempotent.
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.stopController.abort();
    const wasLeading = this.leading;
    this.stopRenewing();
    this.leading = false;
    if (wasLeading) await RELEASE_LEASE.run(this.redis, [this.keys.lease], [this.identity]);
  }

  private async acquireLoop(signal: AbortSignal | undefined): Promise<number> {
    for (;;) {
      this.throwIfStopped(signal);
      const startedAt = this.now();
      try {
        const reply = await ACQUIRE_LEASE.run(
          this.redis,
          [this.keys.lease, this.keys.epoch, this.keys.meta],
          [this.identity, this.ttlMs, this.highestEpoch],
        );
        const status = scriptStatus(reply);
        this.noteEpoch(status?.code === ReplyCode.notHolder && Array.isArray(reply) ? reply[2] : undefined);
        if (status?.code === ReplyCode.ok && typeof status.value === 'number') {
          if (this.released || signal?.aborted) {
            await RELEASE_LEASE.run(this.redis, [this.keys.lease], [this.identity]).catch(() => undefined);
            this.throwIfStopped(signal);
          }
          this.becomeLeader(status.value, startedAt);
          return status.value;
        }
        if (status?.code !== ReplyCode.notHolder) throw new UnexpectedReplyError(ACQUIRE_LEASE.name, reply);
      } catch (err) {
        if (err instanceof LeaseAbortedError) throw err;
        this.onError(err instanceof Error ? err : new Error(String(err)));
      }
      await this.pause(this.retryEveryMs, signal);
    }
  }

  private noteEpoch(epoch: unknown): void {
    if (typeof epoch === 'number' && epoch > this.highestEpoch) this.highestEpoch = epoch;
  }

  private becomeLeader(epoch: number, renewedAt: number): void {
    this.noteEpoch(epoch);
    this.currentEpoch = epoch;
    this.leading = true;
    this.lastRenewedAt = renewedAt;
    this.armDeadline();
    this.scheduleRenew();
  }

  /**
   * Gives the lease up locally at the moment it may expire in Redis: the last
   * successful renew was *sent* at lastRenewedAt, so Redis' expiry is at or after
   * lastRenewedAt + ttl, and a standby cannot take over before this fires (unless
   * this process' event loop was stalled, which fencing covers).
   */
  private armDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    const remaining = this.lastRenewedAt + this.ttlMs - this.now();
    this.deadlineTimer = setTimeout(() => this.renewTick(), Math.max(0, remaining));
  }

  private scheduleRenew(): void {
    this.renewTimer = setTimeout(() => {
      this.renewTimer = undefined;
      this.renewTick();
    }, this.renewEveryMs);
  }

  /** Runs on every renew tick and at the TTL deadline. */
  private renewTick(): void {
    if (!this.leading) return;
    const silentFor = this.now() - this.lastRenewedAt;
    if (silentFor >= this.ttlMs) {
      // Best effort: if Redis answers again and the lease is still ours, free it for a
      // standby now. Sent before the listeners run, so it cannot undo an acquire they start.
      void RELEASE_LEASE.run(this.redis, [this.keys.lease], [this.identity]).catch(() => undefined);
      this.lose(
        `lease not renewed for ${silentFor} ms (TTL ${this.ttlMs} ms): Redis unreachable or too slow`,
      );
      return;
    }
    if (this.renewTimer) return; // the deadline fired early; the renew chain is still scheduled
    if (!this.renewInFlight) void this.renewOnce();
    this.scheduleRenew();
  }

  private async renewOnce(): Promise<void> {
    this.renewInFlight = true;
    const startedAt = this.now();
    try {
      const reply = await RENEW_LEASE.run(this.redis, [this.keys.lease], [this.identity, this.ttlMs]);
      if (!this.leading) return;
      const status = scriptStatus(reply);
      if (status?.code === ReplyCode.ok) {
        this.lastRenewedAt = Math.max(this.lastRenewedAt, startedAt);
        this.armDeadline();
      } else if (status?.code === ReplyCode.notHolder) {
        this.lose(
          status.value === ''
            ? 'lease expired before renewal'
            : `lease taken over by ${String(status.value)}`,
        );
      } else {
        this.onError(new UnexpectedReplyError(RENEW_LEASE.name, reply));
      }
    } catch (err) {
      this.onError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.renewInFlight = false;
    }
  }

  private lose(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.stopRenewing();
    for (const listener of this.lostListeners) {
      try {
        listener(reason);
      } catch (err) {
        this.onError(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  private stopRenewing(): void {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.renewTimer = undefined;
    this.deadlineTimer = undefined;
  }

  private throwIfStopped(signal: AbortSignal | undefined): void {
    if (this.released) throw new LeaseAbortedError(this.cluster, 'released');
    if (signal?.aborted) throw new LeaseAbortedError(this.cluster, 'aborted');
  }

  private pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const signals = [this.stopController.signal, ...(signal ? [signal] : [])];
      const done = (): void => {
        clearTimeout(timer);
        for (const s of signals) s.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      for (const s of signals) s.addEventListener('abort', done, { once: true });
    });
  }
}
