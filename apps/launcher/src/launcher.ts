import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { parseDurationSeconds, signToken } from '@knm/auth';
import { ClusterListResponseSchema, type ClusterSummaryBody } from '@knm/contracts';
import {
  clusterNameForContext,
  LauncherConfigError,
  type LauncherConfig,
  type RealClusterPlan,
} from './launcher-config.js';
import { parsePinoLine } from './log-line-formatter.js';
import {
  ProcessSupervisor,
  type ChildProcessFailedError,
  type SupervisedChild,
} from './process-supervisor.js';
import { redactRedisUrl } from '@knm/node-store';
import { locateRedis, type RedisLocation } from './redis-locator.js';
import { RoundRobinProxy } from './round-robin-proxy.js';

/** The workspace root (this file lives in apps/launcher/src). */
export const WORKSPACE_ROOT = resolve(import.meta.dirname, '..', '..', '..');

/** What {@link startSystem} reports once every cluster is ready. */
export interface RunningSystem {
  /** `http://<host>:<port>` of the proxy. */
  baseUrl: string;
  /** The dashboard with automatic sign-in: `<baseUrl>/#token=<admin token>`. */
  dashboardUrl: string;
  /** An admin token for every cluster. */
  token: string;
  redis: RedisLocation;
  clusters: ClusterSummaryBody[];
  /** True when the dashboard is built (apps/web/dist/index.html exists). */
  dashboardBuilt: boolean;
}

/** Options of {@link Launcher}. */
export interface LauncherOptions {
  /** The launcher's own structured log. */
  logger: Logger;
  /** Receives each output line of each child. */
  onChildLine: (name: string, line: string) => void;
  /** Called once when the system cannot go on (a child died, or start-up failed). */
  onFatal: (error: Error) => void;
  /** Default {@link WORKSPACE_ROOT}. */
  workspaceRoot?: string;
}

/** How long one process may take to say it is listening. */
const START_TIMEOUT_MS = 120_000;

/**
 * `npm start`'s machinery: finds Redis, builds the dashboard when missing, starts
 * kube-sim per simulated cluster (or nothing for real clusters), the watcher
 * replicas per cluster, the gateways, and the round-robin proxy, then waits until
 * every cluster is `ready` through the proxy with a freshly signed admin token.
 * {@link stop} stops everything in reverse order (proxy, gateways, watchers, sims,
 * Redis) and may be called at any point, also during start-up.
 */
export class Launcher {
  private readonly supervisor: ProcessSupervisor;
  private readonly root: string;
  private proxy: RoundRobinProxy | undefined;
  private tempDir: string | undefined;
  private stopping: Promise<void> | undefined;
  private readonly tsxLoader: string;
  /** What the gateways and watchers get besides the inherited environment: a generated KNM_SECRETS_KEY, if any. */
  private secretsEnv: Record<string, string> = {};

  constructor(
    private readonly config: LauncherConfig,
    private readonly options: LauncherOptions,
  ) {
    this.root = options.workspaceRoot ?? WORKSPACE_ROOT;
    this.tsxLoader = createRequire(join(this.root, 'package.json')).resolve('tsx');
    this.supervisor = new ProcessSupervisor({
      onLine: options.onChildLine,
      onUnexpectedExit: (err) => this.fail(err),
    });
  }

  /** Every child process started so far (name and pid), in start order. */
  children(): { name: string; pid: number; running: boolean }[] {
    return this.supervisor.list().map((c) => ({ name: c.name, pid: c.pid, running: c.running }));
  }

  /** Starts everything; resolves once every cluster is ready. */
  async start(): Promise<RunningSystem> {
    const { config } = this;
    const log = this.options.logger;
    const clusters = config.kubeconfig !== undefined ? this.realClusters(config.kubeconfig) : undefined;

    const redis = await locateRedis({
      supervisor: this.supervisor,
      ...(config.redisUrl !== undefined ? { configuredUrl: config.redisUrl } : {}),
    });
    log.info(
      { redis: redactRedisUrl(redis.url), source: redis.source, namespace: config.redisNamespace },
      redis.source === 'started'
        ? `started redis-server for this run (pid ${redis.child?.pid ?? '?'}, no persistence)`
        : `using Redis ${redactRedisUrl(redis.url)} (${redis.source === 'configured' ? '--redis / REDIS_URL' : 'answered on the default address'})`,
    );

    const dashboardBuilt = await this.ensureDashboard();

    this.proxy = await RoundRobinProxy.start({
      host: config.host,
      port: config.port,
      onError: (what, err) => log.warn({ err: err.message }, `proxy: ${what} failed`),
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        throw new LauncherConfigError(
          `port ${config.port} on ${config.host} is in use; choose another with npm start -- --port <n> (0 = any free port)`,
        );
      }
      throw err;
    });
    const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const baseUrl = `http://${shownHost}:${this.proxy.port}`;
    log.info({ url: baseUrl }, `round-robin proxy listening on ${baseUrl} (no sticky sessions)`);

