/**
 * Fan-out: envelopes delivered per second to N clients through a knm gateway (real
 * envelopes written by the watcher's writer, Redis pub/sub, the gateway's Redis
 * adapter) vs a bare Socket.IO server broadcasting the same payloads (the ceiling).
 * Both are received by the same client fleet code, in its own processes.
 */
import { Redis } from 'ioredis';
import { Keyspace, toClusterName } from '@knm/contracts';
import { startClientFleet, type ClientFleet } from '@knm/testing';
import { untilFleetAt } from '../harness/fleet-progress.js';
import { startGateways } from '../harness/gateways.js';
import {
  benchNamespace,
  benchWriter,
  deleteNamespace,
  nextJsonLine,
  spawnBenchScript,
  stopAll,
} from '../harness/processes.js';
import { compare, summarize } from '../harness/stats.js';
import type { BenchContext, Scenario, ScenarioResult } from '../harness/types.js';

const CLUSTER = 'fanout';

/**
 * Sends a burst with `publish` (which resolves with the burst's last seq) and returns
 * deliveries per second: clients x envelopes, over the time from the first send until
 * every client's view is at that seq (the gateway may fold a burst into batches for
 * clients that fall behind: they then have every change in fewer messages).
 */
async function burst(fleet: ClientFleet, envelopes: number, publish: () => Promise<number>): Promise<number> {
  const started = performance.now();
  const lastSeq = await publish();
  if (!(await untilFleetAt(fleet, lastSeq, started + 120_000)))
    throw new Error(`fan-out: not every client had the burst after 120 s`);
  return (envelopes * fleet.size) / ((performance.now() - started) / 1000);
}

