import { parseInteger, readFlags } from '@knm/cli';
import { DEFAULT_NAMESPACE, Keyspace } from '@knm/contracts';
import { parseRedisUrl, RedisUrlError } from '@knm/node-store';

/** One simulated cluster `npm start` runs with kube-sim. */
export interface SimulatedClusterPlan {
  /** knm cluster name (DNS-1123 label). */
  name: string;
  nodes: number;
  pods: number;
  /** Churn events per second. */
  churn: number;
  /** Seconds between each node's kubelet heartbeat (0 = off). */
  heartbeatSeconds: number;
  seed: number;
}

/** One real cluster `npm start -- --kubeconfig f --contexts a,b` watches. */
export interface RealClusterPlan {
  /** knm cluster name (DNS-1123 label), derived from the context unless given as `name=context`. */
  name: string;
  /** The kubeconfig context. */
  context: string;
}

/** Everything `npm start` needs. */
export interface LauncherConfig {
  /** Proxy (dashboard) port (`--port`); 0 = any free port. Default 8080. */
  port: number;
  /** Interface the proxy listens on (`--host`). Default `127.0.0.1`. */
  host: string;
  /** Number of gateway processes (`--gateways`). Default 2. */
  gateways: number;
  /** Watcher replicas per cluster, one leader and the rest standbys (`--watchers`). Default 2. */
  watchersPerCluster: number;
  /** Explicit Redis URL (`--redis`, else `REDIS_URL`). Default: probe 127.0.0.1:6379, else start redis-server. */
  redisUrl?: string;
  /** Redis key namespace (`--namespace` / `KNM_REDIS_NAMESPACE`). Default `knm`. */
  redisNamespace: string;
  /** Real clusters: the kubeconfig (`--kubeconfig`). Unset: simulated clusters. */
  kubeconfig?: string;
  /** Real clusters to watch (`--contexts a,b` or `name=context`); empty with a kubeconfig = its current context. */
  contexts: RealClusterPlan[];
  /** The simulated clusters (`dev`: `--dev-nodes`, `prod`: `--prod-nodes`, `--prod-churn`). */
  simulated: SimulatedClusterPlan[];
  /** Build the dashboard when apps/web/dist/index.html is missing (`--no-web-build` turns it off). Default true. */
  webBuild: boolean;
  /** How long to wait for every cluster to become ready before giving up (`--ready-timeout` seconds). Default 180. */
  readyTimeoutMs: number;
  /** Lifetime of the printed admin token (`--token-ttl`, e.g. `12h`). Default `12h`. */
  tokenTtl: string;
  /** pino level of the children and the launcher (`--log-level`). Default `info`. */
  logLevel: string;
}

/** A command line `npm start` cannot run with; main prints the message and exits 2. */
export class LauncherConfigError extends Error {
  override readonly name = 'LauncherConfigError';
}

/** `--help` was asked for; the message is the usage text. */
export class LauncherHelpRequested extends Error {
  override readonly name = 'LauncherHelpRequested';
}

/** The usage text. */
export const LAUNCHER_USAGE = `Usage: npm start [-- options]

Runs the whole system on this machine: two simulated clusters (kube-sim: dev, prod),
a leader and a standby watcher per cluster, a watcher pool member (for clusters added
at runtime), gateways, and a round-robin proxy in front,
then prints the dashboard URL with an admin token. Ctrl-C stops everything.

  --port <n>              proxy / dashboard port (0 = any), default 8080
  --host <addr>           proxy interface, default 127.0.0.1
  --gateways <n>          gateway processes, default 2
  --watchers <n>          watcher replicas per cluster, default 2
  --redis <url>           Redis (env REDIS_URL): redis://, rediss://, or a Redis Cluster as
                          redis+cluster://host1:port1,host2:port2; default 127.0.0.1:6379
                          when it answers, else a redis-server from PATH for this run
  --namespace <ns>        Redis key namespace, default knm   (env KNM_REDIS_NAMESPACE)
  --kubeconfig <file>     watch real clusters from this kubeconfig instead of kube-sim
  --contexts <a,b>        contexts to watch (name=context to rename); default: current
  --dev-nodes <n>         simulated dev cluster size, default 8
  --prod-nodes <n>        simulated prod cluster size, default 300
  --prod-churn <n>        prod churn events per second, default 20
  --no-web-build          do not build the dashboard when apps/web/dist is missing
  --ready-timeout <s>     wait this long for every cluster to be ready, default 180
  --token-ttl <d>         admin token lifetime, default 12h (the gateways refuse tokens
                          valid longer than KNM_MAX_TOKEN_TTL, 24h unless set)
  --log-level <level>     fatal|error|warn|info|debug|trace, default info
  --help
`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/**
 * A knm cluster name for a kubeconfig context: lowercase, every run of characters
 * outside `[a-z0-9-]` replaced by one `-`, trimmed of `-`, at most 63 characters
 * (e.g. `arn:aws:eks:eu-west-1:1:cluster/prod` -> `arn-aws-eks-eu-west-1-1-cluster-prod`).
 * Throws {@link LauncherConfigError} when nothing usable is left.
 */
