import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_NAMESPACE } from '@knm/contracts';
import { parseRedisUrl, RedisUrlError } from '@knm/node-store';

/** Everything a gateway replica needs to run. */
export interface GatewayConfig {
  /** HTTP port; 0 asks the OS for one. Default 8080. */
  port: number;
  /** Interface to listen on. Default `0.0.0.0`. */
  host: string;
  /**
   * `--redis` / `REDIS_URL`: `redis://` or `rediss://` (standalone), or
   * `redis+cluster://h1:p1,h2:p2` / `rediss+cluster://...` (Redis Cluster seed nodes:
   * sharded pub/sub, like the watchers given the same URL). Default `redis://127.0.0.1:6379`.
   */
  redisUrl: string;
  /** Redis key namespace. Default `knm`. */
  redisNamespace: string;
  /** HS256 secret (`KNM_JWT_SECRET`, at least 32 bytes). Required unless `jwksUrl` is set. */
  jwtSecret?: string;
  /** JWKS URL of an external identity provider (`KNM_JWKS_URL`). Default none. */
  jwksUrl?: string;
  /** Allowed browser origins for CORS and Socket.IO (`KNM_CORS_ORIGINS`, comma-separated). Default none. */
  corsOrigins: string[];
  /** A cluster whose watcher heartbeat is older than this is `stale`. Default 15,000 ms. */
  staleAfterMs: number;
  /** Socket.IO transports: `websocket` only by default (no sticky sessions needed). */
  transports: ('websocket' | 'polling')[];
  /** A socket with more than this many unsent messages is told to resync. Default 1,000. */
  maxBufferedMessages: number;
  /** A socket with more than this many unsent bytes is told to resync. Default 8 MiB. */
  maxBufferedBytes: number;
  /** pino level. Default `info`. */
  logLevel: string;
  /** This replica's identity in stats and logs. Default `<hostname>/<pid>`. */
  gatewayId?: string;
}

/** A configuration that cannot be used, with what to fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const intFrom = (name: string, min: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be an integer`)
    .min(min, `${name} must be at least ${min}`);

const ConfigSchema = z.object({
  port: intFrom('port', 0).max(65_535, 'port must be at most 65535').default(8080),
  host: z.string().default('0.0.0.0'),
  redisUrl: z
    .string()
    .superRefine((url, ctx) => {
      try {
        parseRedisUrl(url);
      } catch (err) {
        if (!(err instanceof RedisUrlError)) throw err;
        ctx.addIssue({
          code: 'custom',
          message: `redis URL must be a URL such as redis://127.0.0.1:6379 or redis+cluster://h1:p1,h2:p2: ${err.message}`,
        });
      }
    })
    .default('redis://127.0.0.1:6379'),
  redisNamespace: z.string().default(DEFAULT_NAMESPACE),
  jwtSecret: z.string().optional(),
  jwksUrl: z.string().url('KNM_JWKS_URL must be a URL').optional(),
  corsOrigins: z.array(z.string()).default([]),
  staleAfterMs: intFrom('KNM_STALE_AFTER_MS', 1).default(15_000),
  transports: z
    .array(z.enum(['websocket', 'polling']))
    .min(1)
    .default(['websocket']),
  maxBufferedMessages: intFrom('KNM_WS_MAX_BUFFERED_MESSAGES', 1).default(1_000),
  maxBufferedBytes: intFrom('KNM_WS_MAX_BUFFERED_BYTES', 1024).default(8 * 1024 * 1024),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  gatewayId: z.string().optional(),
});

const list = (value: string | undefined): string[] | undefined =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

/**
 * Reads the configuration from command-line flags (`--port`, `--host`, `--redis`,
 * `--namespace`, `--log-level`) over the environment (`PORT`, `HOST`, `REDIS_URL`,
 * `KNM_REDIS_NAMESPACE`, `KNM_JWT_SECRET`, `KNM_JWKS_URL`, `KNM_CORS_ORIGINS`,
 * `KNM_STALE_AFTER_MS`, `KNM_WS_TRANSPORTS`, `KNM_WS_MAX_BUFFERED_MESSAGES`,
 * `KNM_WS_MAX_BUFFERED_BYTES`, `LOG_LEVEL`, `KNM_GATEWAY_ID`). Throws
 * {@link ConfigError} saying every problem.
 */
export function loadGatewayConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): GatewayConfig {
  let flags: Record<string, string | undefined>;
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        redis: { type: 'string' },
        namespace: { type: 'string' },
        'log-level': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new ConfigError(
      `${(err as Error).message} (flags: --port, --host, --redis, --namespace, --log-level)`,
    );
  }
  const raw = {
    port: flags['port'] ?? env['PORT'],
    host: flags['host'] ?? env['HOST'],
    redisUrl: flags['redis'] ?? env['REDIS_URL'],
    redisNamespace: flags['namespace'] ?? env['KNM_REDIS_NAMESPACE'],
    jwtSecret: env['KNM_JWT_SECRET'] || undefined,
    jwksUrl: env['KNM_JWKS_URL'] || undefined,
    corsOrigins: list(env['KNM_CORS_ORIGINS']),
    staleAfterMs: env['KNM_STALE_AFTER_MS'],
    transports: list(env['KNM_WS_TRANSPORTS']),
    maxBufferedMessages: env['KNM_WS_MAX_BUFFERED_MESSAGES'],
    maxBufferedBytes: env['KNM_WS_MAX_BUFFERED_BYTES'],
    logLevel: flags['log-level'] ?? env['LOG_LEVEL'],
    gatewayId: env['KNM_GATEWAY_ID'] || undefined,
  };
  const parsed = ConfigSchema.safeParse(
    Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)),
  );
  if (!parsed.success) {
    throw new ConfigError(
      `invalid gateway configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const config = parsed.data as GatewayConfig;
  if (config.jwtSecret === undefined && config.jwksUrl === undefined) {
    throw new ConfigError(
      'set KNM_JWT_SECRET (at least 32 bytes) or KNM_JWKS_URL: every API but health needs a token',
    );
  }
  return config;
}
