/**
 * A kubeconfig's exec credential plugin is a program the watcher starts; it inherits
 * the watcher's environment. knm's secrets must not be in it: the process takes them
 * out of its own environment before it starts anything (`takeSecretEnv`).
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_ENV_NAMES } from '@knm/secrets';
import {
  createTestRedis,
  spawnTestWatcher,
  waitFor,
  type ManagedProcess,
  type TestRedis,
} from '@knm/testing';
import { startSim, type SimHandle } from './harness.js';

let sim: SimHandle;
let redis: TestRedis;
let watcher: ManagedProcess | undefined;

beforeAll(async () => {
  sim = await startSim({ nodes: 3, pods: 12 });
  redis = await createTestRedis();
});

afterAll(async () => {
  await watcher?.stop();
  await redis?.close();
  await sim?.close();
});

describe('exec credential plugin', () => {
  it("runs without knm's secrets in its environment, with its own variables", async () => {
    const dir = dirname(sim.kubeconfigPath);
    const envFile = join(dir, 'plugin-env.json');
    const script = join(dir, 'credential.mjs');
    await writeFile(
      script,
      [
        `import { writeFileSync } from 'node:fs';`,
        `writeFileSync(${JSON.stringify(envFile)}, JSON.stringify(process.env));`,
        `process.stdout.write(JSON.stringify({apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: {token: ${JSON.stringify(sim.sim.token)}}}));`,
      ].join('\n'),
    );
    const kubeconfig = JSON.parse(sim.sim.kubeconfig()) as { users: { user: Record<string, unknown> }[] };
    for (const u of kubeconfig.users) {
      u.user = {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: process.execPath,
          args: [script],
          env: [{ name: 'KNM_TEST_PLUGIN_OWN', value: 'set by the kubeconfig' }],
          interactiveMode: 'Never',
        },
      };
    }
    const kubeconfigPath = join(dir, 'exec.kubeconfig');
    await writeFile(kubeconfigPath, JSON.stringify(kubeconfig));
    const secrets: Record<string, string> = {
      KNM_SECRETS_KEY: randomBytes(32).toString('base64'),
      KNM_SECRETS_KEYS_PREVIOUS: randomBytes(32).toString('base64'),
      KNM_JWT_SECRET: randomBytes(32).toString('hex'),
      KNM_METRICS_TOKEN: randomBytes(16).toString('hex'),
      KNM_OIDC_CLIENT_SECRET: randomBytes(16).toString('hex'),
      REDIS_URL: redis.url,
    };
    expect(Object.keys(secrets).sort()).toEqual([...SECRET_ENV_NAMES].sort());
    watcher = spawnTestWatcher({
      cluster: 'exec',
      kubeconfigPath,
      redis,
      env: { ...secrets, KNM_TEST_NOT_SECRET: 'kept' },
    });
    // Ready means the plugin ran and its token listed the cluster.
    await watcher.waitForOutput(/"msg":"watcher ready"/, 60_000);
    const seen = JSON.parse(
      await waitFor(() => readFile(envFile, 'utf8').catch(() => undefined), { what: 'the plugin run' }),
    ) as Record<string, string>;
    for (const name of SECRET_ENV_NAMES) expect(seen[name], name).toBeUndefined();
    const text = JSON.stringify(seen);
    for (const value of Object.values(secrets)) expect(text).not.toContain(value);
    expect(seen['KNM_TEST_PLUGIN_OWN']).toBe('set by the kubeconfig');
    expect(seen['KNM_TEST_NOT_SECRET']).toBe('kept');
    expect(seen['PATH']).toBeTruthy();
  }, 90_000);
});
