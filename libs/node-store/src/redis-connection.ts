import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisClient } from './redis-client.js';
import type { PubSubMode } from './write-scripts.js';

/**
 * A Redis location knm cannot use; the message says what is wrong and the accepted
 * forms. Raised by {@link parseRedisUrl} (and so by {@link createRedisConnection}).
 */
export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
}

/** One Redis endpoint (a standalone server, or a seed node of a Redis Cluster). */
export interface RedisEndpoint {
  host: string;
  port: number;
}

/**
 * Where Redis is and how to talk to it, parsed from one URL by {@link parseRedisUrl}.
 * Every knm process derives all its Redis connections, and its change-feed pub/sub
 * mode ({@link redisPubSubMode}), from this one value, so processes given the same
 * URL can never disagree.
 */
export interface RedisConnectionConfig {
  /** `standalone` (`redis://`, `rediss://`) or `cluster` (`redis+cluster://`, `rediss+cluster://`). */
  mode: 'standalone' | 'cluster';
  /** The server (standalone), or the seed nodes the cluster topology is discovered from (cluster). */
  endpoints: readonly RedisEndpoint[];
  /** TLS (`rediss` schemes). */
  tls: boolean;
  /** ACL user, URL-decoded. */
  username?: string;
  /** Password, URL-decoded. */
  password?: string;
  /** Database number (standalone only; a Redis Cluster has only db 0). Default 0. */
  db: number;
  /** The URL as given, password redacted (for logs and messages). */
  display: string;
}

/**
 * What a connection is for; each gets the options it needs:
 * - `commands`: ordinary commands and Lua scripts. A command fails after
 *   `maxRetriesPerRequest` reconnect attempts (default 2) instead of hanging.
 * - `subscriber`: a dedicated pub/sub connection (`maxRetriesPerRequest: null`, so
 *   SUBSCRIBE waits for the reconnect). In cluster mode it is an ioredis `Cluster`
 *   with `shardedSubscribers: true`: one subscriber connection per shard, which
 *   SSUBSCRIBE needs because a node delivers only the sharded messages of its own slots.
 * - `bullmq`: BullMQ Queue / Worker / QueueEvents (`maxRetriesPerRequest: null`, as
 *   BullMQ requires for its blocking connections, which it duplicates from this one).
 */
export type RedisConnectionPurpose = 'commands' | 'subscriber' | 'bullmq';

/** Options of {@link createRedisConnection}, on top of what the purpose sets. */
export interface RedisConnectionOptions {
  /** Reconnect attempts a command waits before failing. Default: `commands` 2, `subscriber` and `bullmq` null (wait). */
  maxRetriesPerRequest?: number | null;
  /** ioredis auto-pipelining (commands of one tick sent as one batch). Default false. */
  enableAutoPipelining?: boolean;
  /** `CLIENT SETNAME` of the connection(s). Default none. */
  connectionName?: string;
  /** Connect on the first command instead of at once. Default false. */
  lazyConnect?: boolean;
}

const DEFAULT_PORT = 6379;
const SCHEMES: Readonly<Record<string, { mode: 'standalone' | 'cluster'; tls: boolean }>> = {
  'redis:': { mode: 'standalone', tls: false },
  'rediss:': { mode: 'standalone', tls: true },
  'redis+cluster:': { mode: 'cluster', tls: false },
  'rediss+cluster:': { mode: 'cluster', tls: true },
};

/** The accepted forms, for error messages. */
export const REDIS_URL_FORMS =
  'redis://[[user]:password@]host[:port][/db], rediss://... (TLS), ' +
  'redis+cluster://[[user]:password@]host1[:port1],host2[:port2],... (Redis Cluster seed nodes), rediss+cluster://... (Cluster over TLS)';

/**
 * Parses a Redis URL. Standalone: `redis://[[user]:password@]host[:port][/db]`,
 * `rediss://` for TLS. Redis Cluster: `redis+cluster://[[user]:password@]h1[:p1],h2[:p2],...`
 * (one or more seed nodes, comma-separated; the rest of the topology is discovered),
 * `rediss+cluster://` for TLS. Ports default to 6379; user and password are
 * URL-decoded. Throws {@link RedisUrlError} for anything else (unknown scheme, no
 * host, bad port, a db other than 0 on a cluster, several hosts on a standalone URL).
 */
