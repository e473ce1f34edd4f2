import { spawnSync } from 'node:child_process';
import { spawnProcess, type ManagedProcess } from './processes.js';

/** True when a `redis-server` binary is on `env`'s PATH. */
export function hasRedisServer(env: NodeJS.ProcessEnv = process.env): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore', env }).status === 0;
}

/**
 * Whether a suite that starts its own `redis-server` (a Redis Cluster, TLS) runs:
 * always in CI (CI=true), where .ci/run installs it and a missing binary must fail
 * the suite rather than skip it (its first test calls {@link requireRedisServer});
 * elsewhere only when it is installed, saying so when it is not.
 */
export function redisServerSuiteRuns(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['CI'] === 'true' || hasRedisServer(env)) return true;
  console.warn(
    'skipping a suite that starts its own redis-server: not installed (apt-get install redis-server)',
  );
  return false;
}

/** Throws (failing the test that calls it) when `redis-server` is not on PATH; CI installs it with `.ci/run`. */
export function requireRedisServer(env: NodeJS.ProcessEnv = process.env): void {
  if (!hasRedisServer(env)) throw new Error('redis-server is not on PATH: .ci/run installs it with apt-get');
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Plain-TCP port on 127.0.0.1; 0 for none (e.g. TLS only, with `--tls-port` in `args`). */
  port: number;
  /** Working directory of the server (cluster config files land there). Default: the current one. */
  dir?: string;
  /** More `redis-server` flags (TLS, a password, cluster mode...). */
  args?: readonly string[];
  /** Prefix of its lines in messages. Default `redis-<port>`. */
  name?: string;
  /** Characters of output kept. */
  maxOutput?: number;
}

/**
 * Starts a private `redis-server` that keeps nothing on disk (no RDB snapshots, no
 * AOF: a restart comes back empty) and resolves once it accepts connections. Needs
 * `redis-server` on the PATH (Debian's package, as CI installs it). A server that
 * does not come up within 15 s is stopped and the error carries its output.
 */
export async function startRedisServer(options: RedisServerOptions): Promise<ManagedProcess> {
  const server = spawnProcess({
    name: options.name ?? `redis-${options.port}`,
    command: 'redis-server',
    args: [
      ...['--port', String(options.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...(options.dir !== undefined ? ['--dir', options.dir] : []),
      ...(options.args ?? []),
    ],
    ...(options.maxOutput !== undefined ? { maxOutput: options.maxOutput } : {}),
  });
  try {
    await server.waitForOutput(/Ready to accept connections/, 15_000);
  } catch (err) {
    await server.stop('SIGKILL', 5_000);
    throw err;
  }
  return server;
}
