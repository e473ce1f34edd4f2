import { z } from 'zod';
import { readFlags } from '@knm/cli';
import { DEFAULT_NAMESPACE } from '@knm/contracts';
import { DurationParseError, parseDurationSeconds } from '@knm/auth';
import { parseRedisUrl, RedisUrlError } from '@knm/node-store';
import { SECURITY_ENV, DEFAULT_SECURITY, type SecurityConfig } from '../security/security-config.js';
import { TrustProxy, TrustProxyError } from '../security/trust-proxy.js';
import { loadOidcConfig, OidcConfigError, type OidcConfig } from '../oidc/oidc-config.js';
import { loadRegistryConfig, type RegistryConfig } from '../registry/registry-config.js';
import { COMPRESS_MIN_BYTES } from '../realtime/batch-compression.js';

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
  /**
   * The longest lifetime left a token may have (`KNM_MAX_TOKEN_TTL`, a duration such as
   * `8h` or `7d`, or seconds); longer-lived tokens are refused. Default 24 h.
   */
  maxTokenTtlSeconds?: number;
  /** Allowed browser origins for CORS and Socket.IO (`KNM_CORS_ORIGINS`, comma-separated). Default none. */
  corsOrigins: string[];
  /** A cluster whose watcher heartbeat is older than this is `stale`. Default 15,000 ms. */
  staleAfterMs: number;
  /** Socket.IO transports: `websocket` only by default (no sticky sessions needed). */
  transports: ('websocket' | 'polling')[];
  /** A live socket with more than this many unsent messages switches to merged delivery. Default 256. */
  maxBufferedMessages: number;
  /** A live socket with more than this many unsent bytes switches to merged delivery. Default 1 MiB. */
  maxBufferedBytes: number;
  /** A merged socket that drains nothing for this long is disconnected. Default 60,000 ms. */
  slowSocketTimeoutMs: number;
  /** A live socket whose client acks and has more bytes than this unacked switches to merged delivery. Default 32 KiB. */
  maxUnackedBytes: number;
  /**
   * Live messages a second per cluster to a socket (`KNM_WS_LIVE_RATE`), after a burst
   * of twice that: a cluster changing faster has its envelopes sent in runs, as live
   * batches. 0 = every envelope on its own. Default 20.
   */
  liveRate: number;
  /**
   * Bytes of folded batches (resumes, sockets that fell behind) this replica may have
   * written that their clients have not taken yet (`KNM_WS_BATCH_BUDGET_BYTES`); past
   * it, sockets owed a batch wait for budget. Default 64 MiB.
   */
  batchBudgetBytes: number;
  /**
   * Folded batches whose JSON is at least this many bytes go compressed to the
   * subscriptions that asked for it (`KNM_WS_COMPRESS_MIN_BYTES`); 0 = all of them.
   * Default 16 KiB.
   */
  compressMinBytes: number;
  /**
   * A Socket.IO connection that has joined no namespace (never authenticated) this long
   * after its handshake is closed (`KNM_WS_CONNECT_TIMEOUT_MS`). Default 10,000 ms.
   */
  wsConnectTimeoutMs?: number;
  /**
   * A socket that has not answered the replica's ping (sent every 25 s) within this long
   * is closed (`KNM_WS_PING_TIMEOUT_MS`, Socket.IO `pingTimeout`; the client gives up on a
   * replica that sent no ping for 25 s plus this). Default 20,000 ms.
   */
  wsPingTimeoutMs?: number;
  /**
   * How long `GET .../nodes/:node/pods` waits for the cluster's watcher to answer
   * before a 504 (`KNM_NODE_PODS_TIMEOUT_MS`). Default 10,000 ms.
   */
  nodePodsTimeoutMs?: number;
  /**
   * When set, `GET /metrics` requires `Authorization: Bearer <this>` (`KNM_METRICS_TOKEN`,
   * a static scrape credential, at least 16 characters); unset, `/metrics` is open.
   */
  metricsToken?: string;
  /** pino level. Default `info`. */
  logLevel: string;
  /** This replica's identity in stats and logs. Default `<hostname>/<pid>`. */
  gatewayId?: string;
  /** Size limits, trusted proxies and rate limits; each missing field takes its `DEFAULT_SECURITY` value. */
  security?: Partial<SecurityConfig>;
  /** Dashboard sign-in through an OpenID Provider (`KNM_OIDC_*`). Default none. */
  oidc?: OidcConfig;
  /** Clusters registered at runtime: the secrets key ring, exec allow-list, delete wait. */
  registry?: RegistryConfig;
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
  maxTokenTtlSeconds: z
    .string()
    .transform((text, ctx) => {
      try {
        return parseDurationSeconds(text);
      } catch (err) {
        if (!(err instanceof DurationParseError)) throw err;
        ctx.addIssue({ code: 'custom', message: `KNM_MAX_TOKEN_TTL: ${err.message}` });
        return z.NEVER;
      }
    })
    .optional(),
  corsOrigins: z.array(z.string()).default([]),
  staleAfterMs: intFrom('KNM_STALE_AFTER_MS', 1).default(15_000),
  transports: z
    .array(z.enum(['websocket', 'polling']))
    .min(1)
    .default(['websocket']),
  maxBufferedMessages: intFrom('KNM_WS_MAX_BUFFERED_MESSAGES', 1).default(256),
  maxBufferedBytes: intFrom('KNM_WS_MAX_BUFFERED_BYTES', 1024).default(1024 * 1024),
  slowSocketTimeoutMs: intFrom('KNM_WS_SLOW_SOCKET_TIMEOUT_MS', 1_000).default(60_000),
  maxUnackedBytes: intFrom('KNM_WS_MAX_UNACKED_BYTES', 1024).default(32 * 1024),
  liveRate: intFrom('KNM_WS_LIVE_RATE', 0).default(20),
  batchBudgetBytes: intFrom('KNM_WS_BATCH_BUDGET_BYTES', 64 * 1024).default(64 * 1024 * 1024),
  compressMinBytes: intFrom('KNM_WS_COMPRESS_MIN_BYTES', 0).default(COMPRESS_MIN_BYTES),
  wsConnectTimeoutMs: intFrom('KNM_WS_CONNECT_TIMEOUT_MS', 100).optional(),
  wsPingTimeoutMs: intFrom('KNM_WS_PING_TIMEOUT_MS', 1_000).optional(),
  nodePodsTimeoutMs: intFrom('KNM_NODE_PODS_TIMEOUT_MS', 100).optional(),
  metricsToken: z.string().min(16, 'KNM_METRICS_TOKEN must be at least 16 characters').optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  gatewayId: z.string().optional(),
  security: z.strictObject({
    trustProxy: z
      .string()
      .superRefine((spec, ctx) => {
        try {
          TrustProxy.parse(spec);
        } catch (err) {
          if (!(err instanceof TrustProxyError)) throw err;
          ctx.addIssue({ code: 'custom', message: err.message });
        }
      })
      .default(DEFAULT_SECURITY.trustProxy),
    httpBodyLimit: intFrom(SECURITY_ENV.httpBodyLimit, 1024).default(DEFAULT_SECURITY.httpBodyLimit),
    wsMaxMessageBytes: intFrom(SECURITY_ENV.wsMaxMessageBytes, 1024).default(
      DEFAULT_SECURITY.wsMaxMessageBytes,
    ),
    jsonMaxDepth: intFrom(SECURITY_ENV.jsonMaxDepth, 2).default(DEFAULT_SECURITY.jsonMaxDepth),
    authFailureLimit: intFrom(SECURITY_ENV.authFailureLimit, 0).default(DEFAULT_SECURITY.authFailureLimit),
    authFailureWindowMs: intFrom(SECURITY_ENV.authFailureWindowMs, 1).default(
      DEFAULT_SECURITY.authFailureWindowMs,
    ),
    opsRateLimit: intFrom(SECURITY_ENV.opsRateLimit, 0).default(DEFAULT_SECURITY.opsRateLimit),
    opsRateWindowMs: intFrom(SECURITY_ENV.opsRateWindowMs, 1).default(DEFAULT_SECURITY.opsRateWindowMs),
    subscribeRateLimit: intFrom(SECURITY_ENV.subscribeRateLimit, 0).default(
      DEFAULT_SECURITY.subscribeRateLimit,
    ),
    subscribeRateWindowMs: intFrom(SECURITY_ENV.subscribeRateWindowMs, 1).default(
      DEFAULT_SECURITY.subscribeRateWindowMs,
    ),
  }),
});

