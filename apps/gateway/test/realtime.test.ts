import { inflateRawSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  RealtimeEvents,
  toClusterName,
  WsPingResponseSchema,
  WsStatsResponseSchema,
  WsTestResponseSchema,
  type NodeSnapshot,
  type SubscribeAck,
} from '@knm/contracts';
import type { NodeStoreWriter } from '@knm/node-store';
import type { Redis } from 'ioredis';
import { createTestRedis, makeNodeSnapshot, waitFor, type TestRedis } from '@knm/testing';
import { REDIS_SUBSCRIBER } from '../src/common/injection-tokens.js';
import { EnvelopeCollector, range } from './support/envelope-collector.js';
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

let redis: TestRedis;
let gwA: RunningGateway;
let gwB: RunningGateway;
let writer: NodeStoreWriter;
let viewer: string;
const sockets: Socket[] = [];
const closers: (() => Promise<void>)[] = [];
const base = [makeNodeSnapshot('n-1'), makeNodeSnapshot('n-2'), makeNodeSnapshot('n-3')];

function open(url: string, auth: Record<string, unknown> | null = { token: viewer }, extra = {}): Socket {
  const socket = connectSocket(url, auth ?? undefined, extra);
  sockets.push(socket);
  return socket;
}

/** The series of sockets that left a replica for `reason`. */
function disconnects(reason: string): string {
  return `knm_gateway_socket_disconnects_total{reason="${reason}"}`;
}

/** Waits until the replica at `url` has counted one socket that left for `reason`. */
async function countedOnce(url: string, reason: string): Promise<void> {
  await waitFor(async () => (await metric(url, disconnects(reason))) === 1, {
    what: `one disconnect counted as ${reason}`,
  });
}

/** Relabels n-1 `count` times: one node_update (labels) envelope each. */
async function relabel(count: number, w: NodeStoreWriter = writer, from = 0): Promise<number> {
  let seq = 0;
  for (let i = from; i < from + count; i += 1) {
    const node: NodeSnapshot = makeNodeSnapshot('n-1', { labels: { step: String(i) } });
    seq = await w.applyNodeChanges([{ type: 'node_update', node, changes: ['labels'] }]);
  }
  return seq;
}

beforeEach(async () => {
  redis = await createTestRedis();
  closers.push(() => redis.close());
  ({ writer } = await seedCluster(redis, 'dev', base, { 'n-1': 4 }));
  await seedCluster(redis, 'prod', [makeNodeSnapshot('p-1')]);
  gwA = await startGateway(redis, {}, 'gw-a');
  gwB = await startGateway(redis, {}, 'gw-b');
  closers.unshift(
    () => gwA.close(),
    () => gwB.close(),
  );
  viewer = await token();
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  for (const close of closers.splice(0)) await close();
});

