/**
 * `npm run reseal`, the middle step of the documented key rotation, as a real
 * process against real Redis: records sealed under the previous key are sealed again
 * under the new one, so that once the previous key is dropped every record still opens.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterConnectionStore } from '@knm/cluster-connections';
import { toClusterName } from '@knm/contracts';
import { SecretBox } from '@knm/secrets';
import { createTestRedis, spawnProcess, typeScriptNodeArgs, type TestRedis } from '@knm/testing';

const KUBECONFIG = '{"apiVersion":"v1","kind":"Config"}';
let redis: TestRedis;

beforeEach(async () => {
  redis = await createTestRedis();
});
afterEach(async () => redis.close());

function reseal(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawnProcess({
    name: 'reseal',
    args: [
      ...typeScriptNodeArgs('apps/gateway/src/reseal-cli.ts'),
      '--redis',
      redis.url,
      '--namespace',
      redis.namespace,
    ],
    env: { KNM_SECRETS_KEY: undefined, KNM_SECRETS_KEYS_PREVIOUS: undefined, ...env },
  });
  return child.exited.then((exit) => ({ code: exit.code, output: child.output() }));
}

describe('npm run reseal', () => {
  it('re-seals what the previous key sealed; then the new key alone opens everything', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const before = new ClusterConnectionStore(
      redis.client,
      redis.keyspace,
      SecretBox.fromEnv({ KNM_SECRETS_KEY: oldKey }),
    );
    for (const name of ['a', 'b']) {
      await before.put({ name: toClusterName(name), server: 'https://k', kubeconfig: KUBECONFIG });
    }
    const run = await reseal({ KNM_SECRETS_KEY: newKey, KNM_SECRETS_KEYS_PREVIOUS: oldKey });
    expect(run.code).toBe(0);
    expect(run.output).toContain('re-sealed 2 registered cluster(s)');
    expect(run.output).not.toContain(newKey);
    expect(run.output).not.toContain(oldKey);
    const after = new ClusterConnectionStore(
      redis.client,
      redis.keyspace,
      SecretBox.fromEnv({ KNM_SECRETS_KEY: newKey }),
    );
    expect((await after.list()).map((c) => [c.name, c.kubeconfig])).toEqual([
      ['a', KUBECONFIG],
      ['b', KUBECONFIG],
    ]);
    expect((await reseal({ KNM_SECRETS_KEY: newKey })).output).toContain('re-sealed 0 registered cluster(s)');
  });

  it('exits 2 saying what is missing without KNM_SECRETS_KEY', async () => {
    const run = await reseal({});
    expect(run.code).toBe(2);
    expect(run.output).toContain('KNM_SECRETS_KEY is not set');
  });
});
