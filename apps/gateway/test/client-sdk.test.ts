import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { IncompatibleGatewayError, connect, exponentialBackoff, type KnmClient } from '@knm/client';
import {
  PROTOCOL_VERSION,
  REALTIME_NAMESPACE,
  type ClusterName,
  type NodeView,
  toNodeView,
} from '@knm/contracts';
import { NodeStoreReader, type ClusterSnapshot, type NodeStoreWriter } from '@knm/node-store';
import { createTestRedis, makeNodeSnapshot, waitFor, type TestRedis } from '@knm/testing';
import { metric, seedCluster, startGateway, token, type RunningGateway } from './support/gateway-harness.js';

let redis: TestRedis;
let gwA: RunningGateway;
let gwB: RunningGateway;
let writer: NodeStoreWriter;
let cluster: ClusterName;
const clients: KnmClient[] = [];
const closers: (() => Promise<void>)[] = [];

function viewOf(snapshot: ClusterSnapshot): NodeView[] {
  const usage = snapshot.usage?.available ? snapshot.usage.nodes : {};
  return [...snapshot.nodes]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((n) => toNodeView(n, snapshot.podCounts[n.name] ?? 0, snapshot.allocation[n.name], usage[n.name]));
}

async function truth(): Promise<{ seq: number; nodes: NodeView[] }> {
  const snapshot = await new NodeStoreReader(redis.client, redis.keyspace).getSnapshot(cluster);
  return { seq: snapshot.seq, nodes: viewOf(snapshot) };
}

/** Random-ish churn: adds, relabels, pod deltas and deletes, `steps` writes. */
async function churn(steps: number, offset: number): Promise<void> {
  for (let i = offset; i < offset + steps; i += 1) {
    const name = `c-${i % 7}`;
    switch (i % 4) {
      case 0:
        await writer.applyNodeChanges([{ type: 'node_add', node: makeNodeSnapshot(`x-${i}`) }]);
        break;
      case 1:
        await writer.applyNodeChanges([
          {
            type: 'node_update',
            node: makeNodeSnapshot(name, { labels: { step: String(i) } }),
            changes: ['labels'],
          },
        ]);
        break;
      case 2:
        // Pods with requests: the counts, the allocation and, now and then, a metrics poll.
        await writer.applyPodDeltas(
          { [name]: 1 + (i % 3) },
          {
            [name]: {
              requests: { cpu: 100 * i, memory: 2 ** 20 * i },
              limits: i % 2 ? { cpu: 200 * i } : {},
            },
          },
        );
        if (i % 3 === 0) {
          await writer.setUsage({
            available: true,
            polledAt: new Date().toISOString(),
            nodes: { [name]: { cpu: i, memory: 2 ** 20 } },
          });
        }
        break;
      case 3:
        await writer.applyNodeChanges([{ type: 'node_delete', name: `x-${i - 3}`, uid: `uid-x-${i - 3}` }]);
        break;
    }
  }
}

beforeEach(async () => {
  redis = await createTestRedis();
  closers.push(() => redis.close());
  const nodes = Array.from({ length: 7 }, (_, i) => makeNodeSnapshot(`c-${i}`));
  ({ writer, cluster } = await seedCluster(redis, 'dev', nodes, { 'c-0': 2 }));
  gwA = await startGateway(redis, {}, 'gw-a');
  gwB = await startGateway(redis, {}, 'gw-b');
  closers.unshift(
    () => gwA.close(),
    () => gwB.close(),
  );
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const close of closers.splice(0)) await close();
});

function client(urls: string[]): KnmClient {
  const c = connect({
    url: urls,
    token: () => token(),
    backoff: exponentialBackoff({ initialMs: 50, maxMs: 500 }),
  });
  clients.push(c);
  return c;
}