const GATEWAY_FLAGS = {
  port: 'string',
  host: 'string',
  redis: 'string',
  namespace: 'string',
  'log-level': 'string',
} as const;

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
 * `KNM_REDIS_NAMESPACE`, `KNM_JWT_SECRET`, `KNM_JWKS_URL`, `KNM_MAX_TOKEN_TTL`, `KNM_CORS_ORIGINS`,
 * `KNM_STALE_AFTER_MS`, `KNM_WS_TRANSPORTS`, `KNM_WS_MAX_BUFFERED_MESSAGES`,
 * `KNM_WS_MAX_BUFFERED_BYTES`, `KNM_WS_BATCH_BUDGET_BYTES`, `KNM_WS_COMPRESS_MIN_BYTES`, `KNM_WS_CONNECT_TIMEOUT_MS`, `KNM_WS_PING_TIMEOUT_MS`, `KNM_METRICS_TOKEN`, `LOG_LEVEL`, `KNM_GATEWAY_ID`, and the limits of
 * `SECURITY_ENV`: `KNM_TRUST_PROXY`, `KNM_HTTP_BODY_LIMIT`, `KNM_WS_MAX_MESSAGE_BYTES`,
 * `KNM_JSON_MAX_DEPTH`, `KNM_AUTH_FAILURE_LIMIT`, `KNM_AUTH_FAILURE_WINDOW_MS`,
 * `KNM_OPS_RATE_LIMIT`, `KNM_OPS_RATE_WINDOW_MS`). Throws
 * {@link ConfigError} saying every problem.
 */
