import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeSim, type KubeSim, type KubeSimOptions } from '@knm/fake-cluster';
import { spawnTestWatcher, type ManagedProcess, type TestRedis } from '@knm/testing';

/** One more real cluster beside a {@link Stack}'s: its own kube-sim and watcher process, the same Redis. */
export interface ExtraCluster {
  name: string;
  sim: KubeSim;
  watcher: ManagedProcess;
  close(): Promise<void>;
}

/**
 * Starts kube-sim and a watcher for cluster `name` writing to `redis` (the stack's),
 * so the stack's gateway serves it like its own; resolves once the watcher is ready.
 */
export async function startExtraCluster(
  redis: TestRedis,
  name: string,
  simOptions: KubeSimOptions,
): Promise<ExtraCluster> {
  const dir = await mkdtemp(join(tmpdir(), `knm-web-e2e-${name}-`));
  const kubeconfigPath = join(dir, 'sim.kubeconfig');
  const sim = await startKubeSim({ ...simOptions, kubeconfigOut: kubeconfigPath });
  const watcher = spawnTestWatcher({ cluster: name, kubeconfigPath, redis });
  await watcher.waitForOutput(/"msg":"watcher ready"/, 60_000);
  return {
    name,
    sim,
    watcher,
    async close() {
      await watcher.stop('SIGTERM', 10_000);
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
