/**
 * Clusters registered at runtime through the REST API, end to end: a real gateway
 * process (its whole output captured), real Redis, real kube-sim over HTTPS. Admin
 * only; a wrong kubeconfig answers why (401, a missing permission, file references);
 * a deleted cluster leaves no key behind; and the kube-sim token, which only ever
 * travels inside request bodies, is found in no answer, no log line and no Redis value.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from '@knm/fake-cluster';
import { MAX_KUBECONFIG_BYTES, toClusterName } from '@knm/contracts';
import { NodeStoreWriter } from '@knm/node-store';
import {
  createTestRedis,
  gatewayUrl,
  grantClusterRole,
  spawnTestGateway,
  type ManagedProcess,
  type TestRedis,
} from '@knm/testing';
import { SECRET, httpCall, startGateway, token, type HttpAnswer } from './support/gateway-harness.js';

interface Kubeconfig {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
}

/** The credential the grep looks for: distinctive, and only ever sent in request bodies. */
const SIM_TOKEN = `knm-grep-me-${randomBytes(16).toString('hex')}`;
const WRONG_TOKEN = `knm-wrong-grep-me-${randomBytes(16).toString('hex')}`;

let redis: TestRedis;
let sim: KubeSim;
let gateway: ManagedProcess;
let url: string;
let admin: string;
let viewer: string;
/** Every answer body of the gateway in this file, for the grep. */
const answers: unknown[] = [];

function kubeconfig(edit: (kc: Kubeconfig) => void = () => {}): string {
  const kc = JSON.parse(sim.kubeconfig()) as Kubeconfig;
  edit(kc);
  return JSON.stringify(kc);
}

