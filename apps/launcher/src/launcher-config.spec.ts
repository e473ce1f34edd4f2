import { describe, expect, it } from 'vitest';
import {
  clusterNameForContext,
  LauncherConfigError,
  LauncherHelpRequested,
  loadLauncherConfig,
} from './launcher-config.js';

describe('loadLauncherConfig', () => {
  it('applies the defaults: two simulated clusters, port 8080, two gateways, two watchers each', () => {
    const config = loadLauncherConfig([], {});
    expect(config).toEqual({
      port: 8080,
      host: '127.0.0.1',
      gateways: 2,
      watchersPerCluster: 2,
      redisNamespace: 'knm',
      contexts: [],
      simulated: [
        { name: 'dev', nodes: 8, pods: 120, churn: 1, heartbeatSeconds: 10, seed: 1 },
        { name: 'prod', nodes: 300, pods: 7500, churn: 20, heartbeatSeconds: 10, seed: 2 },
      ],
      webBuild: true,
      readyTimeoutMs: 180_000,
      tokenTtl: '12h',
      logLevel: 'info',
    });
  });

  it('reads REDIS_URL and KNM_REDIS_NAMESPACE; flags win', () => {
    expect(loadLauncherConfig([], { REDIS_URL: 'redis://r:1', KNM_REDIS_NAMESPACE: 'other' })).toMatchObject({
      redisUrl: 'redis://r:1',
      redisNamespace: 'other',
    });
    expect(
      loadLauncherConfig(['--redis', 'redis://flag:2', '--namespace', 'ns'], { REDIS_URL: 'redis://r:1' }),
    ).toMatchObject({ redisUrl: 'redis://flag:2', redisNamespace: 'ns' });
    // A Redis Cluster, as every process understands it.
    expect(loadLauncherConfig(['--redis', 'redis+cluster://a:7000,b:7001'], {}).redisUrl).toBe(
      'redis+cluster://a:7000,b:7001',
    );
  });

  it('real clusters: contexts become DNS-1123 cluster names, name=context renames', () => {
    const config = loadLauncherConfig(
      [
        '--kubeconfig',
        '/k',
        '--contexts',
        'kind-Dev, arn:aws:eks:eu-west-1:1:cluster/prod,edge=gke_p_z_edge',
      ],
      {},
    );
    expect(config.kubeconfig).toBe('/k');
    expect(config.contexts).toEqual([
      { name: 'kind-dev', context: 'kind-Dev' },
      { name: 'arn-aws-eks-eu-west-1-1-cluster-prod', context: 'arn:aws:eks:eu-west-1:1:cluster/prod' },
      { name: 'edge', context: 'gke_p_z_edge' },
    ]);
  });

  it.each([
    [['--port', 'x'], /--port must be an integer from 0 to 65535/],
    [['--port', '70000'], /--port must be an integer/],
    [['--gateways', '0'], /--gateways must be an integer from 1/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--contexts', 'a'], /--contexts needs --kubeconfig/],
    [['--kubeconfig', 'k', '--contexts', 'a-b,A_B'], /two contexts map to the cluster name "a-b"/],
    [['--kubeconfig', 'k', '--contexts', 'Bad=ctx'], /name=context with a DNS-1123 label/],
    [['--redis', 'http://x'], /--redis \(REDIS_URL\): .*redis\+cluster:\/\//],
    [['--namespace', 'a:b'], /--namespace/],
    [['--log-level', 'loud'], /--log-level must be one of/],
  ])('refuses %j', (argv, message) => {
    expect(() => loadLauncherConfig(argv, {})).toThrow(LauncherConfigError);
    expect(() => loadLauncherConfig(argv, {})).toThrow(message);
  });

  it('--help throws the usage', () => {
    expect(() => loadLauncherConfig(['--help'], {})).toThrow(LauncherHelpRequested);
  });
});

describe('clusterNameForContext', () => {
  it('keeps a valid name and cuts a long one to 63 characters without a trailing dash', () => {
    expect(clusterNameForContext('dev')).toBe('dev');
    const long = clusterNameForContext(`${'a'.repeat(62)}_b`);
    expect(long).toBe('a'.repeat(62));
  });

  it('refuses a context with no usable character', () => {
    expect(() => clusterNameForContext('__')).toThrow(/name it with --contexts name=__/);
  });
});