    this.tempDir = await mkdtemp(join(tmpdir(), 'knm-start-'));
    const watched: { name: string; kubeconfig: string; context?: string }[] = [];
    if (clusters) {
      for (const c of clusters)
        watched.push({ name: c.name, kubeconfig: config.kubeconfig ?? '', context: c.context });
    } else {
      const sims = await Promise.all(config.simulated.map((plan) => this.startSim(plan, this.tempDir ?? '')));
      watched.push(...sims);
    }

    this.secretsEnv = this.secretsKeyEnv();
    for (const cluster of watched) {
      for (let i = 1; i <= config.watchersPerCluster; i += 1) this.startWatcher(cluster, i, redis.url);
    }
    this.startPoolMember(redis.url);

    const secret = randomBytes(48).toString('base64url');
    const origins = [
      ...new Set([baseUrl, `http://localhost:${this.proxy.port}`, `http://127.0.0.1:${this.proxy.port}`]),
    ];
    const gatewayPorts = await Promise.all(
      Array.from({ length: config.gateways }, (_, i) => this.startGateway(i + 1, redis.url, secret, origins)),
    );
    this.proxy.setBackends(gatewayPorts.map((port) => ({ host: '127.0.0.1', port })));
    log.info({ backends: gatewayPorts }, `proxy forwards round-robin to ${gatewayPorts.length} gateways`);

