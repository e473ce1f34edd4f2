import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startKubeSim, type KubeSim, type KubeSimOptions } from '@knm/fake-cluster';
import { spawnTestWatcher, type ManagedProcess, type TestRedis } from '@knm/testing';

const run = promisify(execFile);

/** A kube-sim for one test with its kubeconfig on disk. */
export interface SimHandle {
  sim: KubeSim;
  kubeconfigPath: string;
  /** POSTs a `/_sim/*` control request. */
  control(path: string, body?: unknown): Promise<unknown>;
  /** Runs the real kubectl against the sim. */
  kubectl(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

/** Starts kube-sim in this process, its kubeconfig written to a temporary directory. */
export async function startSim(options: KubeSimOptions): Promise<SimHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'knm-gateway-e2e-'));
  const kubeconfigPath = join(dir, 'sim.kubeconfig');
  const sim = await startKubeSim({ ...options, kubeconfigOut: kubeconfigPath });
  return {
    sim,
    kubeconfigPath,
    async control(path, body = {}) {
      const res = await fetch(`${sim.url}/_sim/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`POST /_sim/${path}: HTTP ${res.status} ${await res.text()}`);
      return res.json();
    },
    async kubectl(...args) {
      const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfigPath, ...args], { timeout: 30_000 });
      return stdout;
    },
    async close() {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the real watcher process for `cluster`, writing under the test's Redis namespace. */
export function spawnWatcher(sim: SimHandle, redis: TestRedis, cluster: string): ManagedProcess {
  return spawnTestWatcher({ cluster, kubeconfigPath: sim.kubeconfigPath, redis });
}
