import type { ProcessNotifications } from '../process-notifications.js';
import { Gauge } from 'prom-client';
import type { Logger } from 'pino';
import type { ClusterName, Keyspace } from '@knm/contracts';
import { ClusterConnectionStore, type ClusterConnection } from '@knm/cluster-connections';
import type { RedisClient } from '@knm/node-store';
import type { OperationsWorkerSettings } from '@knm/node-ops';
import { ClusterWatcher, type ClusterWatcherSettings, type ClusterWatcherState } from '../cluster-watcher.js';
import { kubeConfigFromText } from '../kube-config.js';
import type { ProcessRedis } from '../process-shell.js';
import type { PoolSettings } from '../watcher-config.js';
import type { WatcherMetrics } from '../watcher-metrics.js';
import type { PoolMembership } from './pool-membership.js';
import { poolRoles, type PoolRole } from './rendezvous.js';

/** What a {@link WatcherPool} is built from. */
export interface WatcherPoolDeps {
  pool: PoolSettings;
  settings: ClusterWatcherSettings;
  ops: OperationsWorkerSettings;
  membership: PoolMembership;
  /** The registry of clusters (credentials opened with the process's key). */
  store: ClusterConnectionStore;
  /** The process's connections, shared by every cluster. */
  connections: ProcessRedis;
  /** A subscriber connection of its own, for the registry's changes (classic pub/sub). */
  changes: RedisClient;
  keyspace: Keyspace;
  metrics: WatcherMetrics;
  logger: Logger;
  /** The process's incident notifications, for every cluster it leads. */
  notifications?: ProcessNotifications;
}

/** One cluster this member runs. */
interface Running {
  watcher: ClusterWatcher;
  role: PoolRole;
  /** The registry record's `updatedAt` it was started from (a new one restarts it). */
  updatedAt: string;
}

/** What `/pool` answers. */
export interface PoolState {
  member: string;
  standby: PoolSettings['standby'];
  members: string[];
  clusters: (ClusterWatcherState & { pool: PoolRole })[];
}

/**
 * One member of the watcher pool: runs a {@link ClusterWatcher} for each registered
 * cluster it owns among the live members (rendezvous hashing with bounded loads: each
 * holds at most its share rounded up), and with `--pool-standby warm` a reflecting,
 * non-leading one for each it would own if the owner left.
 *
 * It heartbeats its membership every third of the lease TTL and re-assigns on every
 * change of the member set or the registry (pub/sub, re-read every `relistMs` and on
 * every re-subscribe since pub/sub is at-most-once). A cluster that moves to another
 * member is stopped gracefully (lease released: the new owner leads at its next
 * poll); a deleted cluster is stopped at once. Each cluster keeps its own lease and
 * fencing: two members that briefly both run one cluster (a late view of the member
 * set) cannot both write. Changes are applied one at a time, in order.
 *
 * Log lines: `"msg":"pool share"` (with `clusters`, `names`, `standbys`) on every
 * change of this member's share, `"msg":"pool members"` on every change of the member set.
 */
export class WatcherPool {
  private members: string[] = [];
  private readonly registered = new Map<ClusterName, ClusterConnection>();
  private readonly running = new Map<ClusterName, Running>();
  /** Registry records that could not be used, by name -> updatedAt (logged once per version). */
  private readonly unusable = new Map<ClusterName, string>();
  private work: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private lastShare = '';
  private lastHeartbeatAt = 0;
  private heartbeatFailing = false;
  private stopping = false;
  private readonly shareGauge: Gauge<'member' | 'role'>;
  private readonly onMessage = (channel: string, message: string): void => {
    if (channel === this.deps.keyspace.connectionChanges) this.onChange(message);
  };

  constructor(private readonly deps: WatcherPoolDeps) {
    this.shareGauge = new Gauge({
      name: 'knm_pool_clusters',
      help: 'Clusters this pool member runs, by role (owner: it leads them; standby: warm, reflecting only).',
      labelNames: ['member', 'role'],
      registers: [deps.metrics.registry],
    });
  }

