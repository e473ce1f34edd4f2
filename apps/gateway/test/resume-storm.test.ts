import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { RealtimeEvents, type NodeSnapshot, type SubscribeAck } from '@knm/contracts';
import type { NodeStoreWriter } from '@knm/node-store';
import { createTestRedis, makeNodeSnapshot, waitFor, type TestRedis } from '@knm/testing';
import { EnvelopeCollector } from './support/envelope-collector.js';
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

const NODES = 200;
const RESUMERS = 60;

let redis: TestRedis;
let gateway: RunningGateway;
let writer: NodeStoreWriter;
let seededSeq: number;
let viewer: string;
const sockets: Socket[] = [];

const names = Array.from({ length: NODES }, (_, i) => `n-${String(i).padStart(3, '0')}`);

/** Relabels every node once (round `round`): one node_update each. Returns the last seq. */
async function relabelAll(round: number): Promise<number> {
  let seq = 0;
  for (const name of names) {
    const node: NodeSnapshot = makeNodeSnapshot(name, { labels: { round: String(round) } });
    seq = await writer.applyNodeChanges([{ type: 'node_update', node, changes: ['labels'] }]);
  }
  return seq;
}

beforeEach(async () => {
  redis = await createTestRedis();
  ({ writer, seq: seededSeq } = await seedCluster(
    redis,
    'dev',
    names.map((n) => makeNodeSnapshot(n)),
  ));
  viewer = await token();
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  await gateway.close();
  await redis.close();
});

