import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toClusterName } from '@knm/contracts';
import { SecretBox } from '@knm/secrets';
import { createTestRedis, waitFor, type TestRedis } from '@knm/testing';
import { ClusterConnectionStore } from '../src/index.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443"}}]
users: [{name: u, user: {token: "sha256~a-very-secret-token"}}]
contexts: [{name: ctx, context: {cluster: c, user: u}}]
current-context: ctx
`;

let t: TestRedis;
let box: SecretBox;
let store: ClusterConnectionStore;

beforeEach(async () => {
  t = await createTestRedis();
  box = SecretBox.fromEnv({ KNM_SECRETS_KEY: randomBytes(32).toString('base64') });
  store = new ClusterConnectionStore(t.client, t.keyspace, box);
});
afterEach(async () => t.close());

describe('ClusterConnectionStore', () => {
  it('keeps credentials sealed in Redis and opens them for a watcher', async () => {
    const put = await store.put({
      name: toClusterName('prod'),
      server: 'https://10.0.0.1:6443',
      kubeconfig: KUBECONFIG,
      context: 'ctx',
      by: 'alice',
    });
    expect(put.created).toBe(true);
    expect(JSON.stringify(put.summary)).not.toContain('a-very-secret-token');
    const raw = await t.client.hget(t.keyspace.connections, 'prod');
    expect(raw).not.toBeNull();
    expect(raw).not.toContain('a-very-secret-token');
    expect(raw).not.toContain('apiVersion');
    expect(await store.get(toClusterName('prod'))).toMatchObject({
      name: toClusterName('prod'),
      kubeconfig: KUBECONFIG,
      context: 'ctx',
      createdBy: 'alice',
    });
    expect(await store.summaries()).toEqual([expect.not.objectContaining({ kubeconfig: expect.anything() })]);
  });

  it('replaces credentials keeping the creation, and removes', async () => {
    const first = await store.put({
      name: toClusterName('a'),
      server: 'https://a',
      kubeconfig: KUBECONFIG,
      by: 'alice',
    });
    const second = await store.put({
      name: toClusterName('a'),
      server: 'https://a2',
      kubeconfig: `${KUBECONFIG}# v2\n`,
      by: 'bob',
    });
    expect(second.created).toBe(false);
    expect(second.summary).toMatchObject({
      server: 'https://a2',
      createdAt: first.summary.createdAt,
      createdBy: 'alice',
      updatedBy: 'bob',
    });
    expect((await store.get(toClusterName('a')))?.kubeconfig).toContain('# v2');
    expect(await store.remove(toClusterName('a'))).toBe(true);
    expect(await store.remove(toClusterName('a'))).toBe(false);
    expect(await store.list()).toEqual([]);
  });

  it('publishes every change on the changes channel', async () => {
    const sub = t.connect();
    const seen: string[] = [];
    sub.on('message', (_channel: string, message: string) => {
      const change = ClusterConnectionStore.decodeChange(message);
      seen.push(`${change.op}:${change.name}`);
    });
    await sub.subscribe(t.keyspace.connectionChanges);
    await store.put({ name: toClusterName('b'), server: 'https://b', kubeconfig: KUBECONFIG });
    await store.remove(toClusterName('b'));
    await waitFor(() => seen.length === 2, { timeout: 5_000, what: 'two changes' });
    expect(seen).toEqual(['put:b', 'delete:b']);
  });

  it('refuses a sealed value copied under another name, and re-seals after a key rotation', async () => {
    await store.put({ name: toClusterName('a'), server: 'https://a', kubeconfig: KUBECONFIG });
    const raw = JSON.parse((await t.client.hget(t.keyspace.connections, 'a')) ?? '{}') as Record<
      string,
      unknown
    >;
    await t.client.hset(t.keyspace.connections, 'b', JSON.stringify({ ...raw, name: toClusterName('b') }));
    await expect(store.get(toClusterName('b'))).rejects.toThrow(/does not authenticate/);
    await t.client.hdel(t.keyspace.connections, 'b');
  });

  it('re-seals what an earlier key sealed, after which the earlier key can go', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const before = new ClusterConnectionStore(
      t.client,
      t.keyspace,
      SecretBox.fromEnv({ KNM_SECRETS_KEY: oldKey }),
    );
    await before.put({ name: toClusterName('a'), server: 'https://a', kubeconfig: KUBECONFIG });
    await before.put({ name: toClusterName('b'), server: 'https://b', kubeconfig: KUBECONFIG });
    const during = new ClusterConnectionStore(
      t.client,
      t.keyspace,
      SecretBox.fromEnv({ KNM_SECRETS_KEY: newKey, KNM_SECRETS_KEYS_PREVIOUS: oldKey }),
    );
    expect((await during.get(toClusterName('a')))?.kubeconfig).toBe(KUBECONFIG);
    expect(await during.reseal()).toBe(2);
    expect(await during.reseal()).toBe(0);
    const after = new ClusterConnectionStore(
      t.client,
      t.keyspace,
      SecretBox.fromEnv({ KNM_SECRETS_KEY: newKey }),
    );
    expect((await after.list()).map((c) => c.kubeconfig)).toEqual([KUBECONFIG, KUBECONFIG]);
    await expect(before.get(toClusterName('a'))).rejects.toThrow(/neither KNM_SECRETS_KEY/);
  });
});