  /** This member's identity. */
  get member(): string {
    return this.deps.membership.member;
  }

  /** Ready while its membership is renewed (it is part of the pool). */
  get ready(): boolean {
    return Date.now() - this.lastHeartbeatAt < this.deps.settings.leaseTtlMs;
  }

  /** Subscribes to the registry's changes, reads it, joins the pool and starts heartbeating. */
  async start(): Promise<void> {
    const { changes, keyspace, pool, settings } = this.deps;
    changes.on('message', this.onMessage);
    // Every (re)subscription may follow missed messages: re-read the registry then.
    changes.on('ready', () => this.enqueue(() => this.relist()));
    await changes.subscribe(keyspace.connectionChanges).catch((err: unknown) => {
      this.deps.logger.warn({ err: (err as Error).message }, 'cannot subscribe to registry changes yet');
    });
    this.enqueue(() => this.heartbeat());
    this.enqueue(() => this.relist());
    const beat = Math.max(100, Math.floor(settings.leaseTtlMs / 3));
    this.timers.push(setInterval(() => this.enqueue(() => this.heartbeat()), beat));
    this.timers.push(setInterval(() => this.enqueue(() => this.relist()), pool.relistMs));
    await this.work;
  }

  state(): PoolState {
    return {
      member: this.member,
      standby: this.deps.pool.standby,
      members: [...this.members],
      clusters: [...this.running.values()].map((r) => ({ ...r.watcher.state(), pool: r.role })),
    };
  }

  /** Graceful: leaves the pool (the others take its clusters at their next heartbeat), then stops every cluster. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearInterval(timer);
    this.deps.changes.off('message', this.onMessage);
    await this.work;
    await this.deps.membership.leave().catch((err: unknown) => {
      this.deps.logger.warn({ err: (err as Error).message }, 'could not leave the pool');
    });
    await Promise.all([...this.running.keys()].map((name) => this.stopCluster(name)));
  }

  /** Runs `step` after every step before it (one change at a time); a failed step is logged, not fatal. */
  private enqueue(step: () => Promise<void>): void {
    this.work = this.work
      .then(() => (this.stopping ? undefined : step()))
      .catch((err: unknown) => this.deps.logger.warn({ err: (err as Error).message }, 'pool step failed'));
  }

