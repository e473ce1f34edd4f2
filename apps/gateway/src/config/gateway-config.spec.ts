import { describe, expect, it } from 'vitest';
import { DEFAULT_SECURITY } from '../security/security-config.js';
import { ConfigError, loadGatewayConfig } from './gateway-config.js';

const secret = { KNM_JWT_SECRET: 'x'.repeat(32) };

describe('loadGatewayConfig', () => {
  it('applies the defaults', () => {
    expect(loadGatewayConfig([], secret)).toEqual({
      port: 8080,
      host: '0.0.0.0',
      redisUrl: 'redis://127.0.0.1:6379',
      redisNamespace: 'knm',
      jwtSecret: 'x'.repeat(32),
      corsOrigins: [],
      staleAfterMs: 15_000,
      transports: ['websocket'],
      maxBufferedMessages: 256,
      maxBufferedBytes: 1024 * 1024,
      slowSocketTimeoutMs: 60_000,
      maxUnackedBytes: 32 * 1024,
      liveRate: 20,
      batchBudgetBytes: 64 * 1024 * 1024,
      compressMinBytes: 16 * 1024,
      logLevel: 'info',
      security: DEFAULT_SECURITY,
      registry: { execAllowlist: new Set(), deleteWaitMs: 10_000, connectionTestTimeoutMs: 5_000 },
    });
  });

  it('reads the cluster registry settings: a key enables it, a malformed one fails the start', () => {
    const config = loadGatewayConfig([], {
      ...secret,
      KNM_SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
      KNM_EXEC_ALLOWLIST: 'aws, /usr/local/bin/gke-gcloud-auth-plugin',
      KNM_CLUSTER_DELETE_WAIT_MS: '2000',
    });
    expect(config.registry?.box).toBeDefined();
    expect([...(config.registry?.execAllowlist ?? [])]).toEqual([
      'aws',
      '/usr/local/bin/gke-gcloud-auth-plugin',
    ]);
    expect(config.registry?.deleteWaitMs).toBe(2_000);
    expect(() => loadGatewayConfig([], { ...secret, KNM_SECRETS_KEY: 'short' })).toThrow(ConfigError);
    expect(() => loadGatewayConfig([], { ...secret, KNM_CLUSTER_DELETE_WAIT_MS: '0' })).toThrow(
      /KNM_CLUSTER_DELETE_WAIT_MS/,
    );
  });

  it('reads KNM_MAX_TOKEN_TTL as a duration and refuses a bad one', () => {
    expect(loadGatewayConfig([], { ...secret, KNM_MAX_TOKEN_TTL: '7d' }).maxTokenTtlSeconds).toBe(7 * 86_400);
    expect(() => loadGatewayConfig([], { ...secret, KNM_MAX_TOKEN_TTL: 'forever' })).toThrow(
      /KNM_MAX_TOKEN_TTL: duration "forever"/,
    );
  });

  it('reads the limits and the trusted proxies', () => {
    const config = loadGatewayConfig([], {
      ...secret,
      KNM_TRUST_PROXY: '10.0.0.0/8, loopback',
      KNM_HTTP_BODY_LIMIT: '65536',
      KNM_AUTH_FAILURE_LIMIT: '0',
      KNM_OPS_RATE_LIMIT: '5',
      KNM_OPS_RATE_WINDOW_MS: '1000',
    });
    expect(config.security).toEqual({
      ...DEFAULT_SECURITY,
      trustProxy: '10.0.0.0/8, loopback',
      httpBodyLimit: 65_536,
      authFailureLimit: 0,
      opsRateLimit: 5,
      opsRateWindowMs: 1000,
    });
  });

  it('reads the environment, and flags win over it', () => {
    const config = loadGatewayConfig(
      ['--port', '9090', '--redis', 'redis://r:6380', '--namespace', 'other'],
      {
        ...secret,
        PORT: '7070',
        REDIS_URL: 'redis://ignored:1',
        KNM_CORS_ORIGINS: 'https://a.example, https://b.example',
        KNM_STALE_AFTER_MS: '5000',
        KNM_WS_TRANSPORTS: 'websocket,polling',
        KNM_WS_PING_TIMEOUT_MS: '60000',
        LOG_LEVEL: 'debug',
      },
    );
    expect(config).toMatchObject({
      port: 9090,
      redisUrl: 'redis://r:6380',
      redisNamespace: 'other',
      corsOrigins: ['https://a.example', 'https://b.example'],
      staleAfterMs: 5000,
      transports: ['websocket', 'polling'],
      wsPingTimeoutMs: 60_000,
      logLevel: 'debug',
    });
  });

  it.each([
    [[], {}, /set KNM_JWT_SECRET/],
    [['--port', 'http'], secret, /port must be a number/],
    [['--port', '70000'], secret, /port must be at most 65535/],
    [['--bogus'], secret, /Unknown option '--bogus'/],
    [[], { ...secret, KNM_WS_TRANSPORTS: 'carrier-pigeon' }, /transports/],
    [[], { ...secret, REDIS_URL: 'not a url' }, /redis URL must be a URL/],
    [['--redis', 'redis://a:1,b:2'], secret, /several hosts need the redis\+cluster:\/\/ scheme/],
    [[], { ...secret, KNM_TRUST_PROXY: 'everyone' }, /KNM_TRUST_PROXY: "everyone" is not an address/],
    [[], { ...secret, KNM_TRUST_PROXY: '10.0.0.0/99' }, /bad prefix length/],
    [[], { ...secret, KNM_HTTP_BODY_LIMIT: '12' }, /KNM_HTTP_BODY_LIMIT must be at least 1024/],
    [[], { ...secret, KNM_OPS_RATE_LIMIT: '-1' }, /KNM_OPS_RATE_LIMIT must be at least 0/],
    [[], { ...secret, KNM_WS_PING_TIMEOUT_MS: '500' }, /KNM_WS_PING_TIMEOUT_MS must be at least 1000/],
  ] as [string[], Record<string, string>, RegExp][])('refuses %j %j', (argv, env, message) => {
    expect(() => loadGatewayConfig(argv, env)).toThrow(ConfigError);
    expect(() => loadGatewayConfig(argv, env)).toThrow(message);
  });

  it('takes a Redis Cluster URL (seed nodes)', () => {
    const url = 'redis+cluster://10.0.0.1:7000,10.0.0.2:7001';
    expect(loadGatewayConfig(['--redis', url], secret).redisUrl).toBe(url);
  });
});