describe('subscribe and live envelopes across two gateways', () => {
  it('delivers every envelope once, in seq order, to sockets on both gateways', async () => {
    const onA = open(gwA.url);
    const onB = open(gwB.url);
    await Promise.all([connected(onA), connected(onB)]);
    const a = new EnvelopeCollector(onA);
    const b = new EnvelopeCollector(onB);
    expect(await request<SubscribeAck>(onA, RealtimeEvents.subscribe, { cluster: 'dev' })).toEqual({
      ok: true,
      seq: 1,
    });
    expect(await request<SubscribeAck>(onB, RealtimeEvents.subscribe, { cluster: 'dev' })).toEqual({
      ok: true,
      seq: 1,
    });

    await relabel(20);
    await writer.applyPodDeltas({ 'n-2': 3 });
    await writer.applyNodeChanges([{ type: 'node_delete', name: 'n-3', uid: 'uid-n-3' }]);
    await waitFor(() => a.seqs('dev').length >= 22 && b.seqs('dev').length >= 22, {
      what: '22 envelopes on each socket',
    });

    for (const c of [a, b]) {
      expect(c.seqs('dev')).toEqual(range(2, 23));
      expect(c.envelopes[0]).toMatchObject({ type: 'node_update', node: 'n-1', changes: ['labels'] });
      expect(c.envelopes[20]).toMatchObject({ type: 'pod_counts', data: { counts: { 'n-2': 3 } } });
      expect(c.envelopes[21]).toMatchObject({ type: 'node_delete', node: 'n-3' });
    }
  });

  it('one broadcast per envelope to the live sockets; a resuming socket of the same gateway gets one folded batch, then the live ones, in order', async () => {
    await relabel(10);
    const live = open(gwA.url);
    const late = open(gwA.url);
    const other = open(gwA.url);
    await Promise.all([connected(live), connected(late), connected(other)]);
    const l = new EnvelopeCollector(live, { dev: 11 });
    const r = new EnvelopeCollector(late, { dev: 3 });
    const o = new EnvelopeCollector(other);
    expect(await request<SubscribeAck>(live, RealtimeEvents.subscribe, { cluster: 'dev' })).toEqual({
      ok: true,
      seq: 11,
    });
    await request(other, RealtimeEvents.subscribe, { cluster: 'prod' });
    let writing = true;
    const background = (async () => {
      let i = 100;
      while (writing) {
        await relabel(1, writer, i);
        i += 1;
      }
    })();
    await waitFor(() => l.seqs('dev').length >= 3, { what: 'live envelopes before the resume' });
    // `late` resumes from 3 while live envelopes are broadcast to `live`.
    const ack = await request<SubscribeAck>(late, RealtimeEvents.subscribe, { cluster: 'dev', sinceSeq: 3 });
    expect(ack.ok).toBe(true);
    await waitFor(() => r.seqs('dev').length >= 3 && l.seqs('dev').length >= 8, {
      what: 'writes after the resume',
    });
    writing = false;
    await background;
    const last = Number(await redis.client.hget(redis.keyspace.cluster(toClusterName('dev')).meta, 'seq'));
    await waitFor(() => l.at('dev') === last && r.at('dev') === last, {
      what: `seq ${last} on both sockets`,
    });
    expect(l.seqs('dev')).toEqual(range(12, last));
    expect(l.batches).toEqual([]);
    // Every relabel of n-1 since 3 folded into one node_update carrying the latest labels.
    expect(r.batches[0]).toMatchObject({ type: 'batch', cluster: 'dev', fromSeq: 3 });
    expect(r.batches[0]?.envelopes).toHaveLength(1);
    expect(r.batches[0]?.envelopes[0]).toMatchObject({
      type: 'node_update',
      node: 'n-1',
      changes: ['labels'],
    });
    expect(r.view('dev').nodes.get('n-1')).toEqual(l.view('dev').nodes.get('n-1'));
    for (const c of [l, r, o]) expect(c.violations).toEqual([]);
    expect(o.envelopes).toEqual([]);
    expect(l.resyncs()).toEqual([]);
    expect(r.resyncs()).toEqual([]);
  });

  it('sends nothing after unsubscribe, and only the subscribed cluster', async () => {
    const s = open(gwB.url);
    await connected(s);
    const c = new EnvelopeCollector(s);
    await request(s, RealtimeEvents.subscribe, { cluster: 'dev' });
    await relabel(2);
    await waitFor(() => c.seqs('dev').length === 2, { what: '2 envelopes' });
    expect(await request(s, RealtimeEvents.unsubscribe, { cluster: 'dev' })).toEqual({ ok: true });
    await relabel(3, writer, 2);
    // A second socket proves the three envelopes went out; the first must not have them.
    const probe = open(gwB.url);
    await connected(probe);
    const p = new EnvelopeCollector(probe);
    await request(probe, RealtimeEvents.subscribe, { cluster: 'dev', sinceSeq: 3 });
    await waitFor(() => p.batches.length === 1, { what: "the probe's resume batch" });
    expect(p.batches[0]).toMatchObject({ fromSeq: 3, seq: 6 });
    expect(c.seqs('dev')).toEqual([2, 3]);
    expect(c.batches).toEqual([]);
  });
});

