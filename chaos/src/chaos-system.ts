import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { signToken } from '@knm/auth';
import {
  ClusterMetaSchema,
  Keyspace,
  decode,
  toClusterName,
  type ClusterMeta,
  type UsageSnapshot,
} from '@knm/contracts';
import { TruthSchema, type Truth } from '@knm/fake-cluster';
import { NodeStoreReader, createRedisConnection, type RedisClient } from '@knm/node-store';
import { freePort, spawnApp, spawnTestGateway, spawnTestWatcher, type ManagedProcess } from '@knm/testing';
import { PrivateRedis } from './private-redis.js';
import type { ComparableState } from './state-diff.js';

/** The shape of the system under test. */
export interface SystemOptions {
  /** Simulated clusters, each its own kube-sim process with a leader and a standby watcher. */
  clusters: number;
  nodes: number;
  pods: number;
  /** Churn events per second while not quiesced. */
  churn: number;
  gateways: number;
  /** Where kubeconfigs go. */
  workDir: string;
  logger: Logger;
}

/** One watcher replica. */
export interface WatcherReplica {
  identity: string;
  proc: ManagedProcess;
  metricsPort: number;
}

/** One simulated cluster: its kube-sim process and its watcher replicas. */
export interface ClusterUnderTest {
  name: string;
  sim: ManagedProcess;
  simUrl: string;
  simToken: string;
  kubeconfig: string;
  watchers: WatcherReplica[];
  /** Replicas started so far (identities are `<cluster>-w<n>`). */
  started: number;
}

/** One gateway process, on a port that stays the same across restarts. */
export interface GatewayUnderTest {
  id: string;
  port: number;
  proc: ManagedProcess;
  url: string;
}

const NAMESPACE = 'knm';
/**
 * kube-sim keeps Events this long instead of the API server's hour: the soak's
 * 10 minutes would otherwise see its Events pile up the whole time (the full run of
 * 2026-12-04: kube-sim RSS up 3.3-7.4 MB/min, judged a leak), while a minute's worth is
 * reached before the soak's judged half.
 */
const SIM_EVENT_TTL_S = 60;
/** How long a node label change is retried through injected 429s and 5xx. */
const LABEL_RETRY_MS = 10_000;

/**
 * The whole knm system as separate processes on one machine: a private Redis
 * (restartable with all data lost), per cluster a kube-sim with churn and two
 * watchers (leader + standby, 2 s lease), and gateways on fixed ports. Every child
 * runs in its own process group and is SIGKILLed with it when this process exits.
 */
export class ChaosSystem {
  readonly clusters: ClusterUnderTest[] = [];
  readonly gateways: GatewayUnderTest[] = [];
  readonly keyspace = new Keyspace(NAMESPACE);
  private readonly secret = randomBytes(48).toString('base64url');
  private churnOn = true;

  private constructor(
    readonly options: SystemOptions,
    readonly redis: PrivateRedis,
    readonly client: RedisClient,
    readonly reader: NodeStoreReader,
  ) {}

  /** Starts Redis, the clusters, their watchers and the gateways; resolves when every cluster is ready. */
  static async start(options: SystemOptions): Promise<ChaosSystem> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    const client = createRedisConnection(redis.url, 'commands', { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined); // polled; a restart is expected
    const system = new ChaosSystem(
      options,
      redis,
      client,
      new NodeStoreReader(client, new Keyspace(NAMESPACE)),
    );
    try {
      for (let i = 0; i < options.clusters; i++) await system.startCluster(`chaos-${i + 1}`, i + 1);
      for (let i = 0; i < options.gateways; i++) {
        const port = await freePort();
        const gw: GatewayUnderTest = {
          id: `gateway-${i + 1}`,
          port,
          url: `http://127.0.0.1:${port}`,
          proc: system.spawnGateway(`gateway-${i + 1}`, port),
        };
        system.gateways.push(gw);
      }
      await Promise.all(system.gateways.map((g) => g.proc.waitForOutput(/gateway listening/, 60_000)));
      for (const c of system.clusters) await system.waitReady(c.name, 90_000);
    } catch (err) {
      await system.stop();
      throw err;
    }
    return system;
  }

  /** An admin token the gateways accept. */
  token(): Promise<string> {
    return signToken(
      { sub: 'chaos', role: 'admin', clusters: '*' },
      { secret: this.secret, ttlSeconds: 86_400 },
    );
  }

