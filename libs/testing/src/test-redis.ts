import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Keyspace } from '@knm/contracts';

/** A real Redis, isolated for one test by a unique key namespace. */
export interface TestRedis {
  /** The server's URL (shared by every test in the run). */
  readonly url: string;
  /** This test's namespace: every key it may touch starts with `<namespace>:`. */
  readonly namespace: string;
  /** The key layout under this test's namespace. */
  readonly keyspace: Keyspace;
  /** A connected client, closed by {@link TestRedis.close}. */
  readonly client: Redis;
  /** Opens another connection (e.g. a subscriber); closed by {@link TestRedis.close}. */
  connect(): Redis;
  /** Every key of this test's namespace, sorted. */
  keys(): Promise<string[]>;
  /** Deletes this test's keys (and nothing else) and closes every connection it opened. */
  close(): Promise<void>;
}

const NO_REDIS_HELP =
  'No Redis for the tests. Either set REDIS_URL to a Redis you can use (keys are isolated per test by a ' +
  'namespace prefix, nothing else is touched), e.g. `REDIS_URL=redis://127.0.0.1:6379 npm test` ' +
  '(Debian: `apt-get install -y redis-server && redis-server --daemonize yes`), or run a Docker engine ' +
  'so that testcontainers can start a redis:7 container.';

let serverUrl: Promise<string> | undefined;
let counter = 0;

/**
 * Where the tests' Redis is, decided once per process: `REDIS_URL` when set (it must
 * answer PING); else a `redis:7` container started with testcontainers when a
 * Docker engine is reachable; else an error that says how to provide one.
 */
export function testRedisUrl(): Promise<string> {
  serverUrl ??= locateRedis();
  return serverUrl;
}

async function locateRedis(): Promise<string> {
  const fromEnv = process.env['REDIS_URL'];
  if (fromEnv) {
    await ping(fromEnv).catch((err: unknown) => {
      throw new Error(
        `REDIS_URL=${redactUrl(fromEnv)} does not answer PING (${String(err)}). ${NO_REDIS_HELP}`,
        {
          cause: err,
        },
      );
    });
    return fromEnv;
  }
  if (!dockerEngineConfigured()) throw new Error(NO_REDIS_HELP);
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('redis:7-alpine')
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
      .start();
    return `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  } catch (err) {
    throw new Error(`Could not start Redis with testcontainers (${String(err)}). ${NO_REDIS_HELP}`, {
      cause: err,
    });
  }
}

function dockerEngineConfigured(): boolean {
  return Boolean(process.env['DOCKER_HOST']) || existsSync('/var/run/docker.sock');
}

async function ping(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}

/** A URL with any password replaced by `***`, safe for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable URL>';
  }
}

/** Every key under `namespace:` (SCAN, so the server is never blocked), sorted. */
export async function namespaceKeys(client: Redis, namespace: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return [...new Set(found)].sort();
}

/** Deletes every key under `namespace:` and nothing else (UNLINK, 500 at a time). */
export async function deleteNamespaceKeys(client: Redis, namespace: string): Promise<void> {
  const own = await namespaceKeys(client, namespace);
  for (let i = 0; i < own.length; i += 500) await client.unlink(...own.slice(i, i + 500));
}

/**
 * Gives one test its own Redis namespace on the shared server. Close it in
 * `afterEach` (or use `await using`): it deletes only the keys under its namespace.
 */
export async function createTestRedis(): Promise<TestRedis & AsyncDisposable> {
  const url = await testRedisUrl();
  counter += 1;
  const namespace = `knmt-${process.pid}-${counter}-${randomBytes(3).toString('hex')}`;
  const keyspace = new Keyspace(namespace);
  const clients: Redis[] = [];
  const connect = (): Redis => {
    const c = new Redis(url, { maxRetriesPerRequest: 1 });
    clients.push(c);
    return c;
  };
  const client = connect();
  await client.ping();

  const keys = (): Promise<string[]> => namespaceKeys(client, namespace);

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await deleteNamespaceKeys(client, namespace);
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  };

  return { url, namespace, keyspace, client, connect, keys, close, [Symbol.asyncDispose]: close };
}
