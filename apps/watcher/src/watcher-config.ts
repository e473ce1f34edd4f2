import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { parseInteger, readFlags } from '@knm/cli';
import { clusterNameErrors, DEFAULT_NAMESPACE, type ClusterName, Keyspace } from '@knm/contracts';
import { parseRedisUrl, redactRedisUrl, RedisUrlError } from '@knm/node-store';

/** How a pool member shares the registered clusters (`--pool`). */
export interface PoolSettings {
  /**
   * `--pool-standby` / `KNM_POOL_STANDBY`: `cold` (each cluster runs on its one owner;
   * a dead member's clusters are listed afresh by their new owners) or `warm` (the
   * member ranked second also reflects it, not leading: failover skips the initial
   * sync, at twice the API watches and cache memory). Default `cold`.
   */
  standby: 'warm' | 'cold';
  /** `--pool-relist-seconds` / `KNM_POOL_RELIST_SECONDS`: re-read the registry this often (pub/sub may miss a change). Default 30 s. */
  relistMs: number;
}

/** Everything one watcher replica needs to run. */
export interface WatcherConfig {
  /**
   * The cluster name knm uses (`--cluster` / `KNM_CLUSTER`; DNS-1123 label). Required
   * unless `--pool`, which takes its clusters from the registry instead.
   */
  cluster?: ClusterName;
  /** `--pool` / `KNM_POOL=true`: run as a member of the watcher pool (every registered cluster, shared). */
  pool?: PoolSettings;
  /** Kubeconfig file (`--kubeconfig` / `KUBECONFIG`). Default: client-node's default loading (KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeconfig?: string;
  /** Context to use (`--context` / `KNM_KUBE_CONTEXT`). Default: the kubeconfig's current context. */
  context?: string;
  /**
   * `--redis` / `REDIS_URL`: `redis://` or `rediss://` (standalone), or
   * `redis+cluster://h1:p1,h2:p2` / `rediss+cluster://...` (Redis Cluster seed nodes;
   * the change feed then uses sharded pub/sub). Default `redis://127.0.0.1:6379`.
   */
  redisUrl: string;
  /** Redis key namespace (`--namespace` / `KNM_REDIS_NAMESPACE`). Default `knm`. */
  redisNamespace: string;
  /** Health and metrics port (`--metrics-port` / `KNM_METRICS_PORT`); 0 = any free port. Default 9464. */
  metricsPort: number;
  /** Interface of the metrics port (`--metrics-host` / `KNM_METRICS_HOST`). Default `0.0.0.0`. */
  metricsHost: string;
  /** This replica's identity in the lease and meta (`--identity` / `KNM_WATCHER_ID`). Default `<host>/<pid>/<random>`. */
  identity: string;
  /** Lease TTL (`--lease-ttl-ms` / `KNM_LEASE_TTL_MS`): how soon a standby takes over a dead leader. Default 5,000. */
  leaseTtlMs: number;
  /** Pod-count coalescing window (`--coalesce-ms` / `KNM_COALESCE_MS`), at most 100. Default 100. */
  coalesceMs: number;
  /** Heartbeat period (`--heartbeat-ms` / `KNM_HEARTBEAT_MS`). Default 2,000. */
  heartbeatMs: number;
  /** Server-side watch timeout (`--watch-timeout-seconds` / `KNM_WATCH_TIMEOUT_SECONDS`). Default: random 300..600 per watch. */
  watchTimeoutSeconds?: number;
  /** Watchdog (`--watchdog-seconds` / `KNM_WATCHDOG_SECONDS`): restart a watch silent this long; 0 = off. Default 120. */
  watchdogSeconds: number;
  /** List page size (`--page-size` / `KNM_PAGE_SIZE`). Default 500. */
  pageSize: number;
  /**
   * How the full state is fetched (`--initial-sync` / `KNM_INITIAL_SYNC`): `watch-list`
   * (WatchList, `sendInitialEvents`; falls back to `list` when the server refuses it)
   * or `list` (paged LIST). Default `watch-list`.
   */
  initialSync: 'list' | 'watch-list';
  /**
   * How often the leader reads node usage from `metrics.k8s.io` (`--metrics-interval`
   * seconds / `KNM_METRICS_INTERVAL`), in ms; 0 = never (no usage is written).
   * Default 15,000 (metrics-server's resolution).
   */
  metricsIntervalMs: number;
  /** Days node history and closed incidents are kept (`--history-days` / `KNM_HISTORY_DAYS`). Default 30. */
  historyDays: number;
  /**
   * Health changes of a node within `flapWindowSeconds` that mark its incident
   * flapping (`--flap-transitions` / `KNM_FLAP_TRANSITIONS`). Default 4.
   */
  flapTransitions: number;
  /** The flap window (`--flap-window-seconds` / `KNM_FLAP_WINDOW_SECONDS`). Default 600. */
  flapWindowSeconds: number;
  /**
   * How long the first incident of a burst waits for others before its webhook
   * message goes out, so that many nodes failing at once make one message
   * (`--notify-group-seconds` / `KNM_NOTIFY_GROUP_SECONDS`). Default 5.
   */
  notifyGroupSeconds: number;
  /** pino level (`--log-level` / `KNM_LOG_LEVEL`). Default `info`. */
  logLevel: string;
}

