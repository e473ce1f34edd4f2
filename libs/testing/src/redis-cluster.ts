import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, type ClusterOptions } from 'ioredis';
import { freePort } from './free-port.js';
import { spawnProcess, type ManagedProcess } from './processes.js';
import { startRedisServer } from './redis-server.js';
import { waitFor } from './wait-for.js';

/** A throw-away Redis Cluster of real `redis-server` processes (masters only). */
export interface LocalRedisCluster {
  /** The masters' ports on 127.0.0.1, in slot order (the first owns slot 0). */
  readonly ports: readonly number[];
  /** `redis+cluster://127.0.0.1:<p1>,127.0.0.1:<p2>,...`: what knm processes take as `REDIS_URL` / `--redis`. */
  readonly url: string;
  /** A new cluster client, closed by {@link LocalRedisCluster.close}. */
  connect(options?: ClusterOptions): Cluster;
  /** Closes every client, stops the servers and deletes their files. */
  close(): Promise<void>;
}

/**
 * Starts `masters` redis-server processes in cluster mode on free ports (the cluster
 * bus port, port + 10000, free too) and joins them into one cluster with
 * `redis-cli --cluster create` (no replicas); resolves when `cluster_state:ok`.
 * Every process and file is gone after {@link LocalRedisCluster.close}.
 */
export async function startRedisCluster(masters = 3): Promise<LocalRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'knm-redis-cluster-'));
  const processes: ManagedProcess[] = [];
  const clients: Cluster[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    await Promise.all(processes.map((p) => p.stop('SIGTERM', 5_000)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    while (ports.length < masters) {
      const port = await freePort();
      // The cluster bus listens on port + 10000: it must be free too.
      if (port + 10_000 < 65_536 && (await isFree(port + 10_000)) && !ports.includes(port)) ports.push(port);
    }
    for (const port of ports) {
      const server = await startRedisServer({
        port,
        dir,
        args: [
          ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`)],
          ...['--cluster-node-timeout', '5000'],
        ],
      });
      processes.push(server);
    }
    const create = spawnProcess({
      name: 'redis-cli',
      command: 'redis-cli',
      args: [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
    });
    const exit = await create.exited;
    if (exit.code !== 0) throw new Error(`redis-cli --cluster create failed\n${create.tail()}`);
    const connect = (options: ClusterOptions = {}): Cluster => {
      const c = new Cluster(
        ports.map((port) => ({ host: '127.0.0.1', port })),
        { redisOptions: { maxRetriesPerRequest: 1 }, ...options },
      );
      clients.push(c);
      return c;
    };
    const probe = connect();
    await waitFor(async () => String(await probe.cluster('INFO')).includes('cluster_state:ok'), {
      what: 'cluster_state:ok',
      timeout: 20_000,
    });
    const url = `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
    return { ports, url, connect, close };
  } catch (err) {
    await close();
    throw err;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
