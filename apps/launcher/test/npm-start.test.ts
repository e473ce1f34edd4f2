import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from '@knm/fake-cluster';
import { ClusterListResponseSchema } from '@knm/contracts';
import { createTestRedis, spawnProcess, waitFor, type ManagedProcess, type TestRedis } from '@knm/testing';

const execFileAsync = promisify(execFile);

/** `npm start` for real: every process, the proxy, the shutdown. Slow on a loaded 2-core machine, hence the budgets. */
describe('npm start', () => {
  let redis: TestRedis | undefined;
  let run: ManagedProcess | undefined;
  let sim: KubeSim | undefined;
  let dir: string | undefined;
  let socket: Socket | undefined;

  afterEach(async () => {
    socket?.close();
    await run?.stop('SIGINT', 30_000);
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await redis?.close();
    [redis, run, sim, dir, socket] = [undefined, undefined, undefined, undefined, undefined];
  });

  function npmStart(args: string[], redisUrl: string): ManagedProcess {
    return spawnProcess({
      name: 'npm-start',
      command: 'npm',
      args: ['start', '--', '--port', '0', '--no-web-build', ...args],
      env: { REDIS_URL: redisUrl, FORCE_COLOR: '0' },
    });
  }

  async function banner(
    p: ManagedProcess,
  ): Promise<{ base: string; token: string; children: Map<string, number> }> {
    const [, base, token] = await p.waitForOutput(/Dashboard\s+(http:\/\/[\d.]+:\d+)\/#token=(\S+)/, 240_000);
    const listed = p.output().match(/knm ready .*children=(\[[^\]]*\])/)?.[1];
    if (!base || !token || !listed) throw new Error(`no banner:\n${p.tail()}`);
    const children = new Map(
      (JSON.parse(listed) as string[]).map((entry) => {
        const [name = '', pid = ''] = entry.split(':');
        return [name, Number(pid)] as const;
      }),
    );
    return { base, token, children };
  }

  /** True when no process of `pid`'s process group, nor `pid` itself, is alive. */
  const gone = (pid: number): boolean => {
    for (const target of [pid, -pid]) {
      try {
        process.kill(target, 0);
        return false;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') return false;
      }
    }
    return true;
  };

  it('starts two simulated clusters, watchers, gateways and the proxy; the URL, the token and a live socket work; SIGINT stops every process and exits 0', async () => {
    redis = await createTestRedis();
    run = npmStart(['--namespace', redis.namespace, '--prod-nodes', '150', '--prod-churn', '10'], redis.url);
    const { base, token, children } = await banner(run);

    expect([...children.keys()].sort()).toEqual([
      'gateway-1',
      'gateway-2',
      'kube-sim-dev',
      'kube-sim-prod',
      'watcher-dev-1',
      'watcher-dev-2',
      'watcher-pool-1',
      'watcher-prod-1',
      'watcher-prod-2',
    ]);
    for (const pid of children.values()) expect(gone(pid)).toBe(false);

    // The URL serves the dashboard (built by this project's global setup), health is open.
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    // The printed URL in a real browser: it signs in from the fragment and goes live through the proxy.
    const chromiumPath = process.env['KNM_CHROMIUM'] ?? '/usr/bin/chromium';
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    try {
      const tab = await browser.newPage();
      await tab.goto(`${base}/#token=${token}`);
      await tab.getByText('Live', { exact: true }).first().waitFor({ timeout: 60_000 });
      // The table shows the dev cluster's nodes as they are now (its churn adds and removes some).
      await waitFor(
        async () => {
          const res = await fetch(`${base}/api/v1/clusters/dev/nodes`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const names = ((await res.json()) as { items: { name: string }[] }).items.map((n) => n.name);
          const shown = await tab.locator('body').innerText();
          return names.length > 0 && names.every((n) => shown.includes(n));
        },
        { timeout: 60_000, interval: 250, what: "the dev cluster's nodes in the table" },
      );
      expect(tab.url()).toBe(`${base}/`);
    } finally {
      await browser.close();
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    // The token works; without it the API refuses.
    expect((await fetch(`${base}/api/v1/clusters`)).status).toBe(401);
    const res = await fetch(`${base}/api/v1/clusters`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const { items } = ClusterListResponseSchema.parse(await res.json());
    const byName = Object.fromEntries(items.map((c) => [c.name, c]));
    expect(byName['dev']).toMatchObject({ status: 'ready' });
    // dev starts with 8 nodes and its churn adds and removes some: compare with the
    // simulated cluster itself, through the real kubectl and the kubeconfig npm start wrote.
    const devKubeconfig = /kubeconfig=(\S+dev\.kubeconfig)/.exec(run.output())?.[1];
    expect(devKubeconfig, 'kube-sim-dev prints its kubeconfig').toBeDefined();
    // Registering clusters works out of the box: npm start generated a secrets key for the run.
    expect(run.output()).toContain('KNM_SECRETS_KEY is not set: generated one for this run (not printed)');
    const tested = await fetch(`${base}/api/v1/clusters/test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kubeconfig: await readFile(String(devKubeconfig), 'utf8') }),
    });
    expect(tested.status).toBe(200);
    expect(await tested.json()).toMatchObject({ ok: true, context: 'dev' });
    // Registered under another name, the pool member serves it: ready beside the others.
    const registered = await fetch(`${base}/api/v1/clusters`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'dev-again', kubeconfig: await readFile(String(devKubeconfig), 'utf8') }),
    });
    expect(registered.status).toBe(201);
    await waitFor(
      async () => {
        const list = await fetch(`${base}/api/v1/clusters`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const again = ClusterListResponseSchema.parse(await list.json()).items.find(
          (c) => c.name === 'dev-again',
        );
        return again?.status === 'ready';
      },
      { timeout: 30_000, what: 'the cluster registered at runtime ready (served by the pool member)' },
    );
    await waitFor(
      async () => {
        const { stdout } = await execFileAsync('kubectl', [
          '--kubeconfig',
          String(devKubeconfig),
          'get',
          'nodes',
          '-o',
          'name',
        ]);
        const listed = await fetch(`${base}/api/v1/clusters`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const dev = ClusterListResponseSchema.parse(await listed.json()).items.find((c) => c.name === 'dev');
        const kubectlCount = stdout.trim().split('\n').filter(Boolean).length;
        return kubectlCount > 0 && dev?.nodeCount === kubectlCount;
      },
      { timeout: 30_000, interval: 500, what: "dev's node count equal to kubectl's" },
    );
    expect(byName['prod']).toMatchObject({ status: 'ready' });
    expect(byName['prod']?.nodeCount).toBeGreaterThan(100);

    // A WebSocket through the round-robin proxy: subscribe and get the cluster's seq.
    socket = io(`${base}/nodes`, { auth: { token }, transports: ['websocket'], reconnection: false });
    const ack = await new Promise<unknown>((resolve, reject) => {
      socket?.on('connect_error', reject);
      socket?.on('connect', () => socket?.emit('subscribe', { cluster: 'prod' }, resolve));
    });
    expect(ack).toMatchObject({ ok: true });

    // Ctrl-C reaches npm, sh and the launcher (one process group, as in a terminal).
    socket.close();
    run.signal('SIGINT');
    const exit = await run.exited;
    expect(run.output()).toContain('every process stopped');
    expect(run.output()).toMatch(/launcher +INFO +exiting with code 0/);
    // npm itself re-raises the SIGINT it received (a shell shows 130), or exits 0: both are a clean stop.
    expect([
      JSON.stringify({ code: 0, signal: null }),
      JSON.stringify({ code: null, signal: 'SIGINT' }),
    ]).toContain(JSON.stringify(exit));
    await waitFor(() => [...children.values(), run?.pid ?? -1].every(gone), {
      timeout: 15_000,
      what: 'every child process and process group to be gone',
    });
  }, 420_000);

  it('watches a real cluster from --kubeconfig --contexts name=context; a child that dies stops everything, shows its error and exits 1', async () => {
    redis = await createTestRedis();
    dir = await mkdtemp(join(tmpdir(), 'knm-launcher-test-'));
    const kubeconfig = join(dir, 'real.kubeconfig');
    sim = await startKubeSim({ nodes: 5, pods: 40, seed: 3, clusterName: 'edge', kubeconfigOut: kubeconfig });
    run = npmStart(
      [
        '--namespace',
        redis.namespace,
        '--kubeconfig',
        kubeconfig,
        '--contexts',
        'lab=edge',
        '--gateways',
        '1',
      ],
      redis.url,
    );
    const { base, token, children } = await banner(run);
    expect([...children.keys()].sort()).toEqual([
      'gateway-1',
      'watcher-lab-1',
      'watcher-lab-2',
      'watcher-pool-1',
    ]);
    expect(run.output()).not.toContain('kube-sim-');
    const res = await fetch(`${base}/api/v1/clusters`, { headers: { authorization: `Bearer ${token}` } });
    const { items } = ClusterListResponseSchema.parse(await res.json());
    expect(items.map((c) => [c.name, c.status, c.nodeCount])).toEqual([['lab', 'ready', 5]]);

    const victim = children.get('watcher-lab-1') ?? -1;
    process.kill(victim, 'SIGKILL');
    const exit = await run.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(run.output()).toContain('watcher-lab-1 exited unexpectedly (signal SIGKILL)');
    expect(run.output()).toContain('watcher-lab-1 failed; its last lines:');
    expect(run.output()).toMatch(/launcher +INFO +exiting with code 1/);
    await waitFor(() => [...children.values(), run?.pid ?? -1].every(gone), {
      timeout: 15_000,
      what: 'every other child to be stopped',
    });
  }, 420_000);

  it('names --port when the port is taken, and exits 1 without leaving anything behind', async () => {
    redis = await createTestRedis();
    const { createServer } = await import('node:http');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      run = spawnProcess({
        name: 'npm-start',
        command: 'npm',
        args: ['start', '--', '--port', String(port), '--no-web-build', '--namespace', redis.namespace],
        env: { REDIS_URL: redis.url, FORCE_COLOR: '0' },
      });
      const exit = await run.exited;
      expect(exit.code).toBe(1);
      expect(run.output()).toMatch(
        new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use; choose another with npm start -- --port`),
      );
      expect(run.output()).not.toContain('started kube-sim');
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  }, 120_000);
});
