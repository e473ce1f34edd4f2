import { spawnApp, type ManagedProcess } from './processes.js';

/** Options of {@link spawnTestWatcher}. */
export interface TestWatcherOptions {
  /** The cluster name the watcher registers. */
  cluster: string;
  /** A kubeconfig for the cluster's API server (kube-sim writes one). */
  kubeconfigPath: string;
  /** The test's Redis: its URL and its namespace (every key the watcher writes is under it). */
  redis: { url: string; namespace: string };
  /** More command-line flags (they may override the defaults below). */
  args?: readonly string[];
  /** Environment for the process (e.g. the operations worker's settings). */
  env?: Readonly<Record<string, string>>;
  /** Prefix of its lines in messages. Default `watcher-<cluster>`. */
  name?: string;
}

/**
 * Starts a real watcher process (`apps/watcher`) as tests run it: metrics on a free
 * port of 127.0.0.1 (the log line `"msg":"metrics listening"` carries it), a 2 s lease
 * and 500 ms heartbeats, so that take-overs and `stale` detection happen within a
 * test's patience. Wait for `"msg":"watcher ready"` before relying on Redis.
 */
export function spawnTestWatcher(options: TestWatcherOptions): ManagedProcess {
  return spawnApp(
    'watcher',
    [
      '--cluster',
      options.cluster,
      '--kubeconfig',
      options.kubeconfigPath,
      ...testWatcherArgs(options.redis),
      ...(options.args ?? []),
    ],
    { name: options.name ?? `watcher-${options.cluster}`, ...(options.env ? { env: options.env } : {}) },
  );
}

/** Options of {@link spawnTestPoolMember}. */
export interface TestPoolMemberOptions {
  /** The test's Redis: the registry (`knm:connections`) and every cluster's keys are under its namespace. */
  redis: { url: string; namespace: string };
  /** The key the registry's credentials are sealed with (KNM_SECRETS_KEY). */
  secretsKey: string;
  /** The member's identity (also its lines' prefix). */
  identity: string;
  /** More flags (they may override the defaults below). */
  args?: readonly string[];
  /** More environment. */
  env?: Readonly<Record<string, string>>;
}

/**
 * Starts a real watcher pool member (`--pool`) as tests run it: metrics on a free
 * port of 127.0.0.1, a 2 s lease and 500 ms heartbeats, no usage polling. It runs its
 * share of the clusters registered under the test's namespace.
 */
export function spawnTestPoolMember(options: TestPoolMemberOptions): ManagedProcess {
  return spawnApp(
    'watcher',
    [
      '--pool',
      '--identity',
      options.identity,
      ...testWatcherArgs(options.redis),
      '--metrics-interval',
      '0',
      ...(options.args ?? []),
    ],
    { name: options.identity, env: { KNM_SECRETS_KEY: options.secretsKey, ...options.env } },
  );
}

/** The flags every test watcher gets: the test's Redis, metrics on a free local port, a 2 s lease, 500 ms heartbeats. */
function testWatcherArgs(redis: { url: string; namespace: string }): string[] {
  return [
    ...['--redis', redis.url, '--namespace', redis.namespace],
    ...['--metrics-port', '0', '--metrics-host', '127.0.0.1'],
    ...['--lease-ttl-ms', '2000', '--heartbeat-ms', '500'],
  ];
}
