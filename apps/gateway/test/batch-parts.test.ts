import { inflateRawSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import {
  RealtimeEvents,
  projectNode,
  type Envelope,
  type KubeNodeLike,
  type NodeSnapshot,
} from '@knm/contracts';
import { connect, exponentialBackoff, type KnmClient } from '@knm/client';
import { generateWorld } from '@knm/fake-cluster';
import {
  createTestRedis,
  startThrottleProxy,
  waitFor,
  type TestRedis,
  type ThrottleProxy,
} from '@knm/testing';
import {
  connectSocket,
  connected,
  metric,
  request,
  seedCluster,
  startGateway,
  token,
  type RunningGateway,
} from './support/gateway-harness.js';

/**
 * Protocol 5's batches in parts, on the wire: a client behind a link that reads 16 KB/s
 * resumes after every node of a 1,200-node cluster changed (kube-sim's node shapes),
 * a batch of about 2.6 MB of JSON and a tenth of that compressed. Sent whole, it would
 * hold the socket (and Socket.IO's pings behind it) for most of ten seconds; in parts,
 * a few seconds of the link are written at a time, the next once those are acked.
 */
const NODES = 1_200;
const LINK = 16 * 1024;
let redis: TestRedis;
let gateway: RunningGateway;
let proxy: ThrottleProxy;
const sockets: Socket[] = [];
const clients: KnmClient[] = [];

beforeEach(async () => {
  redis = await createTestRedis();
  gateway = await startGateway(redis, {}, 'gw-parts');
  proxy = await startThrottleProxy({ targetPort: Number(new URL(gateway.url).port), bytesPerSecond: LINK });
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  for (const c of clients.splice(0)) c.close();
  await proxy?.close();
  await gateway?.close();
  await redis?.close();
});

/** A `batch` as it arrived: its header, its envelopes (inflated), its size on the wire, and when. */
interface Arrival {
  at: number;
  header: Record<string, unknown>;
  envelopes: Envelope[];
  wireBytes: number;
}

/** Collects every batch `socket` gets and acks it at once as the SDK does (a part with its `part`). */
function collect(socket: Socket, cluster: string, ack: boolean): Arrival[] {
  const arrivals: Arrival[] = [];
  socket.on(RealtimeEvents.batch, (raw: Record<string, unknown>) => {
    const at = Date.now();
    const { data, envelopes, ...header } = raw;
    const text = Buffer.isBuffer(data) ? inflateRawSync(data).toString('utf8') : undefined;
    arrivals.push({
      at,
      header,
      envelopes: (text === undefined ? envelopes : JSON.parse(text)) as Envelope[],
      wireBytes: Buffer.isBuffer(data) ? data.length : JSON.stringify(envelopes).length,
    });
    if (!ack) return;
    const seq = header['seq'] as number;
    socket.emit(
      RealtimeEvents.ack,
      header['more'] === true ? { cluster, seq, part: header['part'] } : { cluster, seq },
    );
  });
  return arrivals;
}

/** kube-sim's shapes of `NODES` nodes, and the same with a label added to each. */
function worldNodes(): { nodes: NodeSnapshot[]; relabelled: NodeSnapshot[] } {
  const now = new Date('2026-12-03T12:00:00.000Z');
  const world = generateWorld({ nodes: NODES, pods: 0, seed: 5, clusterName: 'big', now });
  const nodes = world.nodes.map((n) => projectNode(n as KubeNodeLike));
  const relabelled = nodes.map((n) => ({ ...n, labels: { ...n.labels, 'knm.test/wave': '1' } }));
  return { nodes, relabelled };
}

describe('a batch larger than a few seconds of its link', { timeout: 120_000 }, () => {
  it('comes in numbered parts, a few seconds of the link at a time, that add up to the batch; whole to a client that did not ask', async () => {
    const { nodes, relabelled } = worldNodes();
    const seeded = await seedCluster(redis, 'big', nodes);
    const seq = await seeded.writer.applyNodeChanges(
      relabelled.map((node) => ({ type: 'node_update' as const, node, changes: ['labels' as const] })),
    );
    const viewer = await token();

    const slow = connectSocket(proxy.url, { token: viewer });
    sockets.push(slow);
    await connected(slow);
    const parts = collect(slow, 'big', true);
    const ask = { cluster: 'big', sinceSeq: seeded.seq, encoding: 'deflate' };
    const subscribedAt = Date.now();
    expect(await request(slow, RealtimeEvents.subscribe, { ...ask, parts: true })).toEqual({
      ok: true,
      seq: seeded.seq,
    });
    await waitFor(() => parts.some((p) => p.header['more'] === undefined), {
      timeout: 90_000,
      what: 'the last part',
    });

    expect(parts.length).toBeGreaterThanOrEqual(3);
    parts.forEach((p, i) => {
      expect(p.header).toMatchObject({ type: 'batch', cluster: 'big', fromSeq: seeded.seq, seq, part: i });
      expect(p.header['more']).toBe(i < parts.length - 1 ? true : undefined);
      // A few seconds of the link each (1 MiB of JSON, about 50 KiB deflated), never the whole.
      expect(p.wireBytes).toBeLessThanOrEqual(4 * LINK);
    });
    // Nothing waits behind more than a part: the longest a part took to arrive after
    // the one before it (or the subscribe) is a few seconds, not the whole batch's time.
    const gaps = parts.map((p, i) => p.at - (i === 0 ? subscribedAt : (parts[i - 1] as Arrival).at));
    expect(Math.max(...gaps)).toBeLessThan(6_000);
    const total = parts.reduce((n, p) => n + p.wireBytes, 0);
    expect(total).toBeGreaterThan(6 * LINK);

    // Together they are the batch: every node's latest state, once.
    const applied = new Map<string, NodeSnapshot>();
    for (const e of parts.flatMap((p) => p.envelopes)) {
      if (e.type === 'node_add' || e.type === 'node_update') applied.set(e.node, e.data);
    }
    expect(applied.size).toBe(NODES);
    for (const node of relabelled) expect(applied.get(node.name)).toEqual(node);
    expect(await metric(gateway.url, 'knm_gateway_batch_parts_total')).toBe(parts.length);

    // A client that did not ask for parts gets the same resume whole, in one batch.
    const other = connectSocket(gateway.url, { token: viewer });
    sockets.push(other);
    await connected(other);
    const whole = collect(other, 'big', false);
    expect(await request(other, RealtimeEvents.subscribe, ask)).toEqual({ ok: true, seq: seeded.seq });
    await waitFor(() => whole.length === 1, { what: 'the whole resume batch' });
    expect(whole[0]?.header['part']).toBeUndefined();
    expect(whole[0]?.envelopes).toHaveLength(NODES);
    expect(whole[0]?.wireBytes).toBeGreaterThan(3 * LINK);
  });

  it('the SDK resumes through it part by part, exact, with no reload', async () => {
    const { nodes, relabelled } = worldNodes();
    const seeded = await seedCluster(redis, 'big', nodes);
    // The link is fast while the SDK loads the cluster over REST, then reads 16 KB/s.
    proxy.setBytesPerSecond(64 * 1024 * 1024);
    const client = connect({
      url: proxy.url,
      token: await token(),
      backoff: exponentialBackoff({ initialMs: 100, maxMs: 500 }),
    });
    clients.push(client);
    const watch = client.watchCluster('big');
    await watch.ready();
    proxy.setBytesPerSecond(LINK);
    const told: { part?: number; more?: boolean }[] = [];
    watch.on('batch', (b) =>
      told.push({ ...(b.part === undefined ? {} : { part: b.part }), ...(b.more ? { more: true } : {}) }),
    );

    // The gateway goes away; every node changes meanwhile; a gateway comes back at the same address.
    const port = Number(new URL(gateway.url).port);
    await gateway.close();
    await waitFor(() => !client.connected, { what: 'the client noticing the gateway went away' });
    const seq = await seeded.writer.applyNodeChanges(
      relabelled.map((node) => ({ type: 'node_update' as const, node, changes: ['labels' as const] })),
    );
    gateway = await startGateway(redis, { port }, 'gw-parts-2');

    await waitFor(() => watch.seq === seq, { timeout: 90_000, what: 'the resume applied to its last part' });
    expect(told.length).toBeGreaterThanOrEqual(3);
    expect(told.slice(0, -1).every((t, i) => t.part === i && t.more === true)).toBe(true);
    expect(told.at(-1)).toEqual({ part: told.length - 1 });
    expect(watch.nodes().map(({ podCount: _c, podCapacity: _p, resources: _r, ...node }) => node)).toEqual(
      [...relabelled].sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
    expect(watch.stats).toMatchObject({ reloads: 0, gaps: 0, batches: 1, wholeStateBatches: 0 });
  });
});