async function call(method: string, path: string, auth: string, body?: unknown): Promise<HttpAnswer> {
  const answer = await httpCall(url, path, {
    method,
    auth,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  answers.push(answer.body);
  return answer;
}

/** Every value under the test's namespace, by type, as text. */
async function dumpRedis(): Promise<string> {
  const out: string[] = [];
  for (const key of await redis.keys()) {
    const type = await redis.client.type(key);
    out.push(key);
    if (type === 'string') out.push((await redis.client.get(key)) ?? '');
    else if (type === 'hash') out.push(JSON.stringify(await redis.client.hgetall(key)));
    else if (type === 'list') out.push(JSON.stringify(await redis.client.lrange(key, 0, -1)));
    else if (type === 'set') out.push(JSON.stringify(await redis.client.smembers(key)));
    else if (type === 'zset')
      out.push(JSON.stringify(await redis.client.zrange(key, '0', '-1', 'WITHSCORES')));
    else if (type === 'stream') out.push(JSON.stringify(await redis.client.xrange(key, '-', '+')));
    else out.push(`<${type}>`);
  }
  return out.join('\n');
}

beforeAll(async () => {
  redis = await createTestRedis();
  sim = await startKubeSim({ nodes: 3, pods: 5, seed: 5, token: SIM_TOKEN });
  // What the watcher needs, minus patch nodes, for every authenticated user.
  await grantClusterRole(sim, {
    role: 'watcher-without-patch',
    rules: [
      { apiGroups: [''], resources: ['nodes', 'pods'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
    ],
    binding: 'authenticated-watch',
    groups: ['system:authenticated'],
  });
  gateway = spawnTestGateway({
    redis: { url: redis.url, namespace: redis.namespace },
    jwtSecret: SECRET,
    env: {
      KNM_SECRETS_KEY: randomBytes(32).toString('base64'),
      KNM_CLUSTER_DELETE_WAIT_MS: '5000',
      // The most the gateway ever says: refused requests are logged at debug.
      LOG_LEVEL: 'trace',
    },
  });
  url = await gatewayUrl(gateway);
  admin = await token({ role: 'admin', sub: 'root@example.com' });
  viewer = await token({ role: 'viewer' });
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await sim?.close();
  await redis?.close();
});

describe('cluster registry REST API', () => {
  it('is for admins only (403 for a viewer, on every route)', async () => {
    const body = { name: 'nope', kubeconfig: kubeconfig() };
    expect((await call('POST', '/api/v1/clusters', viewer, body)).status).toBe(403);
    expect((await call('POST', '/api/v1/clusters/test', viewer, body)).status).toBe(403);
    expect((await call('PUT', '/api/v1/clusters/nope', viewer, { kubeconfig: kubeconfig() })).status).toBe(
      403,
    );
    expect((await call('DELETE', '/api/v1/clusters/nope', viewer)).status).toBe(403);
    expect(await redis.client.hlen(redis.keyspace.connections)).toBe(0);
  });

  it('answers 422 with the reason: refused credentials, a missing permission', async () => {
    const wrong = await call('POST', '/api/v1/clusters', admin, {
      name: 'wrong',
      kubeconfig: kubeconfig((kc) => {
        kc.users[0]!.user['token'] = WRONG_TOKEN;
      }),
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toMatchObject({
      statusCode: 422,
      message: expect.stringContaining('401 Unauthorized'),
      test: { ok: false, failure: { kind: 'authentication', check: 'authenticate' } },
    });
    const limited = await call('POST', '/api/v1/clusters', admin, {
      name: 'limited',
      kubeconfig: kubeconfig((kc) => {
        kc.users[0]!.user['as'] = 'limited@example.com';
      }),
    });
    expect(limited.status).toBe(422);
    expect(limited.body).toMatchObject({
      message: expect.stringContaining('patch nodes'),
      test: { failure: { kind: 'permission', check: 'nodes/patch' } },
    });
    expect(await redis.client.hlen(redis.keyspace.connections)).toBe(0);
  });

  it('answers 400 for an unusable kubeconfig or body, 413 past the size limit', async () => {
    const files = await call('POST', '/api/v1/clusters', admin, {
      name: 'files',
      kubeconfig: kubeconfig((kc) => {
        kc.users[0]!.user = { 'client-certificate': '/etc/ssl/me.crt', 'client-key': '/etc/ssl/me.key' };
      }),
    });
    expect(files.status).toBe(400);
    expect(files.body).toMatchObject({
      message: expect.stringContaining('self-contained'),
      test: { failure: { kind: 'invalid' } },
    });
    const badName = await call('POST', '/api/v1/clusters', admin, {
      name: 'Not_A_Name',
      kubeconfig: kubeconfig(),
    });
    expect(badName.status).toBe(400);
    const context = await call('POST', '/api/v1/clusters', admin, {
      name: 'ctx',
      kubeconfig: kubeconfig(),
      context: 'prod',
    });
    expect(context.status).toBe(400);
    expect(context.body).toMatchObject({
      message: 'the kubeconfig has no context "prod": it has "kube-sim"',
    });

    const padding = `# ${'x'.repeat(MAX_KUBECONFIG_BYTES)}\n`;
    const big = await call('POST', '/api/v1/clusters', admin, {
      name: 'big',
      kubeconfig: padding + kubeconfig(),
    });
    expect(big.status).toBe(413);
    const huge = await call('POST', '/api/v1/clusters', admin, {
      name: 'huge',
      kubeconfig: padding.repeat(3),
    });
    expect(huge.status).toBe(413);
  });

  it('registers (201), lists it before any watcher, refuses the name twice (409), tests without storing', async () => {
    const test = await call('POST', '/api/v1/clusters/test', admin, { kubeconfig: kubeconfig() });
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ ok: true, server: sim.httpsUrl, context: 'kube-sim' });
    expect(await redis.client.hlen(redis.keyspace.connections)).toBe(0);

    const created = await call('POST', '/api/v1/clusters', admin, { name: 'prod', kubeconfig: kubeconfig() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      cluster: { name: 'prod', server: sim.httpsUrl, context: 'kube-sim', createdBy: 'root@example.com' },
      test: { ok: true },
    });
    const list = await call('GET', '/api/v1/clusters', viewer);
    expect(list.body).toMatchObject({
      items: [
        {
          name: 'prod',
          registered: true,
          server: sim.httpsUrl,
          status: 'syncing',
          createdAt: expect.any(String),
        },
      ],
    });
    const again = await call('POST', '/api/v1/clusters', admin, { name: 'prod', kubeconfig: kubeconfig() });
    expect(again.status).toBe(409);
  });

  it('replaces credentials (PUT): 404 for an unknown cluster, 422 when the new ones fail, 200 when they work', async () => {
    expect((await call('PUT', '/api/v1/clusters/ghost', admin, { kubeconfig: kubeconfig() })).status).toBe(
      404,
    );
    const failing = await call('PUT', '/api/v1/clusters/prod', admin, {
      kubeconfig: kubeconfig((kc) => {
        kc.users[0]!.user['token'] = WRONG_TOKEN;
      }),
    });
    expect(failing.status).toBe(422);
    const replaced = await call('PUT', '/api/v1/clusters/prod', admin, { kubeconfig: kubeconfig() });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      cluster: { name: 'prod', updatedBy: 'root@example.com' },
      test: { ok: true },
    });
  });

  it('DELETE removes the connection and every key of the cluster once its lease is gone (204), then 404', async () => {
    const created = await call('POST', '/api/v1/clusters', admin, {
      name: 'doomed',
      kubeconfig: kubeconfig(),
    });
    expect(created.status).toBe(201);
    // What a watcher leaves: registry entry, state, stream, epoch, a lease, a queue key.
    const cluster = toClusterName('doomed');
    const keys = redis.keyspace.cluster(cluster);
    const epoch = await redis.client.incr(keys.epoch);
    const writer = new NodeStoreWriter(redis.client, redis.keyspace, cluster, epoch, 'test-watcher');
    await writer.register({ server: sim.httpsUrl ?? '' });
    await writer.rebuild({ nodes: [], podCounts: {}, reason: 'rebuild' });
    await writer.heartbeat();
    await redis.client.set(keys.lease, 'test-watcher', 'PX', 1_500);
    await redis.client.hset(`${keys.queuePrefix}:node-ops:1`, 'name', 'drain');
    expect((await redis.keys()).filter((k) => k.startsWith(`${keys.queuePrefix}:`)).length).toBeGreaterThan(
      3,
    );

    const removed = await call('DELETE', '/api/v1/clusters/doomed', admin);
    expect(removed.status).toBe(204);
    expect((await redis.keys()).filter((k) => k.includes('{doomed}'))).toEqual([]);
    expect(await redis.client.hget(redis.keyspace.clusters, 'doomed')).toBeNull();
    expect(await redis.client.hget(redis.keyspace.connections, 'doomed')).toBeNull();
    const list = (await call('GET', '/api/v1/clusters', admin)).body as { items: { name: string }[] };
    expect(list.items.map((c) => c.name)).toEqual(['prod']);
    expect((await call('DELETE', '/api/v1/clusters/doomed', admin)).status).toBe(404);
  });

  it('never lets the credential reach an answer, a log line or a plain Redis value', async () => {
    expect(answers.length).toBeGreaterThan(15);
    const answered = JSON.stringify(answers);
    expect(answered).not.toContain(SIM_TOKEN);
    expect(answered).not.toContain(WRONG_TOKEN);
    const logged = gateway.output();
    expect(logged).toContain('cluster registered');
    expect(logged).not.toContain(SIM_TOKEN);
    expect(logged).not.toContain(WRONG_TOKEN);
    const stored = await dumpRedis();
    expect(stored).toContain(redis.keyspace.connections);
    expect(stored).not.toContain(SIM_TOKEN);
    expect(stored).not.toContain(WRONG_TOKEN);
    expect(stored).not.toContain(Buffer.from(SIM_TOKEN).toString('base64'));
  });
});

describe('cluster registry without KNM_SECRETS_KEY', () => {
  it('answers 503 saying what is needed; the rest of the gateway works', async () => {
    const local = await startGateway(redis);
    try {
      const answer = await httpCall(local.url, '/api/v1/clusters', {
        method: 'POST',
        auth: admin,
        body: JSON.stringify({ name: 'x', kubeconfig: kubeconfig() }),
      });
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ message: expect.stringContaining('KNM_SECRETS_KEY') });
      expect((await httpCall(local.url, '/api/v1/clusters', { auth: viewer })).status).toBe(200);
      const doc = (await httpCall(local.url, '/api/docs-json', { auth: null })).body as {
        paths: Record<string, Record<string, unknown>>;
      };
      expect(Object.keys(doc.paths['/api/v1/clusters'] ?? {})).toEqual(['get', 'post']);
      expect(Object.keys(doc.paths['/api/v1/clusters/{cluster}'] ?? {})).toEqual(['put', 'delete']);
      expect(Object.keys(doc.paths['/api/v1/clusters/test'] ?? {})).toEqual(['post']);
    } finally {
      await local.close();
    }
  });
});