async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const clients = ctx.quick ? 100 : 1_000;
  const envelopes = ctx.quick ? 200 : 100;
  const countsPerEnvelope = 50;
  const namespace = benchNamespace();
  const keyspace = new Keyspace(namespace);
  const cluster = toClusterName(CLUSTER);
  const redis = new Redis(ctx.redisUrl);
  // Unpaced (KNM_WS_LIVE_RATE=0): every envelope its own message, like the bare server's;
  // pacing would fold the burst's pod counts into a few runs and compare unlike work.
  const gateways = await startGateways(1, ctx.redisUrl, namespace, { KNM_WS_LIVE_RATE: '0' });
  const bare = spawnBenchScript('bare-socketio', 'scenarios/fanout-bare-server.ts', []);
  const token = (gateways.headers['authorization'] ?? '').replace(/^Bearer /, '');
  let fleet: ClientFleet | undefined;
  const ours: number[] = [];
  const baseline: number[] = [];
  let payloadBytes: number;
  let batches: number | undefined;
  try {
    const bareUrl = `http://127.0.0.1:${String((await nextJsonLine(bare, 'bare-ready', 60_000))['port'])}`;
    const writer = await benchWriter(redis, namespace, cluster);
    await writer.register({});
    await writer.rebuild({ nodes: [], podCounts: {}, reason: 'rebuild' });
    await writer.heartbeat();
    const names = Array.from({ length: countsPerEnvelope }, (_, i) => `node-${String(i).padStart(5, '0')}`);
    let sign = 1;
    // One pod-count write per envelope, as the watcher makes them (each node's count moves by one).
    const publishOurs = async (): Promise<number> => {
      let seq = 0;
      for (let i = 0; i < envelopes; i++) {
        seq = await writer.applyPodDeltas(Object.fromEntries(names.map((n) => [n, sign])));
        sign = -sign;
      }
      return seq;
    };

    // 1. knm: writer -> Redis (script + PUBLISH) -> gateway (Redis subscriber) -> clients.
    fleet = startClientFleet({ gatewayUrls: gateways.urls, token, cluster: CLUSTER, clients });
    await fleet.ready(300_000);
    for (let i = -ctx.warmup; i < ctx.runs; i++) {
      const rate = await burst(fleet, envelopes, publishOurs);
      if (i >= 0) ours.push(rate);
      ctx.log(`fanout: knm gateway ${Math.round(rate)} deliveries/s to ${clients} clients`);
    }
    const stats = await fleet.stats();
    const lost = stats.reduce((n, s) => n + s.gaps + s.reloads, 0);
    batches = stats.reduce((n, s) => n + s.batches, 0);
    await fleet.close();
    fleet = undefined;

    // The same payloads, as the gateway sent them, for the bare server.
    const entries = await redis.xrevrange(keyspace.cluster(cluster).events, '+', '-', 'COUNT', envelopes);
    const payloads = entries
      .map(([, fields]) => JSON.parse(fields[1] ?? '{}') as { type?: string; seq: number })
      .filter((e) => e.type === 'pod_counts')
      .reverse();
    payloadBytes = Math.round(
      payloads.reduce((n, e) => n + JSON.stringify(e).length, 0) / Math.max(1, payloads.length),
    );
    let seq = 0;
    const publishBare = async (): Promise<number> => {
      const body = JSON.stringify(payloads.map((e) => ({ ...e, seq: ++seq })));
      const res = await fetch(`${bareUrl}/_bench/broadcast`, { method: 'POST', body });
      if (res.status !== 204) throw new Error(`bare broadcast: HTTP ${res.status}`);
      return seq;
    };

    // 2. The ceiling: a bare socket.io server emitting the same envelopes to the same kind of clients.
    fleet = startClientFleet({ gatewayUrls: [bareUrl], token, cluster: CLUSTER, clients });
    await fleet.ready(300_000);
    for (let i = -ctx.warmup; i < ctx.runs; i++) {
      const rate = await burst(fleet, payloads.length, publishBare);
      if (i >= 0) baseline.push(rate);
      ctx.log(`fanout: bare socket.io ${Math.round(rate)} deliveries/s to ${clients} clients`);
    }
    if (lost > 0) ctx.log(`fanout: ${lost} gaps/reloads on the knm side`);
  } finally {
    await fleet?.close();
    await stopAll([...gateways.procs, bare]);
    redis.disconnect();
    await deleteNamespace(ctx.redisUrl, namespace);
  }
  return {
    scenario: 'fanout',
    title: 'Fan-out: envelopes delivered per second to N clients',
    params: { clients, envelopesPerRun: envelopes, countsPerEnvelope, payloadBytes, runs: ctx.runs },
    comparisons: [
      compare(
        `envelopes delivered/s to ${clients} clients`,
        'higher',
        summarize('deliveries/s', ours),
        'bare socket.io server, same payloads (ceiling)',
        summarize('deliveries/s', baseline),
      ),
    ],
    figures: [],
    charts: [
      {
        id: 'fanout',
        title: `Envelopes delivered per second to ${clients} clients`,
        kind: 'bar',
        xLabel: 'server',
        yLabel: 'deliveries/s',
        series: [
          {
            name: 'median',
            points: [
              { x: 'knm gateway', y: summarize('deliveries/s', ours).median },
              { x: 'bare socket.io', y: summarize('deliveries/s', baseline).median },
            ],
          },
        ],
      },
    ],
    notes: [
      `A run is a burst of ${envelopes} pod_counts envelopes (${countsPerEnvelope} node counts each, ~${payloadBytes} bytes of JSON); deliveries/s = clients x envelopes / (first send -> every client has every envelope). knm: the watcher's NodeStoreWriter writes them one by one (Lua script: hash, seq, stream, PUBLISH) and one gateway process pushes them from its Redis subscription to its sockets. Ceiling: a bare socket.io server (no Redis, no auth, no per-socket bookkeeping; scenarios/fanout-bare-server.ts) emits the same envelopes, as read back from the stream, to a room, ten per event-loop turn. The gateway runs unpaced (\`KNM_WS_LIVE_RATE=0\`): by default a burst this fast would go out as a few folded live batches, which is less work than the bare server's, not the same work.`,
      `knm's clients ack what they applied; one that falls more than 32 KiB behind gets the rest of the burst folded into batches (merged delivery) instead of envelope by envelope: ${batches ?? 0} batches over the knm runs. A delivery counts when the client's view has the envelope's change, however it arrived.`,
      `Both are received by the same ${clients} clients of the libs/testing client fleet (${Math.ceil(clients / 1_000)} process(es) of their own, each client applying every envelope it receives), so the clients cost the same on both sides; gateway, bare server, clients and Redis share the machine's 2 cores, so the clients' CPU bounds both figures.`,
    ],
  };
}

export const fanoutScenario: Scenario = {
  name: 'fanout',
  title: 'Fan-out: envelopes delivered per second to N clients',
  run,
};