export function parseRedisUrl(url: string): RedisConnectionConfig {
  const display = redactRedisUrl(url);
  const fail = (why: string): never => {
    throw new RedisUrlError(`bad Redis URL "${display}": ${why} (accepted: ${REDIS_URL_FORMS})`);
  };
  const match = /^([a-z+]+:)\/\/(?:([^@/]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i.exec(url.trim());
  if (!match) return fail('not a URL');
  const [, rawScheme = '', auth, hosts = '', path = '', query] = match;
  if (query !== undefined) fail('query options are not supported');
  const scheme = SCHEMES[rawScheme.toLowerCase()];
  if (!scheme) return fail(`unknown scheme "${rawScheme}"`);
  let username: string | undefined;
  let password: string | undefined;
  if (auth !== undefined && auth !== '') {
    const colon = auth.indexOf(':');
    try {
      const user = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon));
      const pass = colon < 0 ? undefined : decodeURIComponent(auth.slice(colon + 1));
      // `redis://:secret@h` is a password only (the default user); `redis://me@h` a user without password.
      if (user !== '') username = user;
      if (pass !== undefined && pass !== '') password = pass;
    } catch {
      fail('the user or password is not valid URL encoding');
    }
  }
  const endpoints = hosts.split(',').map((h) => parseEndpoint(h.trim(), fail));
  if (endpoints.length === 0 || hosts.trim() === '') fail('no host');
  if (scheme.mode === 'standalone' && endpoints.length > 1) {
    fail('several hosts need the redis+cluster:// scheme (Redis Cluster seed nodes)');
  }
  const dbText = path.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) fail(`database "${dbText}" is not a number`);
  if (scheme.mode === 'cluster' && db !== 0) fail('a Redis Cluster has only database 0');
  const config: RedisConnectionConfig = { mode: scheme.mode, endpoints, tls: scheme.tls, db, display };
  if (username !== undefined) config.username = username;
  if (password !== undefined) config.password = password;
  return config;
}

function parseEndpoint(text: string, fail: (why: string) => never): RedisEndpoint {
  if (text === '') return fail('empty host');
  // [::1]:6379 (IPv6 literal) or host[:port]
  const v6 = /^\[([^\]]+)\](?::(\d*))?$/.exec(text);
  const plain = /^([^:[\]]+)(?::(\d*))?$/.exec(text);
  const m = v6 ?? plain;
  if (!m) return fail(`"${text}" is not host[:port]`);
  const host = m[1] ?? '';
  const portText = m[2];
  const port = portText === undefined || portText === '' ? DEFAULT_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return fail(`bad port in "${text}"`);
  return { host, port };
}

/** The URL with its password replaced by `***` (for logs and messages); never throws. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)([^@/]*)@/i, (_all, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    if (colon < 0) return `${scheme}***@`;
    return `${scheme}${auth.slice(0, colon)}:***@`;
  });
}

/**
 * The change-feed pub/sub mode for a Redis location: `sharded` (SPUBLISH/SSUBSCRIBE)
 * on a Redis Cluster, `classic` (PUBLISH/SUBSCRIBE) on a standalone server. The
 * watcher's writer and every gateway's subscriber call this on the same URL, so they
 * always agree.
 */
export function redisPubSubMode(config: RedisConnectionConfig | string): PubSubMode {
  const c = typeof config === 'string' ? parseRedisUrl(config) : config;
  return c.mode === 'cluster' ? 'sharded' : 'classic';
}

/**
 * Opens a Redis connection for `purpose` (see {@link RedisConnectionPurpose}) from a
 * URL or a parsed {@link RedisConnectionConfig}: an ioredis `Redis` for a standalone
 * server, an ioredis `Cluster` (seeded with every endpoint, topology discovered) for
 * `redis+cluster://`. The caller owns it (`quit()` when done) and should listen for
 * `error`. Every knm process builds its connections here and nowhere else.
 * Throws {@link RedisUrlError} for a bad URL.
 */
export function createRedisConnection(
  config: RedisConnectionConfig | string,
  purpose: RedisConnectionPurpose,
  options: RedisConnectionOptions = {},
): RedisClient {
  const c = typeof config === 'string' ? parseRedisUrl(config) : config;
  const perNode: RedisOptions = {
    maxRetriesPerRequest:
      options.maxRetriesPerRequest !== undefined
        ? options.maxRetriesPerRequest
        : purpose === 'commands'
          ? 2
          : null,
    ...(c.username !== undefined ? { username: c.username } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ...(c.tls ? { tls: {} } : {}),
    ...(options.connectionName !== undefined ? { connectionName: options.connectionName } : {}),
  };
  const lazyConnect = options.lazyConnect ?? false;
  const enableAutoPipelining = options.enableAutoPipelining ?? false;
  if (c.mode === 'standalone') {
    const endpoint = c.endpoints[0] ?? { host: '127.0.0.1', port: DEFAULT_PORT };
    return new Redis({
      ...perNode,
      host: endpoint.host,
      port: endpoint.port,
      db: c.db,
      lazyConnect,
      enableAutoPipelining,
    });
  }
  const clusterOptions: ClusterOptions = {
    redisOptions: perNode,
    lazyConnect,
    enableAutoPipelining,
    shardedSubscribers: purpose === 'subscriber',
  };
  return new Cluster(
    c.endpoints.map((e) => ({ host: e.host, port: e.port })),
    clusterOptions,
  );
}