export function loadGatewayConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): GatewayConfig {
  const flags = readFlags(
    argv,
    GATEWAY_FLAGS,
    (m) => new ConfigError(`${m} (flags: --port, --host, --redis, --namespace, --log-level)`),
  );
  const raw = {
    port: flags['port'] ?? env['PORT'],
    host: flags['host'] ?? env['HOST'],
    redisUrl: flags['redis'] ?? env['REDIS_URL'],
    redisNamespace: flags['namespace'] ?? env['KNM_REDIS_NAMESPACE'],
    jwtSecret: env['KNM_JWT_SECRET'] || undefined,
    jwksUrl: env['KNM_JWKS_URL'] || undefined,
    maxTokenTtlSeconds: env['KNM_MAX_TOKEN_TTL'] || undefined,
    corsOrigins: list(env['KNM_CORS_ORIGINS']),
    staleAfterMs: env['KNM_STALE_AFTER_MS'],
    transports: list(env['KNM_WS_TRANSPORTS']),
    maxBufferedMessages: env['KNM_WS_MAX_BUFFERED_MESSAGES'],
    maxBufferedBytes: env['KNM_WS_MAX_BUFFERED_BYTES'],
    slowSocketTimeoutMs: env['KNM_WS_SLOW_SOCKET_TIMEOUT_MS'],
    maxUnackedBytes: env['KNM_WS_MAX_UNACKED_BYTES'],
    liveRate: env['KNM_WS_LIVE_RATE'],
    batchBudgetBytes: env['KNM_WS_BATCH_BUDGET_BYTES'],
    compressMinBytes: env['KNM_WS_COMPRESS_MIN_BYTES'],
    wsConnectTimeoutMs: env['KNM_WS_CONNECT_TIMEOUT_MS'],
    wsPingTimeoutMs: env['KNM_WS_PING_TIMEOUT_MS'],
    nodePodsTimeoutMs: env['KNM_NODE_PODS_TIMEOUT_MS'],
    metricsToken: env['KNM_METRICS_TOKEN'] || undefined,
    logLevel: flags['log-level'] ?? env['LOG_LEVEL'],
    gatewayId: env['KNM_GATEWAY_ID'] || undefined,
    security: Object.fromEntries(
      Object.entries(SECURITY_ENV)
        .map(([field, name]) => [field, env[name] || undefined])
        .filter(([, v]) => v !== undefined),
    ),
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
  try {
    const oidc = loadOidcConfig(env);
    if (oidc) config.oidc = oidc;
  } catch (err) {
    if (err instanceof OidcConfigError) throw new ConfigError(err.message);
    throw err;
  }
  config.registry = loadRegistryConfig(env, (message) => new ConfigError(message));
  if (config.jwtSecret === undefined && config.jwksUrl === undefined) {
    throw new ConfigError(
      'set KNM_JWT_SECRET (at least 32 bytes) or KNM_JWKS_URL: every API but health needs a token',
    );
  }
  return config;
}
