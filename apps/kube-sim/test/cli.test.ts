import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnApp, type ManagedProcess } from '@knm/testing';
import { TruthSchema } from '@knm/fake-cluster';

const procs: ManagedProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL', 1_000)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function start(args: string[]): ManagedProcess {
  const p = spawnApp('kube-sim', args);
  procs.push(p);
  return p;
}

interface ReadyLine {
  msg: string;
  url: string;
  httpsUrl: string;
  kubeconfig: string;
  nodes: number;
}

describe('kube-sim CLI', { timeout: 120_000 }, () => {
  it('prints one ready line with its URL, writes a usable kubeconfig, serves the world, exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-sim-cli-'));
    dirs.push(dir);
    const kubeconfigPath = join(dir, 'sim.kubeconfig');
    const p = start([
      '--port',
      '0',
      '--nodes',
      '7',
      '--pods',
      '50',
      '--seed',
      '4',
      '--cluster-name',
      'clitest',
      '--kubeconfig-out',
      kubeconfigPath,
    ]);
    await p.waitForOutput(/kube-sim ready/, 60_000);
    const readyLines = p
      .output()
      .split('\n')
      .filter((l) => l.includes('kube-sim ready'));
    expect(readyLines).toHaveLength(1);
    const ready = JSON.parse(readyLines[0] as string) as ReadyLine;
    expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.kubeconfig).toBe(kubeconfigPath);

    const config = JSON.parse(readFileSync(kubeconfigPath, 'utf8')) as {
      clusters: { cluster: { server: string } }[];
      users: { user: { token: string } }[];
      'current-context': string;
    };
    expect(config['current-context']).toBe('clitest');
    expect(config.clusters[0]?.cluster.server).toBe(ready.httpsUrl);
    const token = config.users[0]?.user.token as string;
    const nodes = (await (
      await fetch(`${ready.url}/api/v1/nodes`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      items: { metadata: { name: string } }[];
    };
    expect(nodes.items).toHaveLength(7);
    expect(nodes.items.every((n) => n.metadata.name.startsWith('clitest-'))).toBe(true);
    const truth = TruthSchema.parse(await (await fetch(`${ready.url}/_sim/truth`)).json());
    expect(Object.keys(truth.nodes)).toHaveLength(7);

    // The real kubectl uses the written kubeconfig as is (HTTPS, the CA, the token).
    const kubectl = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'kubectl',
        ['--kubeconfig', kubeconfigPath, '--cache-dir', join(dir, 'cache'), 'get', 'nodes', '--no-headers'],
        { timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? -1) : 0, stdout, stderr }),
      );
    });
    expect(kubectl.code, kubectl.stderr).toBe(0);
    expect(kubectl.stdout.trim().split('\n')).toHaveLength(7);

    const exit = await p.stop('SIGTERM', 15_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(p.output()).toContain('kube-sim stopping');
    expect(p.output()).toContain('kube-sim stopped');
  });

  it('with churn far above what it can produce, still answers requests and exits 0 on SIGTERM', async () => {
    const p = start(['--port', '0', '--nodes', '30', '--pods', '900', '--churn', '100000']);
    await p.waitForOutput(/kube-sim ready/, 60_000);
    const readyLine = p
      .output()
      .split('\n')
      .find((l) => l.includes('kube-sim ready'));
    const ready = JSON.parse(readyLine as string) as ReadyLine;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${ready.url}/_sim/stats`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { churnRate: number }).churnRate).toBe(100_000);
    }
    const exit = await p.stop('SIGTERM', 15_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(p.output()).toContain('kube-sim stopped');
  });

  it.each([
    [['--nodes', 'many'], /--nodes/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--cluster-name', 'Bad_Name'], /--cluster-name/],
    [['--kubernetes-minor', '12'], /--kubernetes-minor/],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    const p = start(args);
    const exit = await p.exited;
    expect(exit.code).toBe(2);
    expect(p.output()).toMatch(message);
    expect(p.output()).toContain('usage: npm run sim');
  });
});