    const token = await signToken(
      { sub: 'admin', role: 'admin', clusters: '*' },
      { secret, ttlSeconds: parseDurationSeconds(config.tokenTtl) },
    );
    const ready = await this.waitUntilReady(
      baseUrl,
      token,
      watched.map((w) => w.name),
    );
    return {
      baseUrl,
      dashboardUrl: `${baseUrl}/#token=${token}`,
      token,
      redis,
      clusters: ready,
      dashboardBuilt,
    };
  }

  /** Stops everything (idempotent; later calls wait for the first). */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const log = this.options.logger;
    log.info({}, 'stopping: proxy, gateways, watchers, clusters, Redis');
    await this.proxy?.close().catch(() => undefined);
    const exits = await this.supervisor.stopAll();
    for (const [name, exit] of exits) {
      if (exit.code !== 0) log.debug({ child: name, ...exit }, 'child stopped');
    }
    if (this.tempDir) await rm(this.tempDir, { recursive: true, force: true });
    log.info({ children: exits.size }, 'every process stopped');
  }

  private fail(err: ChildProcessFailedError | Error): void {
    if (this.stopping || this.supervisor.isStopping) return;
    this.options.onFatal(err);
  }

  private realClusters(kubeconfigFlag: string): RealClusterPlan[] {
    const file = kubeconfigFlag.startsWith('~/') ? join(homedir(), kubeconfigFlag.slice(2)) : kubeconfigFlag;
    if (!existsSync(file)) throw new LauncherConfigError(`--kubeconfig ${file}: no such file`);
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new LauncherConfigError(`--kubeconfig ${file}: cannot be read (${(err as Error).message})`);
    }
    this.config.kubeconfig = file;
    const known = kc.getContexts().map((c) => c.name);
    if (this.config.contexts.length === 0) {
      const current = kc.getCurrentContext();
      if (!current) {
        throw new LauncherConfigError(
          `--kubeconfig ${file} has no current-context; name the clusters with --contexts ${known.join(',') || '<context>'}`,
        );
      }
      return [{ name: clusterNameForContext(current), context: current }];
    }
    for (const c of this.config.contexts) {
      if (!known.includes(c.context)) {
        throw new LauncherConfigError(
          `--contexts: "${c.context}" is not a context of ${file} (it has: ${known.join(', ') || 'none'})`,
        );
      }
    }
    return this.config.contexts;
  }

  private node(
    entry: string,
    args: string[],
  ): { command: string; args: string[]; env: Record<string, string> } {
    return {
      command: process.execPath,
      args: ['--conditions=@knm/source', '--import', this.tsxLoader, join(this.root, entry), ...args],
      env: { TSX_TSCONFIG_PATH: join(this.root, 'tsconfig.base.json') },
    };
  }

  private started(child: SupervisedChild, what: string): void {
    this.options.logger.info(
      { child: child.name, pid: child.pid },
      `started ${child.name} (pid ${child.pid}): ${what}`,
    );
  }

  private async startSim(
    plan: LauncherConfig['simulated'][number],
    dir: string,
  ): Promise<{ name: string; kubeconfig: string }> {
    const kubeconfig = join(dir, `${plan.name}.kubeconfig`);
    const run = this.node('apps/kube-sim/src/main.ts', [
      ...['--port', '0', '--tls-port', '0', '--cluster-name', plan.name],
      ...['--nodes', String(plan.nodes), '--pods', String(plan.pods), '--seed', String(plan.seed)],
      ...['--churn', String(plan.churn), '--heartbeat', String(plan.heartbeatSeconds)],
      ...['--kubeconfig-out', kubeconfig],
    ]);
    const child = this.supervisor.start({ name: `kube-sim-${plan.name}`, tier: 1, cwd: this.root, ...run });
    this.started(
      child,
      `simulated cluster ${plan.name}: ${plan.nodes} nodes, ${plan.pods} pods, churn ${plan.churn}/s, heartbeats every ${plan.heartbeatSeconds} s`,
    );
    await child.waitForLine(
      (line) => (parsePinoLine(line)?.['msg'] === 'kube-sim ready' ? true : undefined),
      START_TIMEOUT_MS,
      'kube-sim ready',
    );
    return { name: plan.name, kubeconfig };
  }

  private startWatcher(
    cluster: { name: string; kubeconfig: string; context?: string },
    index: number,
    redisUrl: string,
  ): void {
    const run = this.node('apps/watcher/src/main.ts', [
      ...['--cluster', cluster.name, '--kubeconfig', cluster.kubeconfig],
      ...(cluster.context !== undefined ? ['--context', cluster.context] : []),
      ...['--redis', redisUrl, '--namespace', this.config.redisNamespace],
      ...['--metrics-port', '0', '--metrics-host', '127.0.0.1'],
      ...['--identity', `watcher-${cluster.name}-${index}`, '--log-level', this.config.logLevel],
    ]);
    const child = this.supervisor.start({
      name: `watcher-${cluster.name}-${index}`,
      tier: 2,
      cwd: this.root,
      ...run,
      env: { ...run.env, ...this.secretsEnv },
    });
    this.started(
      child,
      `watcher replica ${index} of cluster ${cluster.name} (leader election in Redis; the others stand by)`,
    );
  }

  /**
   * One watcher pool member: it serves the clusters registered at runtime (the
   * dashboard's "Add cluster", `POST /api/v1/clusters`), sealed with this run's key.
   */
  private startPoolMember(redisUrl: string): void {
    const run = this.node('apps/watcher/src/main.ts', [
      '--pool',
      ...['--redis', redisUrl, '--namespace', this.config.redisNamespace],
      ...['--metrics-port', '0', '--metrics-host', '127.0.0.1'],
      ...['--identity', 'watcher-pool-1', '--log-level', this.config.logLevel],
    ]);
    const child = this.supervisor.start({
      name: 'watcher-pool-1',
      tier: 2,
      cwd: this.root,
      ...run,
      env: { ...run.env, ...this.secretsEnv },
    });
    this.started(child, 'watcher pool member (serves the clusters added at runtime)');
  }

  private async startGateway(
    index: number,
    redisUrl: string,
    secret: string,
    origins: string[],
  ): Promise<number> {
    const run = this.node('apps/gateway/src/main.ts', [
      ...['--port', '0', '--host', '127.0.0.1', '--redis', redisUrl],
      ...['--namespace', this.config.redisNamespace, '--log-level', this.config.logLevel],
    ]);
    const child = this.supervisor.start({
      name: `gateway-${index}`,
      tier: 3,
      cwd: this.root,
      command: run.command,
      args: run.args,
      // The secret goes through the environment, never the command line (which `ps` shows).
      env: {
        ...run.env,
        ...this.secretsEnv,
        KNM_JWT_SECRET: secret,
        KNM_CORS_ORIGINS: origins.join(','),
        KNM_GATEWAY_ID: `gateway-${index}`,
        // The gateways trust no proxy by default; this run's proxy is on loopback.
        KNM_TRUST_PROXY: 'loopback',
      },
    });
    this.started(child, `gateway ${index} (REST + Socket.IO)`);
    return child.waitForLine(
      (line) => {
        const port = parsePinoLine(line)?.['port'];
        return /gateway listening/.test(line) && typeof port === 'number' ? port : undefined;
      },
      START_TIMEOUT_MS,
      'its listening port',
    );
  }

  /**
   * The key that seals registered clusters' credentials, for the gateways and watchers:
   * the caller's `KNM_SECRETS_KEY` (inherited), else one generated for this run so that
   * registering a cluster works out of the box. The key is never printed; the log says
   * which, and what a generated one means for a Redis that outlives the run.
   */
  private secretsKeyEnv(): Record<string, string> {
    const log = this.options.logger;
    if (process.env['KNM_SECRETS_KEY']?.trim()) {
      log.info({}, 'registered clusters are sealed with the KNM_SECRETS_KEY given');
      return {};
    }
    log.info(
      {},
      'KNM_SECRETS_KEY is not set: generated one for this run (not printed) so clusters can be registered; ' +
        'a later run cannot open what this one registered unless KNM_SECRETS_KEY is set to a key you keep',
    );
    return { KNM_SECRETS_KEY: randomBytes(32).toString('base64') };
  }

  /** Runs `npm run web:build` when the dashboard is not built; true when it is built afterwards. */
  private async ensureDashboard(): Promise<boolean> {
    const log = this.options.logger;
    const index = join(this.root, 'apps/web/dist/index.html');
    if (existsSync(index)) return true;
    if (!this.config.webBuild) {
      log.warn(
        {},
        'the dashboard is not built (apps/web/dist) and --no-web-build was given: the API works, / does not',
      );
      return false;
    }
    const scripts = (
      JSON.parse(readFileSync(join(this.root, 'package.json'), 'utf8')) as {
        scripts?: Record<string, string>;
      }
    ).scripts;
    if (scripts?.['web:build'] === undefined) {
      log.warn(
        {},
        'the dashboard is not built and there is no "web:build" script yet: the API works, / does not',
      );
      return false;
    }
    const npmCli = process.env['npm_execpath'];
    const child = this.supervisor.start({
      name: 'web-build',
      oneShot: true,
      cwd: this.root,
      ...(npmCli && npmCli.endsWith('.js')
        ? { command: process.execPath, args: [npmCli, 'run', 'web:build'] }
        : { command: 'npm', args: ['run', 'web:build'] }),
    });
    this.started(child, 'building the dashboard (npm run web:build), once');
    const exit = await child.exited;
    if (exit.code !== 0 || !existsSync(index)) {
      log.warn({ ...exit }, 'npm run web:build failed (see its lines above): the API works, / does not');
      return false;
    }
    log.info({}, 'dashboard built (apps/web/dist)');
    return true;
  }

  private async waitUntilReady(
    baseUrl: string,
    token: string,
    names: string[],
  ): Promise<ClusterSummaryBody[]> {
    const log = this.options.logger;
    const deadline = Date.now() + this.config.readyTimeoutMs;
    let lastReport = 0;
    let last: string;
    for (;;) {
      try {
        const res = await fetch(`${baseUrl}/api/v1/clusters`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(5_000),
        });
        if (res.ok) {
          const { items } = ClusterListResponseSchema.parse(await res.json());
          const byName = new Map<string, ClusterSummaryBody>(items.map((c) => [c.name, c]));
          const wanted = names.map((n) => byName.get(n));
          last = names.map((n, i) => `${n} ${wanted[i]?.status ?? 'not registered'}`).join(', ');
          if (wanted.every((c) => c?.status === 'ready')) {
            return wanted.filter((c): c is ClusterSummaryBody => c !== undefined);
          }
        } else {
          last = `GET /api/v1/clusters answered ${res.status}`;
        }
      } catch (err) {
        last = (err as Error).message;
      }
      if (this.stopping) throw new Error('stopped while waiting for the clusters');
      if (Date.now() > deadline) {
        throw new Error(
          `the clusters were not all ready within ${this.config.readyTimeoutMs / 1000} s (${last}); raise --ready-timeout or read the watcher lines above`,
        );
      }
      if (Date.now() - lastReport > 5_000) {
        lastReport = Date.now();
        log.info({}, `waiting for the clusters to be ready: ${last}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
