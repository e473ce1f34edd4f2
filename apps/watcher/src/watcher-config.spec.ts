import { describe, expect, it } from 'vitest';
import { HelpRequested, loadWatcherConfig, WatcherConfigError } from './watcher-config.js';

describe('loadWatcherConfig', () => {
  it('reads flags over environment over defaults', () => {
    const config = loadWatcherConfig(
      ['--cluster', 'dev', '--kubeconfig', 'sim.kubeconfig', '--metrics-port', '0'],
      {
        KNM_CLUSTER: 'ignored',
        REDIS_URL: 'redis://10.0.0.1:6380',
        KNM_REDIS_NAMESPACE: 'knm-test',
        KNM_COALESCE_MS: '50',
      },
    );
    expect(config).toMatchObject({
      cluster: 'dev',
      kubeconfig: 'sim.kubeconfig',
      metricsPort: 0,
      redisUrl: 'redis://10.0.0.1:6380',
      redisNamespace: 'knm-test',
      coalesceMs: 50,
      leaseTtlMs: 5_000,
      heartbeatMs: 2_000,
      watchdogSeconds: 120,
      pageSize: 500,
      initialSync: 'watch-list',
      metricsIntervalMs: 15_000,
      historyDays: 30,
      flapTransitions: 4,
      flapWindowSeconds: 600,
      notifyGroupSeconds: 5,
      logLevel: 'info',
    });
    expect(config.identity).toMatch(/^.+\/\d+\/[0-9a-f]{6}$/);
    expect(config.context).toBeUndefined();
  });

  it.each([
    [[], /--cluster \(or KNM_CLUSTER\) is required/],
    [['--cluster', 'Dev_1'], /--cluster: cluster name "Dev_1"/],
    [
      ['--cluster', 'dev', '--coalesce-ms', '250'],
      /--coalesce-ms \(KNM_COALESCE_MS\) must be an integer from 1 to 100/,
    ],
    [['--cluster', 'dev', '--redis', 'http://x'], /--redis \(REDIS_URL\) must be a redis:\/\//],
    [['--cluster', 'dev', '--redis', 'redis://a:1,b:2'], /several hosts need the redis\+cluster:\/\/ scheme/],
    [['--cluster', 'dev', '--namespace', 'A:B'], /--namespace: Redis namespace "A:B"/],
    [['--cluster', 'dev', '--initial-sync', 'all'], /--initial-sync/],
    [['--cluster', 'dev', '--log-level', 'loud'], /--log-level must be one of/],
    [
      ['--cluster', 'dev', '--metrics-interval', '5000'],
      /--metrics-interval \(KNM_METRICS_INTERVAL\) must be seconds/,
    ],
    [['--cluster', 'dev', '--metrics-interval', '15s'], /--metrics-interval/],
    [
      ['--cluster', 'dev', '--history-days', '0'],
      /--history-days \(KNM_HISTORY_DAYS\) must be an integer from 1/,
    ],
    [['--cluster', 'dev', '--flap-transitions', '1'], /--flap-transitions \(KNM_FLAP_TRANSITIONS\)/],
    [['--cluster', 'dev', '--flap-window-seconds', 'x'], /--flap-window-seconds \(KNM_FLAP_WINDOW_SECONDS\)/],
    [['--cluster', 'dev', '--bogus'], /Unknown option '--bogus'/],
  ])('rejects %j with a message that says what to fix', (argv, message) => {
    expect(() => loadWatcherConfig(argv, {})).toThrow(WatcherConfigError);
    expect(() => loadWatcherConfig(argv, {})).toThrow(message);
  });

  it('history and flap settings from flags or the environment', () => {
    expect(
      loadWatcherConfig(['--cluster', 'dev', '--history-days', '7'], {
        KNM_FLAP_TRANSITIONS: '6',
        KNM_FLAP_WINDOW_SECONDS: '120',
      }),
    ).toMatchObject({ historyDays: 7, flapTransitions: 6, flapWindowSeconds: 120 });
  });

  it('--metrics-interval: seconds, 0 turns usage off, the environment as fallback', () => {
    expect(loadWatcherConfig(['--cluster', 'dev', '--metrics-interval', '0'], {}).metricsIntervalMs).toBe(0);
    expect(loadWatcherConfig(['--cluster', 'dev', '--metrics-interval', '0.5'], {}).metricsIntervalMs).toBe(
      500,
    );
    expect(loadWatcherConfig(['--cluster', 'dev'], { KNM_METRICS_INTERVAL: '30' }).metricsIntervalMs).toBe(
      30_000,
    );
  });

  it('takes a Redis Cluster URL (seed nodes)', () => {
    const url = 'rediss+cluster://:pw@10.0.0.1:7000,10.0.0.2:7001';
    expect(loadWatcherConfig(['--cluster', 'dev'], { REDIS_URL: url }).redisUrl).toBe(url);
  });

  it('never echoes a Redis password', () => {
    expect(() => loadWatcherConfig(['--cluster', 'dev', '--redis', 'http://u:secret@x'], {})).toThrow(
      /\*\*\*/,
    );
    expect(() => loadWatcherConfig(['--cluster', 'dev', '--redis', 'http://u:secret@x'], {})).not.toThrow(
      /secret/,
    );
  });

  it('--pool: no cluster, cold standby and a 30 s re-read by default; KNM_POOL and the environment as fallback', () => {
    const config = loadWatcherConfig(['--pool'], { KNM_CLUSTER: 'ignored-in-a-pool' });
    expect(config.cluster).toBeUndefined();
    expect(config.pool).toEqual({ standby: 'cold', relistMs: 30_000 });
    expect(
      loadWatcherConfig([], { KNM_POOL: 'true', KNM_POOL_STANDBY: 'warm', KNM_POOL_RELIST_SECONDS: '5' })
        .pool,
    ).toEqual({ standby: 'warm', relistMs: 5_000 });
    expect(loadWatcherConfig(['--cluster', 'dev'], {}).pool).toBeUndefined();
    expect(() => loadWatcherConfig([], { KNM_POOL: 'yes' })).toThrow(WatcherConfigError);
    expect(() => loadWatcherConfig(['--pool', '--pool-relist-seconds', '0'], {})).toThrow(
      /--pool-relist-seconds/,
    );
  });

  it('--help', () => {
    expect(() => loadWatcherConfig(['--help'], {})).toThrow(HelpRequested);
  });
});