describe('paced live delivery', () => {
  it('a cluster changing faster than the live pace reaches live sockets as live batches: in order, exact, never merged', async () => {
    const paced = await startGateway(redis, { liveRate: 5 }, 'gw-paced');
    closers.unshift(() => paced.close());
    const s = open(paced.url);
    await connected(s);
    const c = new EnvelopeCollector(s, { dev: 1 });
    await request(s, RealtimeEvents.subscribe, { cluster: 'dev' });
    // 60 changes as fast as Redis takes them: far past the burst of 10 and 5 a second.
    const last = await relabel(60);
    await waitFor(() => c.at('dev') === last, { what: `seq ${last} on the socket` });

    expect(c.violations).toEqual([]);
    expect(c.resyncs()).toEqual([]);
    // The burst one by one, then runs: far fewer messages than envelopes.
    expect(c.seqs('dev').slice(0, 10)).toEqual(range(2, 11));
    expect(c.batches.length).toBeGreaterThan(0);
    expect(c.envelopes.length + c.batches.length).toBeLessThan(30);
    for (const batch of c.batches) expect(batch).toMatchObject({ cluster: 'dev', live: true });
    // Each run is folded: n-1's relabels in one run are one node_update with the latest labels.
    for (const batch of c.batches) expect(batch.envelopes).toHaveLength(1);
    expect(c.view('dev').nodes.get('n-1')?.labels).toMatchObject({ step: '59' });
    const metrics = await fetch(`${paced.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/knm_gateway_batches_sent_total\{reason="live"\} [1-9]/);
    expect(metrics).not.toMatch(/knm_gateway_batches_sent_total\{reason="merged"\} [1-9]/);
  });
});

describe('replay with sinceSeq', () => {
  it('resumes with one folded batch before the live envelopes, with no gap and no duplicate, while writes go on', async () => {
    await relabel(30);
    await writer.applyPodDeltas({ 'n-2': 2 });
    await writer.applyNodeChanges([{ type: 'node_delete', name: 'n-3', uid: 'uid-n-3' }]);
    const s = open(gwA.url);
    await connected(s);
    const c = new EnvelopeCollector(s, { dev: 5 });
    let writing = true;
    const background = (async () => {
      let i = 100;
      while (writing) {
        await relabel(1, writer, i);
        i += 1;
      }
    })();
    const ack = await request<SubscribeAck>(s, RealtimeEvents.subscribe, { cluster: 'dev', sinceSeq: 5 });
    // The ack comes first, at the client's own seq; the resume batch follows it (a second
    // one may follow while the socket catches up with the writes going on, before it goes live).
    expect(ack).toEqual({ ok: true, seq: 5 });
    await waitFor(() => c.seqs('dev').length >= 5, { what: 'live envelopes after the batches' });
    writing = false;
    await background;
    const last = Number(await redis.client.hget(redis.keyspace.cluster(toClusterName('dev')).meta, 'seq'));
    await waitFor(() => c.at('dev') === last, { what: `seq ${last}` });
    const [batch] = c.batches;
    expect(batch?.fromSeq).toBe(5);
    expect(batch?.envelopes.map((e) => e.type).sort()).toEqual(['node_delete', 'node_update', 'pod_counts']);
    expect(c.seqs('dev')[0]).toBe((c.batches.at(-1)?.seq ?? 0) + 1);
    expect(c.view('dev').nodes.has('n-3')).toBe(false);
    expect(c.view('dev').counts.get('n-2')).toBe(2);
    expect(c.violations).toEqual([]);
    expect(last).toBeGreaterThan(33);
  });

  it('answers with the seq it starts from when nothing was missed', async () => {
    const s = open(gwA.url);
    await connected(s);
    expect(await request(s, RealtimeEvents.subscribe, { cluster: 'dev', sinceSeq: 1 })).toEqual({
      ok: true,
      seq: 1,
    });
  });

  it('sends the whole state as one batch from 0 when the stream no longer reaches back, then live ones', async () => {
    const small = await seedCluster(redis, 'tiny', [makeNodeSnapshot('t-1')], {}, { eventsMaxLen: 10 });
    // Allocation and usage written long before: only the hashes still have them.
    const allocation = { requests: { cpu: 500 }, limits: { cpu: 1_000 } };
    await small.writer.applyPodDeltas({ 't-1': 2 }, { 't-1': allocation });
    const usage = {
      available: true as const,
      polledAt: '2026-12-02T00:00:00Z',
      nodes: { 't-1': { cpu: 7, memory: 9 } },
    };
    await small.writer.setUsage(usage);
    for (let i = 0; i < 300; i += 1) {
      await small.writer.applyNodeChanges([
        {
          type: 'node_update',
          node: makeNodeSnapshot('t-1', { labels: { i: String(i) } }),
          changes: ['labels'],
        },
      ]);
    }
    expect(await redis.client.xlen(redis.keyspace.cluster(small.cluster).events)).toBeLessThan(290);
    const s = open(gwB.url);
    await connected(s);
    const c = new EnvelopeCollector(s, { tiny: 1 });
    const ack = await request<SubscribeAck>(s, RealtimeEvents.subscribe, { cluster: 'tiny', sinceSeq: 1 });
    expect(ack).toEqual({ ok: true, seq: 1 });
    await waitFor(() => c.batches.length === 1, { what: 'the whole-state batch' });
    expect(c.batches[0]).toMatchObject({ fromSeq: 0, seq: 304 });
    const carried = c.batches[0]?.envelopes ?? [];
    expect(carried.find((e) => e.type === 'allocation')?.data).toEqual({ nodes: { 't-1': allocation } });
    expect(carried.find((e) => e.type === 'usage')?.data).toEqual(usage);
    expect(c.view('tiny').nodes.get('t-1')?.labels).toMatchObject({ i: '299' });
    expect(c.resyncs()).toEqual([]);
    await small.writer.applyNodeChanges([
      { type: 'node_update', node: makeNodeSnapshot('t-1', { labels: { i: 'last' } }), changes: ['labels'] },
    ]);
    await waitFor(() => c.seqs('tiny').length === 1, { what: 'live envelope after the batch' });
    expect(c.seqs('tiny')).toEqual([305]);
    expect(c.violations).toEqual([]);
  });

  it('sends the whole state as one batch from 0 when an envelope to replay is corrupt, never skipping it', async () => {
    const before = await relabel(2);
    const keys = redis.keyspace.cluster(toClusterName('dev'));
    await redis.client.xadd(keys.events, `${before + 1}-0`, 'e', `{"seq":${before + 1},"type":"bogus"}`);
    await redis.client.hset(keys.meta, 'seq', String(before + 1));
    const last = await relabel(1, writer, 2);
    expect(last).toBe(before + 2);
    const s = open(gwB.url);
    await connected(s);
    const c = new EnvelopeCollector(s, { dev: before });
    const ack = await request<SubscribeAck>(s, RealtimeEvents.subscribe, {
      cluster: 'dev',
      sinceSeq: before,
    });
    expect(ack).toEqual({ ok: true, seq: before });
    await waitFor(() => c.batches.length === 1, { what: 'the whole-state batch' });
    expect(c.batches[0]).toMatchObject({ fromSeq: 0, seq: last });
    expect(c.view('dev').nodes.get('n-1')?.labels).toMatchObject({ step: '2' });
    expect(c.violations).toEqual([]);
  });

  it('sends resync when sinceSeq is ahead of the cluster (Redis lost its data)', async () => {
    const s = open(gwA.url);
    await connected(s);
    const c = new EnvelopeCollector(s);
    expect(await request(s, RealtimeEvents.subscribe, { cluster: 'dev', sinceSeq: 500 })).toEqual({
      ok: true,
      seq: 1,
    });
    await waitFor(() => c.resyncs().length === 1, { what: 'resync' });
  });
});

describe('compressed batches', () => {
  /** Every `batch` event `socket` receives, as it came (a compressed one with its binary data). */
  function batches(socket: Socket): Record<string, unknown>[] {
    const got: Record<string, unknown>[] = [];
    socket.on(RealtimeEvents.batch, (raw: Record<string, unknown>) => got.push(raw));
    return got;
  }

  it('a subscription that asks for deflate gets a large resume batch compressed, equal to the plain one; a small one plain', async () => {
    const names = Array.from({ length: 120 }, (_, i) => `b-${String(i).padStart(3, '0')}`);
    const big = await seedCluster(
      redis,
      'big',
      names.map((n) => makeNodeSnapshot(n)),
    );
    const relabelled = await big.writer.applyNodeChanges(
      names.map((n) => ({
        type: 'node_update' as const,
        node: makeNodeSnapshot(n, { labels: { 'kubernetes.io/hostname': n, pool: 'blue' } }),
        changes: ['labels' as const],
      })),
    );
    const packed = open(gwA.url);
    const plain = open(gwA.url);
    await Promise.all([connected(packed), connected(plain)]);
    const packedBatches = batches(packed);
    const plainBatches = batches(plain);
    const ask = { cluster: 'big', sinceSeq: big.seq };
    expect(await request(packed, RealtimeEvents.subscribe, { ...ask, encoding: 'deflate' })).toEqual({
      ok: true,
      seq: big.seq,
    });
    expect(await request(plain, RealtimeEvents.subscribe, ask)).toEqual({ ok: true, seq: big.seq });
    await waitFor(() => packedBatches.length === 1 && plainBatches.length === 1, {
      what: 'both resume batches',
    });

    const [compressed] = packedBatches as [Record<string, unknown>];
    const [uncompressed] = plainBatches as [Record<string, unknown>];
    expect(compressed).toMatchObject({
      type: 'batch',
      cluster: 'big',
      fromSeq: big.seq,
      seq: relabelled,
      encoding: 'deflate',
    });
    expect(compressed['envelopes']).toBeUndefined();
    const data = compressed['data'] as Buffer;
    expect(Buffer.isBuffer(data)).toBe(true);
    const envelopes = JSON.parse(inflateRawSync(data).toString('utf8')) as unknown[];
    expect(envelopes).toHaveLength(names.length);
    expect(envelopes).toEqual(uncompressed['envelopes']);
    const plainBytes = JSON.stringify(uncompressed['envelopes']).length;
    expect(data.length * 4).toBeLessThan(plainBytes);
    expect(await metric(gwA.url, 'knm_gateway_batch_bytes_total{encoding="deflate"}')).toBeLessThan(
      plainBytes / 4,
    );
    expect(await metric(gwA.url, 'knm_gateway_batch_bytes_total{encoding="plain"}')).toBeGreaterThan(
      plainBytes,
    );

    // A resume of a few changes stays plain, whatever the subscription asked for.
    const small = open(gwA.url);
    await connected(small);
    const smallBatches = batches(small);
    await big.writer.applyNodeChanges([
      {
        type: 'node_update',
        node: makeNodeSnapshot('b-000', { labels: { pool: 'green' } }),
        changes: ['labels'],
      },
    ]);
    await request(small, RealtimeEvents.subscribe, {
      cluster: 'big',
      sinceSeq: relabelled,
      encoding: 'deflate',
    });
    await waitFor(() => smallBatches.length === 1, { what: 'the small resume batch' });
    expect(smallBatches[0]).toMatchObject({ fromSeq: relabelled });
    expect(smallBatches[0]?.['encoding']).toBeUndefined();
    expect(smallBatches[0]?.['envelopes']).toHaveLength(1);
  });

  it('a large live message (a usage poll of 2,000 nodes) goes compressed, as a live batch, to a subscription that asked for deflate; a small one as its own event', async () => {
    const packed = open(gwA.url);
    const plain = open(gwB.url);
    await Promise.all([connected(packed), connected(plain)]);
    const packedBatches = batches(packed);
    const plainUsage: Record<string, unknown>[] = [];
    plain.on('usage', (e: Record<string, unknown>) => plainUsage.push(e));
    const packedUpdates: Record<string, unknown>[] = [];
    packed.on('node_update', (e: Record<string, unknown>) => packedUpdates.push(e));
    await request(packed, RealtimeEvents.subscribe, { cluster: 'dev', encoding: 'deflate' });
    await request(plain, RealtimeEvents.subscribe, { cluster: 'dev' });

    const nodes = Object.fromEntries(
      Array.from({ length: 2_000 }, (_, i) => [
        `u-${String(i).padStart(4, '0')}`,
        { cpu: (i % 97) / 10, memory: 1_000_000 + i * 4_099 },
      ]),
    );
    const polledAt = new Date().toISOString();
    const seq = await writer.setUsage({ available: true, polledAt, nodes });
    await waitFor(() => packedBatches.length === 1 && plainUsage.length === 1, {
      what: 'the usage poll at both sockets',
    });

    const [usage] = plainUsage as [Record<string, unknown>];
    expect(usage).toMatchObject({ type: 'usage', cluster: 'dev', seq, data: { available: true, nodes } });
    const [batch] = packedBatches as [Record<string, unknown>];
    expect(batch).toMatchObject({
      type: 'batch',
      cluster: 'dev',
      fromSeq: seq - 1,
      seq,
      live: true,
      encoding: 'deflate',
    });
    const data = batch['data'] as Buffer;
    expect(JSON.parse(inflateRawSync(data).toString('utf8'))).toEqual([usage]);
    const plainBytes = JSON.stringify(usage).length;
    expect(data.length * 3).toBeLessThan(plainBytes);
    expect(await metric(gwA.url, 'knm_gateway_live_bytes_total{encoding="deflate"}')).toBeLessThan(
      plainBytes / 3,
    );
    expect(await metric(gwB.url, 'knm_gateway_live_bytes_total{encoding="plain"}')).toBe(plainBytes);

    // A small live change stays its own plain event, whatever the subscription asked for.
    const relabelled = await relabel(1);
    await waitFor(() => packedUpdates.length === 1, { what: 'the node_update' });
    expect(packedUpdates[0]).toMatchObject({ type: 'node_update', seq: relabelled });
    expect(packedBatches).toHaveLength(1);
  });

  it('refuses an encoding it does not know, keeping the connection', async () => {
    const s = open(gwA.url);
    await connected(s);
    const ack = await request<SubscribeAck>(s, RealtimeEvents.subscribe, {
      cluster: 'dev',
      encoding: 'gzip',
    });
    expect(ack).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(s.connected).toBe(true);
  });
});

describe('errors keep the connection up', () => {
  it('answers unknown, forbidden and malformed requests with error acks', async () => {
    const devOnly = await token({ clusters: ['dev' as never] });
    const s = open(gwA.url, { token: devOnly });
    await connected(s);
    const cases: [unknown[], string, RegExp][] = [
      [[{ cluster: 'nope' }], 'forbidden', /does not cover cluster "nope"/],
      [[{ cluster: 'prod' }], 'forbidden', /prod/],
      [[{}], 'bad_request', /cluster/],
      [[{ cluster: 'Bad_Name' }], 'bad_request', /cluster name/],
      [[{ cluster: 'dev', sinceSeq: -1 }], 'bad_request', /sinceSeq/],
      [[{ cluster: 'dev', extra: 1 }], 'bad_request', /extra/],
      [['dev'], 'bad_request', /subscribe message/],
      [[], 'bad_request', /subscribe message/],
    ];
    for (const [args, code, message] of cases) {
      const ack = await request<SubscribeAck>(s, RealtimeEvents.subscribe, ...args);
      expect(ack, JSON.stringify(args)).toMatchObject({ ok: false, error: { code } });
      if (!ack.ok) expect(ack.error.message).toMatch(message);
    }
    const all = open(gwA.url);
    await connected(all);
    expect(await request(all, RealtimeEvents.subscribe, { cluster: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'unknown_cluster', message: 'cluster "nope" is not registered' },
    });
    expect(await request(s, RealtimeEvents.unsubscribe, { nope: true })).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    expect(s.connected).toBe(true);
    expect(await request(s, RealtimeEvents.subscribe, { cluster: 'dev' })).toEqual({ ok: true, seq: 1 });
  });
});

describe('resilience', () => {
  it("catches live sockets up with one batch after the gateway's changes connection reconnects", async () => {
    const s = open(gwA.url);
    await connected(s);
    const c = new EnvelopeCollector(s, { dev: 1 });
    await request(s, RealtimeEvents.subscribe, { cluster: 'dev' });
    await relabel(2);
    await waitFor(() => c.seqs('dev').length === 2, { what: '2 live envelopes' });
    const { connection } = gwA.app.get<{ connection: Redis }>(REDIS_SUBSCRIBER);
    connection.disconnect(true);
    await relabel(5, writer, 2); // published while the subscriber is down or resubscribing
    await waitFor(() => c.at('dev') === 8, { what: 'the 5 missed envelopes', timeout: 15_000 });
    await relabel(1, writer, 7);
    await waitFor(() => c.at('dev') === 9, { what: 'live again' });
    expect(c.view('dev').nodes.get('n-1')?.labels).toMatchObject({ step: '7' });
    expect(c.violations).toEqual([]);
    expect(c.resyncs()).toEqual([]);
  });

  it('disconnects a socket when its token expires', async () => {
    const s = open(gwB.url, { token: await token({}, 2) });
    await connected(s);
    const reason = await new Promise<string>((resolve) => s.once('disconnect', resolve));
    expect(reason).toBe('io server disconnect');
    // The replica counts why its sockets left: this one it closed itself.
    await countedOnce(gwB.url, 'server namespace disconnect');
  });

  it('counts sockets that left by their reason', async () => {
    const s = open(gwA.url);
    await connected(s);
    s.disconnect();
    await countedOnce(gwA.url, 'client namespace disconnect');
    expect(await metric(gwA.url, disconnects('ping timeout'))).toBeNaN();
  });
});

describe('ws stats', () => {
  it('counts clients and subscriptions of both replicas from either', async () => {
    const a1 = open(gwA.url);
    const a2 = open(gwA.url);
    const b1 = open(gwB.url);
    await Promise.all([a1, a2, b1].map(connected));
    await request(a1, RealtimeEvents.subscribe, { cluster: 'dev' });
    await request(a2, RealtimeEvents.subscribe, { cluster: 'dev' });
    await request(b1, RealtimeEvents.subscribe, { cluster: 'dev' });
    await request(b1, RealtimeEvents.subscribe, { cluster: 'prod' });
    for (const gw of [gwA, gwB]) {
      const res = await fetch(`${gw.url}/api/v1/ws/stats`, {
        headers: { authorization: `Bearer ${viewer}` },
      });
      const stats = WsStatsResponseSchema.parse(await res.json());
      expect(stats).toEqual({
        gateways: 2,
        clients: 3,
        subscriptions: { dev: 3, prod: 1 },
        replicas: [
          { gateway: 'gw-a', clients: 2, subscriptions: { dev: 2 } },
          { gateway: 'gw-b', clients: 1, subscriptions: { dev: 1, prod: 1 } },
        ],
      });
    }
  });
});

describe('replay floods', () => {
  it('one socket replaying from 1 over and over gets folded batches and, past 20 subscribes in 10 s, too_many_requests', async () => {
    await relabel(300);
    const s = open(gwA.url);
    await connected(s);
    const c = new EnvelopeCollector(s);
    // Another socket keeps the gateway's log of the cluster while the flood comes and goes.
    const keeper = open(gwA.url);
    await connected(keeper);
    await request(keeper, RealtimeEvents.subscribe, { cluster: 'dev' });
    const built = await metric(gwA.url, 'knm_gateway_batches_built_total');
    const acks: SubscribeAck[] = [];
    for (let i = 0; i < 40; i++) {
      const ack = await request<SubscribeAck>(s, RealtimeEvents.subscribe, { cluster: 'dev', sinceSeq: 1 });
      acks.push(ack);
      // The batch follows the ack; unsubscribing before it comes would spare the gateway the send.
      if (ack.ok) await waitFor(() => c.batches.length === i + 1, { what: `resume batch ${i + 1}` });
      await request(s, RealtimeEvents.unsubscribe, { cluster: 'dev' });
    }
    expect(acks.filter((a) => a.ok)).toHaveLength(20);
    expect(acks.slice(20).every((a) => !a.ok && a.error.code === 'too_many_requests')).toBe(true);
    // 300 envelopes of history, each replay folded to the one node that changed.
    expect(c.batches).toHaveLength(20);
    expect(c.batches.every((b) => b.envelopes.length === 1)).toBe(true);
    // The cluster did not change meanwhile: every replay was sent the batch read for the first.
    expect((await metric(gwA.url, 'knm_gateway_batches_built_total')) - built).toBe(1);
    expect(c.envelopes).toEqual([]);
    expect(s.connected).toBe(true);
  });

  it('one user spreading a flood over many sockets is bounded per user (the count is shared through Redis)', async () => {
    const strict = await startGateway(
      redis,
      { security: { subscribeRateLimit: 12, subscribeRateWindowMs: 60_000 } },
      'gw-sub',
    );
    closers.unshift(() => strict.close());
    const flooder = await token({ sub: 'flooder' });
    const sockets = Array.from({ length: 6 }, () => open(strict.url, { token: flooder }));
    await Promise.all(sockets.map(connected));
    const acks: SubscribeAck[] = [];
    for (const s of sockets) {
      for (let i = 0; i < 3; i++)
        acks.push(await request<SubscribeAck>(s, RealtimeEvents.subscribe, { cluster: 'dev', sinceSeq: 1 }));
    }
    expect(acks.filter((a) => a.ok)).toHaveLength(12);
    expect(acks.filter((a) => !a.ok && a.error.code === 'too_many_requests')).toHaveLength(6);
    // Another user is not affected.
    const other = open(strict.url);
    await connected(other);
    expect(await request(other, RealtimeEvents.subscribe, { cluster: 'dev' })).toMatchObject({ ok: true });
  });
});

describe('realtime endpoints', () => {
  it("ws/ping reports this replica's realtime layer; welcome states the protocol", async () => {
    const s = open(gwA.url);
    const welcome = new Promise<unknown>((resolve) => s.once(RealtimeEvents.welcome, resolve));
    await connected(s);
    expect(await welcome).toEqual({ protocol: PROTOCOL_VERSION, gateway: 'gw-a', sub: 'tester' });
    const res = await fetch(`${gwA.url}/api/v1/ws/ping`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(res.status).toBe(200);
    const ping = WsPingResponseSchema.parse(await res.json());
    expect(ping).toMatchObject({
      ok: true,
      gateway: 'gw-a',
      protocol: PROTOCOL_VERSION,
      changesConnection: 'ready',
    });
    expect(ping.clients).toBeGreaterThanOrEqual(1);
    expect(ping.redisLatencyMs).toBeGreaterThanOrEqual(0);
  });

  it('ws/test reaches the subscribers of a cluster on every replica, and only admins may send it', async () => {
    const sockets = [open(gwA.url), open(gwB.url), open(gwB.url)];
    await Promise.all(sockets.map(connected));
    const heard: string[] = [];
    sockets.forEach((sock, i) =>
      sock.on(RealtimeEvents.test, (message: { message: string }, ack: (a: { ok: boolean }) => void) => {
        heard.push(`${i}:${message.message}`);
        ack({ ok: true });
      }),
    );
    await request(sockets[0] as Socket, RealtimeEvents.subscribe, { cluster: 'dev' });
    await request(sockets[1] as Socket, RealtimeEvents.subscribe, { cluster: 'dev' });
    await request(sockets[2] as Socket, RealtimeEvents.subscribe, { cluster: 'prod' });
    const admin = await token({ role: 'admin' });
    const post = (bearer: string, body: unknown) =>
      fetch(`${gwB.url}/api/v1/ws/test`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const res = await post(admin, { cluster: 'dev', message: 'hello' });
    expect(res.status).toBe(200);
    expect(WsTestResponseSchema.parse(await res.json())).toMatchObject({
      cluster: 'dev',
      gateways: 2,
      subscribers: 2,
      received: 2,
    });
    expect(heard.sort()).toEqual(['0:hello', '1:hello']);
    expect((await post(viewer, { cluster: 'dev' })).status).toBe(403);
    const bad = await post(admin, { cluster: 'dev', timeoutMs: 1 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ message: expect.stringMatching(/timeoutMs/) });
  });
});

describe('slow consumers', () => {
  /** The paused TCP socket under a socket.io-client connection (what a peer that stops reading looks like). */
  function tcpOf(s: Socket): { pause(): void; resume(): void } {
    return (s.io.engine.transport as unknown as { ws: { _socket: { pause(): void; resume(): void } } }).ws
      ._socket;
  }

  it('a client that stops reading is switched to merged delivery: bounded backlog, no resync, no disconnect, exact after it reads again', async () => {
    const strict = await startGateway(
      redis,
      // Unpaced: every envelope is a message, so the paused socket's backlog grows (pacing would fold it).
      { maxBufferedMessages: 20, maxBufferedBytes: 256 * 1024, liveRate: 0 },
      'gw-strict',
    );
    closers.unshift(() => strict.close());
    const s = open(strict.url);
    await connected(s);
    const c = new EnvelopeCollector(s, { dev: 1 });
    let disconnected = false;
    s.on('disconnect', () => (disconnected = true));
    await request(s, RealtimeEvents.subscribe, { cluster: 'dev' });
    const tcp = tcpOf(s);
    tcp.pause();
    const labels = Object.fromEntries(range(1, 200).map((i) => [`big-label-${i}`, 'x'.repeat(60)]));
    const total = 600;
    let maxBacklog = 0;
    for (let i = 0; i < total; i += 50) {
      await writer.applyNodeChanges(
        range(i, i + 49).map((j) => ({
          type: 'node_update' as const,
          node: makeNodeSnapshot('n-2', { labels: { ...labels, j: String(j) } }),
          changes: ['labels' as const],
        })),
      );
      maxBacklog = Math.max(maxBacklog, await metric(strict.url, 'knm_gateway_socket_backlog_bytes_max'));
    }
    await waitFor(async () => (await metric(strict.url, 'knm_gateway_merged_subscriptions')) === 1, {
      what: 'the paused socket in merged delivery',
    });
    maxBacklog = Math.max(maxBacklog, await metric(strict.url, 'knm_gateway_socket_backlog_bytes_max'));
    // Merged: nothing more is queued for it while it does not drain (about 20 envelopes of 13 KB at most).
    expect(maxBacklog).toBeLessThan(512 * 1024);
    const last = Number(await redis.client.hget(redis.keyspace.cluster(toClusterName('dev')).meta, 'seq'));
    tcp.resume();
    await waitFor(() => c.at('dev') === last, { what: `the client at seq ${last}`, timeout: 30_000 });
    expect(c.view('dev').nodes.get('n-2')?.labels['j']).toBe(String(total - 1));
    expect(c.batches.length).toBeGreaterThanOrEqual(1);
    expect(c.seqs('dev').length).toBeLessThan(total);
    expect(c.violations).toEqual([]);
    expect(c.resyncs()).toEqual([]);
    expect(disconnected).toBe(false);
    // Live again once caught up.
    await relabel(1, writer, 1000);
    await waitFor(() => c.seqs('dev').at(-1) === last + 1, { what: 'a live envelope after catching up' });
  });

  it(
    'a socket that drains nothing for the slow-socket timeout is disconnected',
    { timeout: 60_000 },
    async () => {
      const strict = await startGateway(
        redis,
        { maxBufferedMessages: 5, maxBufferedBytes: 64 * 1024, slowSocketTimeoutMs: 1_500, liveRate: 0 },
        'gw-timeout',
      );
      closers.unshift(() => strict.close());
      const s = open(strict.url);
      await connected(s);
      const gone = new Promise<string>((resolve) => s.once('disconnect', resolve));
      await request(s, RealtimeEvents.subscribe, { cluster: 'dev' });
      tcpOf(s).pause();
      const labels = Object.fromEntries(range(1, 200).map((i) => [`big-label-${i}`, 'x'.repeat(60)]));
      const disconnects = () => metric(strict.url, 'knm_gateway_slow_consumer_disconnects_total');
      // Write until the gateway gives the silent socket up (its buffers fill, it goes merged, drains nothing).
      for (let j = 0; (await disconnects()) === 0; j += 20) {
        expect(j, 'the gateway never disconnected the silent socket').toBeLessThan(4_000);
        await writer.applyNodeChanges(
          range(j, j + 19).map((k) => ({
            type: 'node_update' as const,
            node: makeNodeSnapshot('n-2', { labels: { ...labels, j: String(k) } }),
            changes: ['labels' as const],
          })),
        );
      }
      expect(await disconnects()).toBe(1);
      tcpOf(s).resume();
      await expect(gone).resolves.toMatch(/disconnect|close/);
    },
  );
});
