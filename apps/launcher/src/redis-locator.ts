import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { createRedisConnection, redactRedisUrl } from '@knm/node-store';
import type { ProcessSupervisor, SupervisedChild } from './process-supervisor.js';

/** Where the Redis of this run is, and why. */
export interface RedisLocation {
  url: string;
  /** `configured`: `--redis`/`REDIS_URL`; `local`: 127.0.0.1:6379 answered; `started`: a redis-server of this run. */
  source: 'configured' | 'local' | 'started';
  /** The redis-server started for this run (stopped with the supervisor's other children). */
  child?: SupervisedChild;
}

/** No Redis could be found or started; the message says how to get one. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/** Options of {@link locateRedis}. */
export interface RedisLocatorOptions {
  /** `--redis` / `REDIS_URL`: used as it is (it must answer). Default none. */
  configuredUrl?: string;
  /** Probed when nothing is configured. Default `redis://127.0.0.1:6379`. */
  localUrl?: string;
  /** The binary looked up on PATH when nothing answers. Default `redis-server`. */
  redisServerCommand?: string;
  /** Starts the redis-server (tier 0: stopped last). */
  supervisor: ProcessSupervisor;
  /** How long a PING may take. Default 1,500 ms. */
  pingTimeoutMs?: number;
  /** How long a started redis-server has to answer. Default 15,000 ms. */
  startTimeoutMs?: number;
  /** Environment whose PATH is searched. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

const HELP =
  'knm needs a Redis >= 7. Either set REDIS_URL (or --redis) to one, run one on 127.0.0.1:6379, ' +
  'or put redis-server on the PATH and npm start runs one for this run ' +
  '(Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis; ' +
  'Docker: docker run -d -p 6379:6379 redis:7-alpine).';

/**
 * Finds the Redis of this run, in order: the configured URL (which must answer PING,
 * else {@link RedisUnavailableError}); else `localUrl` when it answers; else
 * `redis-server` from PATH started on a free port without persistence (its data
 * lives only as long as the run); else {@link RedisUnavailableError} saying how to
 * get one.
 */
export async function locateRedis(options: RedisLocatorOptions): Promise<RedisLocation> {
  const timeout = options.pingTimeoutMs ?? 1_500;
  if (options.configuredUrl !== undefined) {
    try {
      await ping(options.configuredUrl, timeout);
    } catch (err) {
      throw new RedisUnavailableError(
        `the configured Redis ${redactRedisUrl(options.configuredUrl)} does not answer (${errorText(err)}). ${HELP}`,
      );
    }
    return { url: options.configuredUrl, source: 'configured' };
  }
  const localUrl = options.localUrl ?? 'redis://127.0.0.1:6379';
  if (
    await ping(localUrl, timeout).then(
      () => true,
      () => false,
    )
  ) {
    return { url: localUrl, source: 'local' };
  }
  const command = options.redisServerCommand ?? 'redis-server';
  const binary = findOnPath(command, options.env ?? process.env);
  if (binary === undefined) {
    throw new RedisUnavailableError(
      `nothing answers on ${localUrl} and ${command} is not on the PATH. ${HELP}`,
    );
  }
  const port = await freeLocalPort();
  const child = options.supervisor.start({
    name: 'redis',
    command: binary,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    tier: 0,
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  for (;;) {
    try {
      await ping(url, timeout);
      return { url, source: 'started', child };
    } catch (err) {
      if (!child.running) {
        throw new RedisUnavailableError(
          `${binary} exited at start: ${child.lastLines().slice(-5).join(' | ') || 'no output'}. ${HELP}`,
        );
      }
      if (Date.now() > deadline) {
        throw new RedisUnavailableError(
          `${binary} did not answer on port ${port} (${errorText(err)}). ${HELP}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The absolute path of an executable `command` on `env.PATH`, or undefined. */
export function findOnPath(
  command: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (command.includes('/')) return isExecutable(command) ? command : undefined;
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function ping(url: string, timeoutMs: number): Promise<void> {
  // A standalone server or a Redis Cluster (redis+cluster://), as every process will connect.
  const client = createRedisConnection(url, 'commands', { lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => {
    // Reported by connect()/ping() below.
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
