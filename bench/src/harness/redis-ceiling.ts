/**
 * The Redis side's ceiling of the watcher's pod-count write: the exact EVALSHA a
 * real NodeStoreWriter sends, run by redis-benchmark (pipelined, so round trips do
 * not count). Shared by the `throughput` and `ingest` scenarios.
 */
import { spawn } from 'node:child_process';
import { URL } from 'node:url';
import { Redis } from 'ioredis';
import { Keyspace, toClusterName } from '@knm/contracts';
import { benchNamespace, benchWriter, deleteNamespace } from './processes.js';
import type { BenchContext } from './types.js';

/** Mean node counts per `pod_counts` envelope among the last 2,000 of the events stream (one envelope per pod write). */
export async function meanPodDeltas(redis: Redis, namespace: string, cluster: string): Promise<number> {
  const stream = new Keyspace(namespace).cluster(toClusterName(cluster)).events;
  const entries = await redis.xrevrange(stream, '+', '-', 'COUNT', 2_000);
  let envelopes = 0;
  let counts = 0;
  for (const [, fields] of entries) {
    const body = fields[1];
    if (body === undefined || !body.includes('"type":"pod_counts"')) continue;
    const envelope = JSON.parse(body) as { data?: { counts?: Record<string, number> } };
    envelopes += 1;
    counts += Object.keys(envelope.data?.counts ?? {}).length;
  }
  return Math.max(1, Math.round(counts / Math.max(1, envelopes)));
}

/**
 * The exact EVALSHA the watcher's writer sends for one pod-count write of `deltas`
 * node deltas (captured from a real NodeStoreWriter on a throw-away namespace, whose
 * fencing epoch it holds), as redis-benchmark arguments.
 */
export async function capturePodWrite(
  redisUrl: string,
  namespace: string,
  nodes: readonly string[],
): Promise<string[]> {
  const redis = new Redis(redisUrl);
  try {
    const writer = await benchWriter(redis, namespace);
    let captured: string[] | undefined;
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = ((command: { name: string; args: unknown[] }, stream?: unknown) => {
      if (command.name.toLowerCase() === 'evalsha')
        captured = ['EVALSHA', ...command.args.map((a) => String(a))];
      return (send as (c: unknown, s?: unknown) => unknown)(command, stream);
    }) as typeof redis.sendCommand;
    // Twice: the first call may go through EVAL (script not cached yet); the second is the steady state.
    for (let i = 0; i < 2; i++) await writer.applyPodDeltas(Object.fromEntries(nodes.map((n) => [n, 1])));
    if (!captured) throw new Error('the writer sent no EVALSHA');
    return captured;
  } finally {
    redis.disconnect();
  }
}

/** Commands redis-benchmark sends per round trip. */
const PIPELINE = 16;

/**
 * requests/s of `command` run `requests` times (rounded up to a whole number of
 * pipelines) by redis-benchmark on one connection, 16 pipelined: what Redis itself
 * can execute, round trips aside (a ceiling).
 */
export function redisBenchmark(
  redisUrl: string,
  command: readonly string[],
  requests: number,
): Promise<number> {
  const url = new URL(redisUrl);
  // redis-benchmark sends whole pipelines, so it finishes more requests than asked when
  // `-n` is not a multiple of `-P`; its 250 ms progress timer then sees no live client
  // and a finished count unequal to `-n`, and aborts ("All clients disconnected") if it
  // fires in the same event-loop turn as the last reply: rare, but common on a busy machine.
  const whole = Math.ceil(requests / PIPELINE) * PIPELINE;
  const args = [
    '-h',
    url.hostname,
    '-p',
    url.port || '6379',
    '-c',
    '1',
    '-P',
    String(PIPELINE),
    '-n',
    String(whole),
    '--csv',
  ];
  if (url.password) args.push('-a', decodeURIComponent(url.password), '--no-auth-warning');
  return new Promise((resolve, reject) => {
    const child = spawn('redis-benchmark', [...args, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', (err) =>
      reject(new Error(`redis-benchmark could not start (apt-get install redis-tools): ${err.message}`)),
    );
    child.once('exit', (code) => {
      // --csv: a header line, then "<test>","<rps>", and six latency columns. The test is
      // the command itself (JSON quotes and all), so the rps is read from the end.
      const line = out.split('\n').find((l) => l.startsWith('"EVALSHA'));
      const fields = line?.match(/"([\d.]+)"/g)?.map((f) => Number(f.slice(1, -1)));
      const rps = fields && fields.length >= 7 ? fields[fields.length - 7] : undefined;
      if (code === 0 && rps !== undefined) resolve(rps);
      else reject(new Error(`redis-benchmark exited ${code}: ${out.slice(-500)}`));
    });
  });
}

/**
 * The ceiling of the Redis side in watch events/s, `ctx.runs` times (after the
 * warm-up): redis-benchmark running the watcher's pod-count EVALSHA with
 * `deltasPerWrite` node deltas, times `eventsPerWrite` (the watcher's batching),
 * on a throw-away namespace.
 */
export async function redisWriteCeiling(
  ctx: BenchContext,
  deltasPerWrite: number,
  eventsPerWrite: number,
): Promise<number[]> {
  const ns = benchNamespace();
  const ceiling: number[] = [];
  try {
    const names = Array.from({ length: deltasPerWrite }, (_, i) => `node-${String(i).padStart(5, '0')}`);
    const command = await capturePodWrite(ctx.redisUrl, ns, names);
    const requests = ctx.quick ? 1_000 : 3_000;
    for (let i = 0; i < ctx.warmup; i++) await redisBenchmark(ctx.redisUrl, command, requests);
    for (let i = 0; i < ctx.runs; i++)
      ceiling.push((await redisBenchmark(ctx.redisUrl, command, requests)) * eventsPerWrite);
  } finally {
    await deleteNamespace(ctx.redisUrl, ns);
  }
  return ceiling;
}