describe('client SDK', () => {
  it('loads, follows live changes and equals the stored state', async () => {
    const c = client([gwA.url]);
    const watch = c.watchCluster('dev');
    const seqs: number[] = [];
    watch.on('change', (e) => seqs.push(e.envelope.seq));
    await watch.ready();
    expect(watch.nodes().map((n) => n.name)).toEqual(['c-0', 'c-1', 'c-2', 'c-3', 'c-4', 'c-5', 'c-6']);
    expect(watch.view.status?.status).toBe('ready');
    const start = watch.seq;
    await churn(40, 0);
    const expected = await truth();
    await waitFor(() => watch.seq === expected.seq, { what: `seq ${expected.seq}` });
    expect(watch.nodes()).toEqual(expected.nodes);
    // Every envelope once, in order (a pod write is a pod_counts and an allocation envelope).
    const written = expected.seq - start;
    expect(written).toBeGreaterThan(40);
    expect(seqs).toEqual(Array.from({ length: written }, (_, i) => start + 1 + i));
    expect(watch.stats).toMatchObject({ applied: written, gaps: 0, reloads: 0 });
  });

  it('applies live batches from a paced gateway: equal to the stored state, live throughout, every change event in order', async () => {
    const paced = await startGateway(redis, { liveRate: 5 }, 'gw-paced');
    closers.unshift(() => paced.close());
    const c = client([paced.url]);
    const watch = c.watchCluster('dev');
    const seqs: number[] = [];
    const states: string[] = [];
    watch.on('change', (e) => seqs.push(e.envelope.seq));
    watch.on('state', (s) => states.push(s));
    await watch.ready();
    await churn(80, 0);
    const expected = await truth();
    await waitFor(() => watch.seq === expected.seq, { what: `seq ${expected.seq}` });
    expect(watch.nodes()).toEqual(expected.nodes);
    expect(watch.stats).toMatchObject({ gaps: 0, reloads: 0, duplicates: 0 });
    expect(watch.stats.batches).toBeGreaterThan(0);
    expect(states).not.toContain('waiting');
    // Folded runs skip superseded seqs, never reorder them.
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('reconnects to the other gateway when its gateway closes and resumes with no gap and no duplicate applied', async () => {
    const c = client([gwA.url, gwB.url]);
    const watch = c.watchCluster('dev');
    const seqs: number[] = [];
    watch.on('change', (e) => seqs.push(e.envelope.seq));
    await watch.ready();
    expect(c.gateway).toBe('gw-a');
    const start = watch.seq;
    await churn(20, 0);
    const churned = (await truth()).seq;
    await waitFor(() => watch.seq === churned, { what: `seq ${churned}` });

    let writing = true;
    let offset = 20;
    const background = (async () => {
      while (writing) {
        await churn(1, offset);
        offset += 1;
      }
    })();
    await gwA.close();
    await waitFor(() => c.gateway === 'gw-b' && watch.state === 'live', {
      what: 'live on gw-b',
      timeout: 15_000,
    });
    // The writes go on until a few more changes have reached the client on gw-b.
    const liveFrom = seqs.length;
    await waitFor(() => seqs.length >= liveFrom + 3, { what: 'live changes on gw-b', timeout: 15_000 });
    writing = false;
    await background;

    const expected = await truth();
    await waitFor(() => watch.seq === expected.seq, { what: `seq ${expected.seq}`, timeout: 15_000 });
    expect(watch.nodes()).toEqual(expected.nodes);
    // Live envelopes one by one, and the resume's batch folded (its envelopes keep their own seqs).
    expect(seqs.every((seq, i) => i === 0 || seq > (seqs[i - 1] as number))).toBe(true);
    expect(seqs.slice(0, churned - start)).toEqual(
      Array.from({ length: churned - start }, (_, i) => start + 1 + i),
    );
    expect(watch.stats.gaps).toBe(0);
    expect(watch.stats.reloads).toBe(0);
    expect(watch.stats.resumes).toBeGreaterThanOrEqual(1);
    expect(offset).toBeGreaterThan(20);
  });

  it('resumes through a compressed batch after missing many changes, equal to the stored state', async () => {
    // The handshake waits on the token: the client stays away while the changes are written.
    let gate: Promise<void> = Promise.resolve();
    let open = (): void => undefined;
    const c = connect({
      url: [gwA.url, gwB.url],
      token: async () => {
        await gate;
        return token();
      },
      backoff: exponentialBackoff({ initialMs: 50, maxMs: 500 }),
    });
    clients.push(c);
    const watch = c.watchCluster('dev');
    const reloads: string[] = [];
    watch.on('reload', (e) => reloads.push(e.reason));
    await watch.ready();
    gate = new Promise((resolve) => (open = resolve));
    await gwA.close();
    await waitFor(() => c.state !== 'connected', { what: 'the client disconnected' });
    await writer.applyNodeChanges(
      Array.from({ length: 80 }, (_, i) => ({
        type: 'node_add' as const,
        node: makeNodeSnapshot(`big-${i}`, { labels: { pool: 'blue', rack: `r-${i % 8}` } }),
      })),
    );
    const expected = await truth();
    open();
    await waitFor(() => watch.seq === expected.seq && watch.state === 'live', {
      what: `live at seq ${expected.seq} on gw-b`,
      timeout: 15_000,
    });
    expect(c.gateway).toBe('gw-b');
    expect(watch.nodes()).toEqual(expected.nodes);
    expect(watch.stats.batches).toBe(1);
    expect(watch.stats.gaps).toBe(0);
    expect(reloads).toEqual(['initial']);
    expect(await metric(gwB.url, 'knm_gateway_batch_bytes_total{encoding="deflate"}')).toBeGreaterThan(0);
    expect(await metric(gwB.url, 'knm_gateway_batch_bytes_total{encoding="plain"}')).toBeNaN();
  });

  it('reloads on a resync (rebuild by a new leader) and ends equal to the stored state', async () => {
    const c = client([gwB.url]);
    const watch = c.watchCluster('dev');
    const reloads: string[] = [];
    watch.on('reload', (e) => reloads.push(e.reason));
    await watch.ready();
    const rebuilt = await seedCluster(
      redis,
      'dev',
      [makeNodeSnapshot('fresh-1'), makeNodeSnapshot('fresh-2')],
      {
        'fresh-1': 9,
      },
    );
    writer = rebuilt.writer;
    await churn(4, 1);
    const expected = await truth();
    await waitFor(() => watch.seq === expected.seq && watch.state === 'live', {
      what: `seq ${expected.seq}`,
    });
    expect(watch.nodes()).toEqual(expected.nodes);
    expect(reloads).toEqual(['initial', 'rebuild']);
  });

  it("fails a watch the token does not cover, with the gateway's reason", async () => {
    const c = connect({ url: gwA.url, token: await token({ clusters: ['prod' as never] }) });
    clients.push(c);
    const watch = c.watchCluster('dev');
    await expect(watch.ready()).rejects.toThrow(/does not cover cluster "dev"/);
    expect(watch.state).toBe('failed');
  });

  it('stops with IncompatibleGatewayError when the gateway speaks another protocol version', async () => {
    // A stand-in gateway of an older protocol: the real socket.io server, welcome as version 2 sent it.
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'] });
    io.of(REALTIME_NAMESPACE).on('connection', (socket) =>
      socket.emit('welcome', { protocol: 2, gateway: 'old', sub: 'x' }),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    closers.unshift(() => new Promise<void>((resolve) => void io.close(() => resolve())));
    const port = (http.address() as AddressInfo).port;
    const c = connect({ url: `http://127.0.0.1:${port}`, token: await token() });
    clients.push(c);
    const errors: Error[] = [];
    c.on('error', (err) => errors.push(err));
    const watch = c.watchCluster('dev');
    await expect(watch.ready()).rejects.toThrow(IncompatibleGatewayError);
    await expect(watch.ready()).rejects.toThrow(
      new RegExp(`speaks realtime protocol 2; this client speaks ${PROTOCOL_VERSION}`),
    );
    expect(c.state).toBe('closed');
    expect(errors.some((e) => e instanceof IncompatibleGatewayError)).toBe(true);
  });
});