export function clusterNameForContext(context: string): string {
  const name = context
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/g, '');
  if (!name) {
    throw new LauncherConfigError(
      `context "${context}" gives no usable cluster name; name it with --contexts name=${context}`,
    );
  }
  return name;
}

const LAUNCHER_FLAGS = {
  port: 'string',
  host: 'string',
  gateways: 'string',
  watchers: 'string',
  redis: 'string',
  namespace: 'string',
  kubeconfig: 'string',
  contexts: 'string',
  'dev-nodes': 'string',
  'prod-nodes': 'string',
  'prod-churn': 'string',
  'no-web-build': 'boolean',
  'ready-timeout': 'string',
  'token-ttl': 'string',
  'log-level': 'string',
  help: 'boolean',
} as const;

/**
 * Reads the command line (flags win over the environment, which wins over defaults).
 * Throws {@link LauncherConfigError} naming the flag and what is wrong,
 * {@link LauncherHelpRequested} for `--help`.
 */
export function loadLauncherConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): LauncherConfig {
  const values = readFlags(argv, LAUNCHER_FLAGS, (m) => new LauncherConfigError(`${m}\n\n${LAUNCHER_USAGE}`));
  if (values['help']) throw new LauncherHelpRequested(LAUNCHER_USAGE);
  const str = (flag: keyof typeof LAUNCHER_FLAGS): string | undefined => {
    const v = values[flag];
    return typeof v === 'string' ? v : undefined;
  };
  const int = (flag: keyof typeof LAUNCHER_FLAGS, fallback: number, min: number, max: number): number => {
    const raw = str(flag);
    if (raw === undefined) return fallback;
    const n = parseInteger(raw, min, max);
    if (n === undefined) {
      throw new LauncherConfigError(`--${flag} must be an integer from ${min} to ${max}, got "${raw}"`);
    }
    return n;
  };

  const redisNamespace = str('namespace') ?? (env['KNM_REDIS_NAMESPACE'] || DEFAULT_NAMESPACE);
  try {
    new Keyspace(redisNamespace);
  } catch (err) {
    throw new LauncherConfigError(`--namespace: ${(err as Error).message}`);
  }
  const logLevel = str('log-level') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new LauncherConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const redisUrl = str('redis') ?? (env['REDIS_URL'] || undefined);
  if (redisUrl !== undefined) {
    try {
      parseRedisUrl(redisUrl);
    } catch (err) {
      if (err instanceof RedisUrlError) throw new LauncherConfigError(`--redis (REDIS_URL): ${err.message}`);
      throw err;
    }
  }
  const kubeconfig = str('kubeconfig');
  const contextsRaw = str('contexts');
  if (contextsRaw !== undefined && kubeconfig === undefined) {
    throw new LauncherConfigError('--contexts needs --kubeconfig <file> (the kubeconfig that defines them)');
  }
  const contexts = (contextsRaw ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .map((entry): RealClusterPlan => {
      const eq = entry.indexOf('=');
      if (eq < 0) return { name: clusterNameForContext(entry), context: entry };
      const name = entry.slice(0, eq);
      const context = entry.slice(eq + 1);
      if (!context || clusterNameForContext(name) !== name) {
        throw new LauncherConfigError(
          `--contexts "${entry}": use name=context with a DNS-1123 label as the name (lowercase letters, digits, "-")`,
        );
      }
      return { name, context };
    });
  const names = contexts.map((c) => c.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) {
    throw new LauncherConfigError(
      `--contexts: two contexts map to the cluster name "${duplicate}"; rename one with name=context`,
    );
  }

  const devNodes = int('dev-nodes', 8, 1, 5_000);
  const prodNodes = int('prod-nodes', 300, 1, 5_000);
  const config: LauncherConfig = {
    port: int('port', 8080, 0, 65_535),
    host: str('host') ?? '127.0.0.1',
    gateways: int('gateways', 2, 1, 16),
    watchersPerCluster: int('watchers', 2, 1, 8),
    redisNamespace,
    contexts,
    simulated: [
      { name: 'dev', nodes: devNodes, pods: devNodes * 15, churn: 1, heartbeatSeconds: 10, seed: 1 },
      {
        name: 'prod',
        nodes: prodNodes,
        pods: prodNodes * 25,
        churn: int('prod-churn', 20, 0, 10_000),
        heartbeatSeconds: 10,
        seed: 2,
      },
    ],
    webBuild: values['no-web-build'] !== true,
    readyTimeoutMs: int('ready-timeout', 180, 1, 3_600) * 1000,
    tokenTtl: str('token-ttl') ?? '12h',
    logLevel,
  };
  if (redisUrl !== undefined) config.redisUrl = redisUrl;
  if (kubeconfig !== undefined) config.kubeconfig = kubeconfig;
  return config;
}
