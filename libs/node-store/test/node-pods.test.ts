import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRedis, waitFor, type TestRedis } from '@knm/testing';
import { toClusterName, type ClusterKeys, type NodePodsResponse } from '@knm/contracts';
import { NodePodsClient, NodePodsResponder, NodeStoreWriter, type NodePodsFetch } from '../src/index.js';

const cluster = toClusterName('dev');

let t: TestRedis;
let keys: ClusterKeys;
let writer: NodeStoreWriter;
let responders: NodePodsResponder[];

beforeEach(async () => {
  t = await createTestRedis();
  keys = t.keyspace.cluster(cluster);
  const epoch = await t.client.incr(keys.epoch);
  writer = new NodeStoreWriter(t.client, t.keyspace, cluster, epoch, 'w');
  responders = [];
});
afterEach(async () => {
  await Promise.all(responders.map((r) => r.stop()));
  await t.close();
});

/** An answer listing one pod per call, numbered, so a test can tell fetches apart. */
function answer(node: string, fetchNo: number): NodePodsResponse {
  return {
    ok: true,
    node,
    fetchedAt: new Date().toISOString(),
    truncated: false,
    usageAvailable: false,
    items: [
      {
        namespace: 'default',
        name: `web-${fetchNo}`,
        uid: `uid-${fetchNo}`,
        phase: 'Running',
        requests: { cpu: 100 },
        limits: {},
        counted: true,
      },
    ],
  };
}

/** A fetch that counts its calls and holds each until `release()` (or answers at once when not held). */
function fetcher(held = false) {
  const calls: string[] = [];
  let running = 0;
  let maxRunning = 0;
  let release: () => void = () => undefined;
  let gate = held ? new Promise<void>((r) => (release = r)) : Promise.resolve();
  const fetch: NodePodsFetch = async (node) => {
    calls.push(node);
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    await gate;
    running -= 1;
    return answer(node, calls.length);
  };
  return {
    fetch,
    calls,
    get maxRunning() {
      return maxRunning;
    },
    release: () => {
      release();
      gate = Promise.resolve();
    },
  };
}

async function startResponder(
  fetch: NodePodsFetch,
  options: ConstructorParameters<typeof NodePodsResponder>[5] = {},
  store: NodeStoreWriter = writer,
): Promise<NodePodsResponder> {
  const responder = new NodePodsResponder(t.connect(), t.keyspace, cluster, store, fetch, options);
  responders.push(responder);
  await responder.start();
  return responder;
}

const client = (timeoutMs = 5_000) => new NodePodsClient(t.client, t.connect(), t.keyspace, { timeoutMs });

describe('node pods: gateway request, leading watcher answer', () => {
  it('asks the leader, serves its answer, then serves the cache without asking again until it expires', async () => {
    const f = fetcher();
    await startResponder(f.fetch, { ttlMs: 300 });
    const gateway = client();
    const first = await gateway.get(cluster, 'node-a');
    expect(first).toMatchObject({
      ok: true,
      node: 'node-a',
      items: [{ name: 'web-1', requests: { cpu: 100 } }],
    });
    expect(await gateway.get(cluster, 'node-a')).toEqual(first);
    expect(f.calls).toEqual(['node-a']);
    expect(await t.client.pttl(keys.nodePodsPrefix + 'node-a')).toBeGreaterThan(0);
    await waitFor(async () => (await t.client.exists(keys.nodePodsPrefix + 'node-a')) === 0, {
      what: 'the cached answer to expire',
    });
    expect(await gateway.get(cluster, 'node-a')).toMatchObject({ ok: true, items: [{ name: 'web-2' }] });
    await gateway.close();
  });

  it('concurrent requests for one node, from two gateways, share one fetch', async () => {
    const f = fetcher(true);
    await startResponder(f.fetch);
    const one = client();
    const two = client();
    const answers = Promise.all([one.get(cluster, 'n'), one.get(cluster, 'n'), two.get(cluster, 'n')]);
    await waitFor(() => f.calls.length === 1, { what: 'the fetch to start' });
    // The second gateway's request reaches the responder while the fetch runs.
    await waitFor(async () => (await t.client.pubsub('NUMSUB', keys.podsReplies))[1] === 2, {
      what: 'both gateways to listen for replies',
    });
    f.release();
    const [a, b, c] = await answers;
    expect(a).toMatchObject({ ok: true, items: [{ name: 'web-1' }] });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(f.calls).toEqual(['n']);
    await Promise.all([one.close(), two.close()]);
  });

  it('runs at most `concurrency` fetches at once and answers every node', async () => {
    const f = fetcher(true);
    await startResponder(f.fetch, { concurrency: 2 });
    const gateway = client();
    const nodes = ['a', 'b', 'c', 'd', 'e'];
    const answers = Promise.all(nodes.map((n) => gateway.get(cluster, n)));
    await waitFor(() => f.calls.length === 2, { what: 'two fetches to start' });
    f.release();
    const got = await answers;
    expect(got.map((r) => r.node)).toEqual(nodes);
    expect(got.every((r) => r.ok)).toBe(true);
    expect([...f.calls].sort()).toEqual(nodes);
    expect(f.maxRunning).toBe(2);
    await gateway.close();
  });

  it('a failed fetch is answered at once as a 502', async () => {
    await startResponder(() => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.1:6443')));
    const gateway = client();
    expect(await gateway.get(cluster, 'x')).toMatchObject({
      ok: false,
      node: 'x',
      status: 502,
      message: expect.stringContaining('ECONNREFUSED') as string,
    });
    await gateway.close();
  });

  it('with no leader (nobody subscribed, or the leader stood by) the answer is a 503 at once', async () => {
    const gateway = client(60_000);
    const started = Date.now();
    expect(await gateway.get(cluster, 'x')).toMatchObject({ ok: false, status: 503 });
    const responder = await startResponder(fetcher().fetch);
    expect(await gateway.get(cluster, 'y')).toMatchObject({ ok: true });
    await responder.stop();
    expect(await gateway.get(cluster, 'z')).toMatchObject({ ok: false, status: 503 });
    expect(Date.now() - started).toBeLessThan(10_000);
    await gateway.close();
  });

  it("a fenced responder's answer is refused: nothing is stored and the gateway times out (504)", async () => {
    const errors: Error[] = [];
    await startResponder(fetcher().fetch, { onError: (e) => errors.push(e) });
    await t.client.incr(keys.epoch); // another watcher took over
    const gateway = client(300);
    expect(await gateway.get(cluster, 'x')).toMatchObject({ ok: false, status: 504 });
    expect(errors.map((e) => e.name)).toEqual(['FencedError']);
    expect(await t.client.exists(keys.nodePodsPrefix + 'x')).toBe(0);
    await gateway.close();
  });

  it('refuses a bad node name and ignores a corrupt cached answer', async () => {
    const gateway = client();
    await expect(gateway.get(cluster, '')).rejects.toThrow(RangeError);
    await t.client.set(keys.nodePodsPrefix + 'x', '{"ok":true}');
    await startResponder(fetcher().fetch);
    expect(await gateway.get(cluster, 'x')).toMatchObject({ ok: true, items: [{ name: 'web-1' }] });
    await gateway.close();
  });
});