  /** Every process of the system (for memory sampling), by a stable name. */
  processes(): { name: string; pid: number }[] {
    const out: { name: string; pid: number }[] = [];
    for (const c of this.clusters) {
      out.push({ name: `kube-sim ${c.name}`, pid: c.sim.pid });
      for (const w of c.watchers)
        if (w.proc.running) out.push({ name: `watcher ${w.identity}`, pid: w.proc.pid });
    }
    for (const g of this.gateways) if (g.proc.running) out.push({ name: g.id, pid: g.proc.pid });
    return out;
  }

  /** POSTs a `/_sim/<path>` control request to a cluster's kube-sim. */
  async control(cluster: ClusterUnderTest, path: string, body: unknown = {}): Promise<void> {
    const res = await fetch(`${cluster.simUrl}/_sim/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.simToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok)
      throw new Error(`POST /_sim/${path} on ${cluster.name}: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }

  /**
   * Merge-patches a node's labels through the cluster's API (as `kubectl label` would).
   * A 429 or 5xx is retried for up to 10 s: scenarios change nodes while the faults they
   * injected (500s, 429s on every kube-sim) still run, and the change must land.
   */
  async labelNode(cluster: ClusterUnderTest, node: string, labels: Record<string, string>): Promise<void> {
    const deadline = Date.now() + LABEL_RETRY_MS;
    for (let attempt = 1; ; attempt += 1) {
      const res = await fetch(`${cluster.simUrl}/api/v1/nodes/${node}`, {
        method: 'PATCH',
        headers: {
          authorization: `Bearer ${cluster.simToken}`,
          'content-type': 'application/merge-patch+json',
        },
        body: JSON.stringify({ metadata: { labels } }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = await res.text();
      if (res.ok) return;
      const transient = res.status === 429 || res.status >= 500;
      if (!transient || Date.now() >= deadline)
        throw new Error(
          `PATCH node ${node} on ${cluster.name}: HTTP ${res.status} ${body} (attempt ${attempt})`,
        );
      await sleep(Math.min(100 * 2 ** attempt, 1_000));
    }
  }

  /** The cluster's truth (`GET /_sim/truth`). */
  async truth(cluster: ClusterUnderTest): Promise<Truth> {
    const res = await fetch(`${cluster.simUrl}/_sim/truth`, {
      headers: { authorization: `Bearer ${cluster.simToken}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`GET /_sim/truth on ${cluster.name}: HTTP ${res.status}`);
    return TruthSchema.parse(await res.json());
  }

  /** The cluster's state in Redis and the seq it reflects (one atomic read). */
  async redisState(
    cluster: string,
  ): Promise<ComparableState & { seq: number; usage: UsageSnapshot | undefined }> {
    const snap = await this.reader.getSnapshot(toClusterName(cluster));
    return {
      seq: snap.seq,
      nodes: Object.fromEntries(snap.nodes.map((n) => [n.name, n])),
      podCounts: snap.podCounts,
      allocation: snap.allocation,
      usage: snap.usage,
    };
  }

  /** The cluster's meta hash, decoded (defaults when Redis has none). */
  async meta(cluster: string): Promise<ClusterMeta> {
    return decode(
      ClusterMetaSchema,
      await this.client.hgetall(this.keyspace.cluster(toClusterName(cluster)).meta),
      'meta',
    );
  }

  /** The replica meta names as leader, if it is one of ours. */
  async leader(cluster: ClusterUnderTest): Promise<WatcherReplica | undefined> {
    const meta = await this.meta(cluster.name);
    return cluster.watchers.find((w) => w.identity === meta.leader && w.proc.running);
  }

  /** Waits until meta says `ready` and a running replica of ours leads. */
  async waitReady(cluster: string, timeoutMs: number): Promise<void> {
    const c = this.cluster(cluster);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const meta = await this.meta(cluster);
        if (meta.status === 'ready' && (await this.leader(c))) return;
      } catch {
        // Redis restarting.
      }
      if (Date.now() > deadline) throw new Error(`cluster ${cluster} not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  cluster(name: string): ClusterUnderTest {
    const c = this.clusters.find((x) => x.name === name);
    if (!c) throw new Error(`no cluster ${name}`);
    return c;
  }

  /** Starts one more watcher replica of `cluster` (a standby when another leads). */
  async addWatcher(cluster: ClusterUnderTest): Promise<WatcherReplica> {
    cluster.started += 1;
    const identity = `${cluster.name}-w${cluster.started}`;
    const proc = spawnTestWatcher({
      cluster: cluster.name,
      kubeconfigPath: cluster.kubeconfig,
      redis: { url: this.redis.url, namespace: NAMESPACE },
      args: ['--identity', identity],
      env: { KNM_OPS_ENABLED: 'false' },
      name: identity,
    });
    const match = await proc.waitForOutput(
      /"port":(\d+),"host":"127\.0\.0\.1","msg":"metrics listening"/,
      60_000,
    );
    const replica: WatcherReplica = { identity, proc, metricsPort: Number(match[1]) };
    cluster.watchers.push(replica);
    return replica;
  }

  /** Replaces exited replicas so each cluster has two again. */
  async replenishWatchers(): Promise<void> {
    for (const c of this.clusters) {
      c.watchers = c.watchers.filter((w) => w.proc.running);
      while (c.watchers.length < 2) await this.addWatcher(c);
    }
  }

  /** SIGKILLs a gateway (its sockets drop without a goodbye). */
  async killGateway(gw: GatewayUnderTest): Promise<void> {
    gw.proc.signal('SIGKILL');
    await gw.proc.exited;
  }

  /** Starts a killed gateway again on its port. */
  async restartGateway(gw: GatewayUnderTest): Promise<void> {
    gw.proc = this.spawnGateway(gw.id, gw.port);
    await gw.proc.waitForOutput(/gateway listening/, 60_000);
  }

  /** Stops (rate 0 + pause) or resumes churn on every cluster (at `rate`, default the configured one). */
  async setChurn(on: boolean, rate = this.options.churn): Promise<void> {
    this.churnOn = on;
    await Promise.all(
      this.clusters.map(async (c) => {
        if (on) {
          await this.control(c, 'resume');
          await this.control(c, 'churn', { rate });
        } else {
          await this.control(c, 'churn', { rate: 0 });
          await this.control(c, 'pause');
        }
      }),
    );
  }

  get churning(): boolean {
    return this.churnOn;
  }

  /** Stops every process (SIGTERM, SIGKILL after 5 s) and Redis. */
  async stop(): Promise<void> {
    this.client.disconnect();
    const procs = [
      ...this.gateways.map((g) => g.proc),
      ...this.clusters.flatMap((c) => c.watchers.map((w) => w.proc)),
      ...this.clusters.map((c) => c.sim),
    ];
    await Promise.all(procs.map((p) => p.stop('SIGTERM', 5_000)));
    await this.redis.kill();
  }

  private async startCluster(name: string, seed: number): Promise<void> {
    const kubeconfig = join(this.options.workDir, `${name}.kubeconfig`);
    const simToken = randomBytes(24).toString('base64url');
    const sim = spawnApp(
      'kube-sim',
      [
        ...['--port', '0', '--tls-port', '0', '--cluster-name', name, '--seed', String(seed)],
        ...['--nodes', String(this.options.nodes), '--pods', String(this.options.pods)],
        ...['--churn', String(this.options.churn), '--kubeconfig-out', kubeconfig, `--token=${simToken}`],
        ...['--event-ttl', String(SIM_EVENT_TTL_S)],
      ],
      { name: `kube-sim-${name}`, maxOutput: 200_000 },
    );
    const ready = await sim.waitForOutput(/"url":"(http:\/\/[^"]+)".*"msg":"kube-sim ready"/, 60_000);
    const cluster: ClusterUnderTest = {
      name,
      sim,
      simUrl: ready[1] as string,
      simToken,
      kubeconfig,
      watchers: [],
      started: 0,
    };
    this.clusters.push(cluster);
    const first = await this.addWatcher(cluster);
    await first.proc.waitForOutput(/"msg":"watcher ready"/, 90_000);
    await this.addWatcher(cluster);
  }

  private spawnGateway(id: string, port: number): ManagedProcess {
    return spawnTestGateway({
      redis: { url: this.redis.url, namespace: NAMESPACE },
      jwtSecret: this.secret,
      port,
      name: id,
      maxOutput: 200_000,
      // The soak's thousands of simulated users share one token: no per-user subscribe limit.
      env: { KNM_GATEWAY_ID: id, KNM_SUBSCRIBE_RATE_LIMIT: '0' },
    });
  }
}