/** A configuration that cannot be used; the message says what to fix. Exit code 2. */
export class WatcherConfigError extends Error {
  override readonly name = 'WatcherConfigError';
}

/** `--help` was asked for; the message is the usage text. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
}

/** The usage text. */
export const WATCHER_USAGE = `Usage: npm run watcher -- --cluster <name> [options]
       npm run watcher -- --pool [options]

Reflects Kubernetes clusters' Nodes and per-node pod counts into Redis.
One cluster: run several replicas of it; one leads (writes), the others stand by.
--pool: every cluster registered in Redis (POST /api/v1/clusters), shared by the
pool's members; needs KNM_SECRETS_KEY (the key the registry's credentials are sealed with).

  --cluster <name>              knm name of the cluster (DNS-1123 label)     env KNM_CLUSTER
  --pool                        run as a pool member (not with --cluster)    env KNM_POOL=true
  --pool-standby <warm|cold>    warm: the 2nd-ranked member also reflects    env KNM_POOL_STANDBY
                                each cluster (faster failover, 2x watches);
                                default cold
  --pool-relist-seconds <s>     re-read the registry every <s>, default 30   env KNM_POOL_RELIST_SECONDS
  --kubeconfig <file>           kubeconfig to use                             env KUBECONFIG
                                (default: ~/.kube/config, or in-cluster service account)
  --context <name>              kubeconfig context (default: current)        env KNM_KUBE_CONTEXT
  --redis <url>                 default redis://127.0.0.1:6379                env REDIS_URL
                                (Redis Cluster: redis+cluster://h1:p1,h2:p2)
  --namespace <ns>              Redis key namespace, default knm             env KNM_REDIS_NAMESPACE
  --metrics-port <port>         /healthz /readyz /metrics, default 9464      env KNM_METRICS_PORT
  --metrics-host <host>         default 0.0.0.0                               env KNM_METRICS_HOST
  --identity <id>               replica identity, default host/pid/random    env KNM_WATCHER_ID
  --lease-ttl-ms <ms>           leader lease TTL, default 5000               env KNM_LEASE_TTL_MS
  --coalesce-ms <ms>            pod-count write window (<= 100), default 100 env KNM_COALESCE_MS
  --heartbeat-ms <ms>           leader heartbeat, default 2000               env KNM_HEARTBEAT_MS
  --watch-timeout-seconds <s>   server watch timeout, default 300..600       env KNM_WATCH_TIMEOUT_SECONDS
  --watchdog-seconds <s>        restart a silent watch, default 120 (0 off)  env KNM_WATCHDOG_SECONDS
  --page-size <n>               list page size, default 500                  env KNM_PAGE_SIZE
  --initial-sync <mode>         watch-list (default; falls back to list) or  env KNM_INITIAL_SYNC
                                list
  --metrics-interval <s>        read node usage (metrics.k8s.io) every <s>   env KNM_METRICS_INTERVAL
                                seconds, default 15 (0 off)
  --history-days <n>            keep node history and incidents, default 30  env KNM_HISTORY_DAYS
  --flap-transitions <n>        health changes that mark an incident         env KNM_FLAP_TRANSITIONS
                                flapping, default 4
  --flap-window-seconds <s>     ... within this window, default 600          env KNM_FLAP_WINDOW_SECONDS
  --notify-group-seconds <s>    incidents within this long of the first make env KNM_NOTIFY_GROUP_SECONDS
                                one webhook message, default 5 (webhooks need KNM_SECRETS_KEY)
  --log-level <level>           fatal|error|warn|info|debug|trace            env KNM_LOG_LEVEL
  --help
`;