  private onChange(message: string): void {
    let change;
    try {
      change = ClusterConnectionStore.decodeChange(message);
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'bad registry change message');
      return;
    }
    const { name, op } = change;
    this.enqueue(async () => {
      if (op === 'delete') this.registered.delete(name);
      else {
        const connection = await this.deps.store.get(name).catch((err: unknown) => {
          this.reportUnusable(name, 'changed', err);
          return undefined;
        });
        if (connection) this.registered.set(name, connection);
        else this.registered.delete(name);
      }
      await this.reconcile();
    });
  }

  /** Re-reads the registry: credentials are opened only for records that are new or changed. */
  private async relist(): Promise<void> {
    const summaries = await this.deps.store.summaries();
    const names = new Set(summaries.map((s) => s.name));
    for (const name of this.registered.keys()) if (!names.has(name)) this.registered.delete(name);
    for (const summary of summaries) {
      if (this.registered.get(summary.name)?.updatedAt === summary.updatedAt) continue;
      if (this.unusable.get(summary.name) === summary.updatedAt) continue;
      try {
        const connection = await this.deps.store.get(summary.name);
        if (connection) this.registered.set(summary.name, connection);
      } catch (err) {
        this.reportUnusable(summary.name, summary.updatedAt, err);
      }
    }
    await this.reconcile();
  }

  private async heartbeat(): Promise<void> {
    let live: string[];
    try {
      live = await this.deps.membership.heartbeat();
    } catch (err) {
      // Keep the last view: the leases, not this list, decide who writes.
      if (!this.heartbeatFailing)
        this.deps.logger.warn({ err: (err as Error).message }, 'pool heartbeat failed');
      this.heartbeatFailing = true;
      return;
    }
    this.heartbeatFailing = false;
    this.lastHeartbeatAt = Date.now();
    if (live.join('\n') !== this.members.join('\n')) {
      this.members = live;
      this.deps.logger.info({ members: live, count: live.length }, 'pool members');
      await this.reconcile();
    }
  }

  /** Brings the running clusters to this member's share of the registry. */
  private async reconcile(): Promise<void> {
    if (this.members.length === 0) return; // not joined yet: no view of the pool
    const copies = this.deps.pool.standby === 'warm' ? 2 : 1;
    const roles = poolRoles([...this.registered.keys()], this.members, this.member, copies);
    const stops: Promise<void>[] = [];
    for (const [name, running] of this.running) {
      const connection = this.registered.get(name);
      const role = connection && roles.get(name);
      const changed = connection?.updatedAt !== running.updatedAt;
      // A demoted owner stops (releasing the lease) and comes back below as a warm standby.
      if (!role || changed || (running.role === 'owner' && role === 'standby'))
        stops.push(this.stopCluster(name));
    }
    await Promise.all(stops);
    for (const [name, connection] of this.registered) {
      const role = roles.get(name);
      if (!role) continue;
      const running = this.running.get(name);
      if (running) {
        if (running.role === 'standby' && role === 'owner') {
          running.role = 'owner';
          running.watcher.lead();
          this.deps.logger.info({ cluster: name }, 'pool takes over (warm)');
        }
        continue;
      }
      this.startCluster(connection, role);
    }
    this.reportShare();
  }

  private startCluster(connection: ClusterConnection, role: PoolRole): void {
    const { name } = connection;
    let kubeConfig;
    try {
      kubeConfig = kubeConfigFromText(connection.kubeconfig, connection.context);
    } catch (err) {
      this.reportUnusable(name, connection.updatedAt, err);
      return;
    }
    this.unusable.delete(name);
    const logger = this.deps.logger.child({ cluster: name });
    const watcher = new ClusterWatcher({
      cluster: name,
      kubeConfig,
      settings: this.deps.settings,
      ops: this.deps.ops,
      redis: this.deps.connections.redis,
      subscriber: this.deps.connections.subscriber,
      pubsub: this.deps.connections.pubsub,
      keyspace: this.deps.keyspace,
      metrics: this.deps.metrics,
      logger,
      ...(this.deps.notifications ? { notifications: this.deps.notifications } : {}),
    });
    logger.info({ server: watcher.server, role }, 'pool starts cluster');
    this.running.set(name, { watcher, role, updatedAt: connection.updatedAt });
    watcher.start({ lead: role === 'owner' });
  }

  private async stopCluster(name: ClusterName): Promise<void> {
    const running = this.running.get(name);
    if (!running) return;
    this.running.delete(name);
    await running.watcher.stop();
    this.deps.logger.info({ cluster: name, role: running.role }, 'pool stopped cluster');
  }

  private reportShare(): void {
    const owned: string[] = [];
    const standbys: string[] = [];
    for (const [name, running] of this.running) (running.role === 'owner' ? owned : standbys).push(name);
    owned.sort();
    standbys.sort();
    const key = `${owned.join(',')}|${standbys.join(',')}|${this.members.length}`;
    this.shareGauge.set({ member: this.member, role: 'owner' }, owned.length);
    this.shareGauge.set({ member: this.member, role: 'standby' }, standbys.length);
    if (key === this.lastShare) return;
    this.lastShare = key;
    this.deps.logger.info(
      {
        member: this.member,
        members: this.members.length,
        registered: this.registered.size,
        clusters: owned.length,
        names: owned,
        standbys: standbys.length,
      },
      'pool share',
    );
  }

  private reportUnusable(name: ClusterName, version: string, err: unknown): void {
    if (this.unusable.get(name) === version) return;
    this.unusable.set(name, version);
    this.deps.logger.error(
      { cluster: name, err: (err as Error).message },
      'registered cluster unusable; skipped',
    );
  }
}
