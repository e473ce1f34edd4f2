import { spawnApp, type ManagedProcess } from './processes.js';

/** Options of {@link spawnTestGateway}. */
export interface TestGatewayOptions {
  /** The test's Redis: its URL and its namespace (every key the gateway reads or writes is under it). */
  redis: { url: string; namespace: string };
  /** The HS256 secret the gateway verifies tokens with (`KNM_JWT_SECRET`); sign tests' tokens with it. */
  jwtSecret: string;
  /** Port on 127.0.0.1. Default 0: a free one, read back with {@link gatewayUrl}. */
  port?: number;
  /** More command-line flags (after the defaults). */
  args?: readonly string[];
  /** More environment (e.g. `KNM_GATEWAY_ID`, `KNM_CORS_ORIGINS`, `REDIS_TLS_CA`). */
  env?: Readonly<Record<string, string>>;
  /** Prefix of its lines in messages. Default `gateway`. */
  name?: string;
  /** Characters of output kept (see `SpawnOptions.maxOutput`). */
  maxOutput?: number;
}

/**
 * Starts a real gateway process (`apps/gateway`) as tests, the bench and the chaos
 * run it: on 127.0.0.1 (a free port unless one is given), on the test's Redis
 * namespace, verifying HS256 tokens signed with `jwtSecret`. Wait for its URL with
 * {@link gatewayUrl}.
 */
export function spawnTestGateway(options: TestGatewayOptions): ManagedProcess {
  const { redis } = options;
  return spawnApp(
    'gateway',
    [
      ...['--port', String(options.port ?? 0), '--host', '127.0.0.1'],
      ...['--redis', redis.url, '--namespace', redis.namespace],
      ...(options.args ?? []),
    ],
    {
      name: options.name ?? 'gateway',
      env: { KNM_JWT_SECRET: options.jwtSecret, ...options.env },
      ...(options.maxOutput !== undefined ? { maxOutput: options.maxOutput } : {}),
    },
  );
}

/** Waits until a gateway listens (its `gateway listening on port N` line) and returns `http://127.0.0.1:N`. */
export async function gatewayUrl(gateway: ManagedProcess, timeoutMs = 60_000): Promise<string> {
  const [, port] = await gateway.waitForOutput(/gateway listening on port (\d+)/, timeoutMs);
  return `http://127.0.0.1:${port}`;
}