const WATCHER_FLAGS = {
  cluster: 'string',
  pool: 'boolean',
  'pool-standby': 'string',
  'pool-relist-seconds': 'string',
  kubeconfig: 'string',
  context: 'string',
  redis: 'string',
  namespace: 'string',
  'metrics-port': 'string',
  'metrics-host': 'string',
  identity: 'string',
  'lease-ttl-ms': 'string',
  'coalesce-ms': 'string',
  'heartbeat-ms': 'string',
  'watch-timeout-seconds': 'string',
  'watchdog-seconds': 'string',
  'page-size': 'string',
  'initial-sync': 'string',
  'metrics-interval': 'string',
  'history-days': 'string',
  'flap-transitions': 'string',
  'flap-window-seconds': 'string',
  'notify-group-seconds': 'string',
  'log-level': 'string',
  help: 'boolean',
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Reads the configuration: command-line flags win over the environment, which wins
 * over defaults. Throws {@link WatcherConfigError} naming the flag and what is wrong,
 * {@link HelpRequested} for `--help`.
 */
export function loadWatcherConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): WatcherConfig {
  const values = readFlags(argv, WATCHER_FLAGS, (m) => new WatcherConfigError(`${m}\n\n${WATCHER_USAGE}`));
  if (values['help']) throw new HelpRequested(WATCHER_USAGE);
  const str = (flag: keyof typeof WATCHER_FLAGS, envName?: string): string | undefined => {
    const v = values[flag];
    if (typeof v === 'string') return v;
    const e = envName ? env[envName] : undefined;
    return e === undefined || e === '' ? undefined : e;
  };
  const int = (
    flag: keyof typeof WATCHER_FLAGS,
    envName: string,
    fallback: number,
    min: number,
    max: number,
  ): number => {
    const raw = str(flag, envName);
    if (raw === undefined) return fallback;
    const n = parseInteger(raw, min, max);
    if (n === undefined) {
      throw new WatcherConfigError(
        `--${flag} (${envName}) must be an integer from ${min} to ${max}, got "${raw}"`,
      );
    }
    return n;
  };

  const poolEnv = env['KNM_POOL'];
  if (poolEnv !== undefined && poolEnv !== '' && poolEnv !== 'true' && poolEnv !== 'false') {
    throw new WatcherConfigError(`KNM_POOL must be "true" or "false", got "${poolEnv}"`);
  }
  const pooled = values['pool'] === true || poolEnv === 'true';
  const cluster = str('cluster', 'KNM_CLUSTER');
  if (pooled && values['cluster'] !== undefined) {
    throw new WatcherConfigError(
      '--pool and --cluster exclude each other: a pool member takes its clusters from the registry',
    );
  }
  if (!pooled && !cluster) {
    throw new WatcherConfigError(
      `--cluster (or KNM_CLUSTER) is required: the name knm gives this cluster, e.g. --cluster dev; or --pool\n\n${WATCHER_USAGE}`,
    );
  }
  if (!pooled && cluster) {
    const problems = clusterNameErrors(cluster);
    if (problems.length > 0) throw new WatcherConfigError(`--cluster: ${problems.join('; ')}`);
  }
  const standby = str('pool-standby', 'KNM_POOL_STANDBY') ?? 'cold';
  if (standby !== 'warm' && standby !== 'cold') {
    throw new WatcherConfigError(
      `--pool-standby (KNM_POOL_STANDBY) must be "warm" or "cold", got "${standby}"`,
    );
  }
  const relistSeconds = int('pool-relist-seconds', 'KNM_POOL_RELIST_SECONDS', 30, 1, 86_400);

  const redisUrl = str('redis', 'REDIS_URL') ?? 'redis://127.0.0.1:6379';
  try {
    parseRedisUrl(redisUrl);
  } catch (err) {
    if (!(err instanceof RedisUrlError)) throw err;
    throw new WatcherConfigError(
      `--redis (REDIS_URL) must be a redis://, rediss:// or redis+cluster:// URL: ${err.message}`,
    );
  }
  const redisNamespace = str('namespace', 'KNM_REDIS_NAMESPACE') ?? DEFAULT_NAMESPACE;
  try {
    new Keyspace(redisNamespace);
  } catch (err) {
    throw new WatcherConfigError(`--namespace: ${(err as Error).message}`);
  }
  const logLevel = str('log-level', 'KNM_LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new WatcherConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const coalesceMs = int('coalesce-ms', 'KNM_COALESCE_MS', 100, 1, 100);
  const leaseTtlMs = int('lease-ttl-ms', 'KNM_LEASE_TTL_MS', 5_000, 300, 600_000);
  const watchTimeout = str('watch-timeout-seconds', 'KNM_WATCH_TIMEOUT_SECONDS');
  const initialSync = str('initial-sync', 'KNM_INITIAL_SYNC') ?? 'watch-list';
  if (initialSync !== 'list' && initialSync !== 'watch-list') {
    throw new WatcherConfigError(
      `--initial-sync (KNM_INITIAL_SYNC) must be "watch-list" or "list", got "${initialSync}"`,
    );
  }
  const metricsInterval = str('metrics-interval', 'KNM_METRICS_INTERVAL') ?? '15';
  const metricsSeconds = Number(metricsInterval);
  if (
    !/^\d+(\.\d+)?$/.test(metricsInterval) ||
    metricsSeconds > 3_600 ||
    (metricsSeconds > 0 && metricsSeconds < 0.1)
  ) {
    throw new WatcherConfigError(
      `--metrics-interval (KNM_METRICS_INTERVAL) must be seconds from 0.1 to 3600, or 0 to turn usage off, got "${metricsInterval}"`,
    );
  }

  const config: WatcherConfig = {
    redisUrl,
    redisNamespace,
    metricsPort: int('metrics-port', 'KNM_METRICS_PORT', 9464, 0, 65_535),
    metricsHost: str('metrics-host', 'KNM_METRICS_HOST') ?? '0.0.0.0',
    identity:
      str('identity', 'KNM_WATCHER_ID') ?? `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`,
    leaseTtlMs,
    coalesceMs,
    heartbeatMs: int('heartbeat-ms', 'KNM_HEARTBEAT_MS', 2_000, 50, 600_000),
    watchdogSeconds: int('watchdog-seconds', 'KNM_WATCHDOG_SECONDS', 120, 0, 86_400),
    pageSize: int('page-size', 'KNM_PAGE_SIZE', 500, 1, 100_000),
    initialSync,
    metricsIntervalMs: Math.round(metricsSeconds * 1000),
    historyDays: int('history-days', 'KNM_HISTORY_DAYS', 30, 1, 3_650),
    flapTransitions: int('flap-transitions', 'KNM_FLAP_TRANSITIONS', 4, 2, 1_000),
    flapWindowSeconds: int('flap-window-seconds', 'KNM_FLAP_WINDOW_SECONDS', 600, 1, 86_400),
    notifyGroupSeconds: int('notify-group-seconds', 'KNM_NOTIFY_GROUP_SECONDS', 5, 0, 300),
    logLevel,
  };
  if (pooled) config.pool = { standby, relistMs: relistSeconds * 1000 };
  else config.cluster = cluster as ClusterName;
  const kubeconfig = str('kubeconfig', 'KUBECONFIG');
  if (kubeconfig) config.kubeconfig = kubeconfig;
  const context = str('context', 'KNM_KUBE_CONTEXT');
  if (context) config.context = context;
  if (watchTimeout !== undefined) {
    config.watchTimeoutSeconds = int('watch-timeout-seconds', 'KNM_WATCH_TIMEOUT_SECONDS', 0, 1, 86_400);
  }
  return config;
}

/** A Redis URL (standalone or cluster) with its password replaced by `***` (for messages and logs). */
export function redactUrl(url: string): string {
  return redactRedisUrl(url);
}