describe('a storm of resumes far behind', () => {
  it('answers every subscribe at once, shares a few batches among the sockets, bounds what is in flight, and leaves every view exact', async () => {
    // A budget of about one batch: the resumes are written one or two at a time.
    gateway = await startGateway(redis, { batchBudgetBytes: 128 * 1024 }, 'gw-storm');
    // A socket that stays subscribed keeps the gateway's log of the cluster from here on.
    const keeper = connectSocket(gateway.url, { token: viewer });
    sockets.push(keeper);
    await connected(keeper);
    await request(keeper, RealtimeEvents.subscribe, { cluster: 'dev' });
    const starts: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      const before = await relabelAll(round);
      starts.push(before - NODES + 1, before - NODES / 2);
    }
    const last = await relabelAll(3);
    const built = await metric(gateway.url, 'knm_gateway_batches_built_total');

    // Sockets that were away, each at its own seq, all resume at once.
    const resumers = Array.from({ length: RESUMERS }, (_, i) => {
      const socket = connectSocket(gateway.url, { token: viewer });
      sockets.push(socket);
      const sinceSeq = starts[i % starts.length] as number;
      const collector = new EnvelopeCollector(socket, { dev: sinceSeq });
      return { socket, sinceSeq, collector, batchesAtAck: -1 };
    });
    await Promise.all(resumers.map((r) => connected(r.socket)));
    await Promise.all(
      resumers.map(async (r) => {
        const ack = await request<SubscribeAck>(r.socket, RealtimeEvents.subscribe, {
          cluster: 'dev',
          sinceSeq: r.sinceSeq,
        });
        expect(ack).toEqual({ ok: true, seq: r.sinceSeq });
        r.batchesAtAck = r.collector.batches.length;
      }),
    );
    // The ack comes before the resume batch: a resume waiting for budget is never mistaken for a lost subscribe.
    expect(resumers.map((r) => r.batchesAtAck)).toEqual(resumers.map(() => 0));

    await waitFor(() => resumers.every((r) => r.collector.at('dev') === last), {
      what: `every resumed socket at seq ${last}`,
      timeout: 30_000,
    });
    for (const r of resumers) {
      expect(r.collector.violations).toEqual([]);
      expect(r.collector.resyncs()).toEqual([]);
      const view = r.collector.view('dev').nodes;
      // Every node changed after every start: each resumed view holds all of them at the last round.
      expect(view.size).toBe(NODES);
      for (const name of names) expect(view.get(name)?.labels).toMatchObject({ round: '3' });
    }
    // Six distinct starts, 60 sockets: a handful of batches built, not one per socket.
    const builtForResumes = (await metric(gateway.url, 'knm_gateway_batches_built_total')) - built;
    expect(builtForResumes).toBeGreaterThan(0);
    expect(builtForResumes).toBeLessThanOrEqual(starts.length);
    // The gauges are sampled every 250 ms: a sample may fall between a release and the
    // round that serves the socket it woke, so wait for one that shows them settled.
    await waitFor(
      async () =>
        (await metric(gateway.url, 'knm_gateway_batch_budget_held_bytes')) === 0 &&
        (await metric(gateway.url, 'knm_gateway_batch_budget_waiting_sockets')) === 0 &&
        (await metric(gateway.url, 'knm_gateway_batch_budget_oldest_wait_seconds')) === 0,
      { what: 'the budget released and no socket waiting once every batch was taken' },
    );
    // The budget held sockets back: they were written a few at a time, not all at once.
    expect(await metric(gateway.url, 'knm_gateway_batch_budget_waits_total')).toBeGreaterThan(0);
  });

  it('reports a socket owed envelopes that waits for budget held by a client that does not ack: the stalled gauge and one log line, until the budget frees up', async () => {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    // A budget smaller than one batch, and a slow-socket timeout past the test.
    gateway = await startGateway(
      redis,
      { batchBudgetBytes: 64 * 1024, slowSocketTimeoutMs: 120_000 },
      'gw-stall',
      logger,
    );
    const last = await relabelAll(0);
    const resume = async (socket: Socket, acks: boolean): Promise<void> => {
      const ask = { cluster: 'dev', sinceSeq: seededSeq, ...(acks ? { parts: true } : {}) };
      expect(await request<SubscribeAck>(socket, RealtimeEvents.subscribe, ask)).toEqual({
        ok: true,
        seq: seededSeq,
      });
    };

    // The holder takes its batch and never acks it: its bytes stay held.
    const holder = connectSocket(gateway.url, { token: viewer });
    sockets.push(holder);
    const held = new EnvelopeCollector(holder, { dev: seededSeq });
    await connected(holder);
    await resume(holder, true);
    await waitFor(() => held.at('dev') === last, { what: 'the holder got its batch' });

    // The waiter takes everything it is sent (nothing is), and is owed every node.
    const waiter = connectSocket(gateway.url, { token: viewer });
    sockets.push(waiter);
    const waited = new EnvelopeCollector(waiter, { dev: seededSeq });
    await connected(waiter);
    await resume(waiter, false);
    await waitFor(async () => (await metric(gateway.url, 'knm_gateway_stalled_sockets')) === 1, {
      what: 'the waiter counted stalled once it was written nothing for 30 s',
      timeout: 45_000,
    });
    expect(waited.batches).toEqual([]);
    const reports = warnings
      .map((line) => JSON.parse(line) as { msg: string; stalled?: number; longest?: Record<string, unknown> })
      .filter((w) => w.msg === 'sockets owed envelopes were written nothing for 30 s');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      stalled: 1,
      longest: { socket: waiter.id, mode: 'merged', lastSeq: seededSeq, budgetWait: { place: 0 } },
      budget: { waiting: 1, head: { socket: waiter.id } },
    });

    // The holder takes its batch: the budget frees up, the waiter gets everything.
    holder.emit(RealtimeEvents.ack, { cluster: 'dev', seq: last });
    await waitFor(() => waited.at('dev') === last, { what: 'the waiter got its batch' });
    expect(waited.violations).toEqual([]);
    await waitFor(async () => (await metric(gateway.url, 'knm_gateway_stalled_sockets')) === 0, {
      what: 'no socket stalled any more',
    });
  }, 90_000);
});
