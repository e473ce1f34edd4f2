import type { Redis } from 'ioredis';
import { toClusterName, type BatchMessage, type Envelope } from '@knm/contracts';
import { startClientFleet, type ClientFleet } from '@knm/testing';
import { untilFleetAt } from '../harness/fleet-progress.js';
import { nextJsonLine, spawnBenchScript, stopAll } from '../harness/processes.js';

/** A stretch of a cluster's events stream: what every client had to receive over it. */
export interface StreamStretch {
  envelopes: Envelope[];
  /** Each envelope's JSON bytes, as stored. */
  sizes: number[];
  /** Their sum: the bytes a client receives when it gets each on its own. */
  bytes: number;
}

/** The envelopes the watcher stored with seq in `(afterSeq, toSeq]` (entry IDs are `<seq>-0`). */
export async function readStretch(
  redis: Redis,
  eventsKey: string,
  afterSeq: number,
  toSeq: number,
): Promise<StreamStretch> {
  if (toSeq <= afterSeq) return { envelopes: [], sizes: [], bytes: 0 };
  const entries = await redis.xrange(eventsKey, `${afterSeq + 1}-0`, `${toSeq}-0`);
  const sizes: number[] = [];
  const envelopes = entries.map(([, fields]) => {
    const json = fields[1] ?? '{}';
    sizes.push(Buffer.byteLength(json));
    return JSON.parse(json) as Envelope;
  });
  return { envelopes, sizes, bytes: sizes.reduce((a, b) => a + b, 0) };
}

/** The stretch's first envelopes, up to the first one that reaches `budget` bytes. */
export function stretchPrefix(stretch: StreamStretch, budget: number): StreamStretch {
  let bytes = 0;
  let n = 0;
  while (n < stretch.envelopes.length && bytes < budget) bytes += stretch.sizes[n++] as number;
  return { envelopes: stretch.envelopes.slice(0, n), sizes: stretch.sizes.slice(0, n), bytes };
}

/** What {@link bareDeliveryCeiling} measured. */
export interface DeliveryCeiling {
  /** Envelope bytes per second each client received, every client included (the slowest one finishes it). */
  bytesPerClientPerSecond: number;
  /** False when some client did not have everything within the time limit (the figure is then an upper bound). */
  finished: boolean;
}

/**
 * How many envelope bytes a second this machine can get to `clients` fleet clients
 * at all: a bare Socket.IO server (no Redis, no auth, no per-socket bookkeeping;
 * fanout-bare-server.ts) broadcasts `stretch` as `batch` messages of `perBatch`
 * envelopes (what a paced gateway sends under churn), as fast as it can, to a fleet
 * of the same size in the same processes; timed from the first send until every
 * client has the last batch. Each client decodes and applies what it gets, as
 * against the gateways. A churn whose bytes per client per second exceed this
 * cannot be delivered live by any server on this machine to these clients.
 */
export async function bareDeliveryCeiling(
  stretch: StreamStretch,
  clients: number,
  perBatch: number,
  cluster: string,
  timeoutMs: number,
): Promise<DeliveryCeiling> {
  const bare = spawnBenchScript('bare-socketio', 'scenarios/fanout-bare-server.ts', []);
  let fleet: ClientFleet | undefined;
  try {
    const url = `http://127.0.0.1:${String((await nextJsonLine(bare, 'bare-ready', 60_000))['port'])}`;
    fleet = startClientFleet({
      gatewayUrls: [url],
      token: 'bare',
      cluster,
      clients,
      processes: Math.max(1, Math.ceil(clients / 1_000)),
    });
    await fleet.ready(600_000);
    // Seqs renumbered from 1: the bare server's snapshot is at 0.
    const batches: BatchMessage[] = [];
    let seq = 0;
    for (let i = 0; i < stretch.envelopes.length; i += perBatch) {
      const envelopes = stretch.envelopes.slice(i, i + perBatch).map((e) => ({ ...e, seq: ++seq }));
      batches.push({
        type: 'batch',
        cluster: toClusterName(cluster),
        fromSeq: seq - envelopes.length,
        seq,
        envelopes,
        live: true,
      });
    }
    const started = performance.now();
    const res = await fetch(`${url}/_bench/broadcast-batches`, {
      method: 'POST',
      body: JSON.stringify(batches),
    });
    if (res.status !== 204) throw new Error(`bare broadcast: HTTP ${res.status}`);
    const finished = await untilFleetAt(fleet, seq, started + timeoutMs);
    return {
      bytesPerClientPerSecond: stretch.bytes / ((performance.now() - started) / 1_000),
      finished,
    };
  } finally {
    await fleet?.close();
    await stopAll([bare]);
  }
}
