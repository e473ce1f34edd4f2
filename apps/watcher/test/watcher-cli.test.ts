import { afterEach, describe, expect, it } from 'vitest';
import { spawnApp, type ManagedProcess } from '@knm/testing';

const procs: ManagedProcess[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL', 1_000)));
});

describe('watcher CLI', () => {
  it.each([
    [['--kubeconfig', 'x'], /--cluster \(or KNM_CLUSTER\) is required/],
    [
      ['--cluster', 'dev', '--kubeconfig', '/nonexistent/kubeconfig', '--metrics-port', '0'],
      /cannot read the kubeconfig "\/nonexistent\/kubeconfig"/,
    ],
    [['--pool', '--metrics-port', '0'], /--pool reads the cluster registry.*KNM_SECRETS_KEY is not set/],
    [['--pool', '--cluster', 'dev'], /--pool and --cluster exclude each other/],
    [['--pool', '--pool-standby', 'hot'], /--pool-standby \(KNM_POOL_STANDBY\) must be "warm" or "cold"/],
  ])(
    'bad input %j: a clear message and exit code 2',
    async (args, message) => {
      const p = spawnApp('watcher', args, { env: { KNM_CLUSTER: '', KUBECONFIG: '', KNM_SECRETS_KEY: '' } });
      procs.push(p);
      const exit = await p.exited;
      expect(exit.code).toBe(2);
      expect(p.output()).toMatch(message);
    },
    30_000,
  );
});
