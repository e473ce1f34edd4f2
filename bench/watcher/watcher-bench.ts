/**
 * Watcher benchmark: initial sync time, heap bytes per pod and sustained pod
 * events per second of knm's lean reflector (paged LIST and WatchList), of the
 * full watcher (reflectors + pod index + node cache + Redis writes), and of
 * client-node's stock informer (`makeInformer`), all against the same kube-sim in
 * the same run. The simulator and every client run in separate processes.
 *
 *   node --conditions=@knm/source --import tsx bench/watcher/watcher-bench.ts [--quick] [--bursts N] [--burst-events N] [--clients a,b] [--out FILE]
 *
 * Full: 5,000 nodes / 150,000 pods; --quick: 500 / 15,000. A burst is
 * `POST /_sim/step {events}` (churn: pods created, deleted, moved, completed; nodes
 * flapping, added, removed). Needs a Redis for the full watcher (REDIS_URL, default
 * redis://127.0.0.1:6379; keys under a throw-away namespace, deleted at the end).
 * Prints a table and writes bench/results/watcher-<date>[-quick].json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const CLIENTS = ['knm-reflector-list', 'knm-reflector-watch-list', 'knm-watcher', 'client-node-informer'];

interface Args {
  quick: boolean;
  bursts: number;
  burstEvents: number | undefined;
  clients: string[];
  out: string | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, bursts: 3, burstEvents: undefined, clients: CLIENTS, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--bursts') args.bursts = Math.max(1, Number(argv[++i]));
    else if (a === '--burst-events') args.burstEvents = Math.max(1, Number(argv[++i]));
    else if (a === '--clients') args.clients = String(argv[++i]).split(',');
    else if (a === '--out') args.out = argv[++i];
    else throw new Error(`unknown argument ${String(a)}; see the header of bench/watcher/watcher-bench.ts`);
  }
  return args;
}

/** A child process running a TypeScript file from source, with its stdout as JSON lines. */
class Child {
  readonly proc: ChildProcess;
  private readonly lines: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];
  stderr = '';

  constructor(file: string, args: string[]) {
    this.proc = spawn(
      process.execPath,
      [
        '--max-old-space-size=16384',
        '--conditions=@knm/source',
        '--import',
        'tsx',
        join(HERE, file),
        ...args,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        return;
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.proc.stderr!.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-4_000)));
    this.proc.once('exit', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  async next(
    predicate: (l: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex(predicate);
      if (i >= 0) return this.lines.splice(i, 1)[0] as Record<string, unknown>;
      if (this.proc.exitCode !== null)
        throw new Error(`child exited (${this.proc.exitCode}): ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for a line; stderr: ${this.stderr}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 1_000);
      });
    }
  }

  stop(): Promise<void> {
    return new Promise((r) => {
      if (this.proc.exitCode !== null) return r();
      this.proc.once('exit', () => r());
      this.proc.kill('SIGTERM');
      setTimeout(() => this.proc.kill('SIGKILL'), 5_000).unref();
    });
  }
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

const args = parseArgs(process.argv.slice(2));
const world = args.quick ? { nodes: 500, pods: 15_000 } : { nodes: 5_000, pods: 150_000 };
// A burst's pod events must fit the simulator's per-watch buffer (64 MiB): kube-sim, like the API
// server, drops a consumer that far behind, which would measure the drop, not the throughput.
const burstEvents = args.burstEvents ?? (args.quick ? 1_000 : 2_000);
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const dir = await mkdtemp(join(tmpdir(), 'knm-watcher-bench-'));
const kubeconfigPath = join(dir, 'sim.kubeconfig');

console.log(
  `world: ${world.nodes} nodes / ${world.pods} pods; bursts: ${args.bursts} x step ${burstEvents} churn events`,
);
const sim = new Child('sim-process.ts', [String(world.nodes), String(world.pods), kubeconfigPath]);
const simInfo = (await sim.next((l) => typeof l['url'] === 'string', 600_000)) as {
  url: string;
  token: string;
  startMs: number;
};
console.log(`kube-sim up in ${simInfo.startMs} ms at ${simInfo.url}`);

async function step(events: number): Promise<void> {
  const res = await fetch(`${simInfo.url}/_sim/step`, {
    method: 'POST',
    headers: { authorization: `Bearer ${simInfo.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  if (!res.ok) throw new Error(`step: HTTP ${res.status}`);
}

interface Result {
  client: string;
  syncMs: number;
  pods: number;
  heapBytesPerPod: number;
  indexBytesPerPod?: number;
  bursts: {
    events: number;
    ms: number;
    eventsPerSecond: number;
    cpuUsPerEvent: number;
    capacityPerCore: number;
  }[];
  error?: string;
}
const results: Result[] = [];
const namespace = `knm-bench-${randomBytes(3).toString('hex')}`;
try {
  for (const client of args.clients) {
    const child = new Child('client-process.ts', [client, kubeconfigPath, redisUrl, namespace]);
    try {
      const synced = await child.next((l) => l['event'] === 'synced', 1_800_000);
      const result: Result = {
        client,
        syncMs: Number(synced['syncMs']),
        pods: Number(synced['pods']),
        heapBytesPerPod: Number(synced['heapBytesPerPod']),
        bursts: [],
      };
      if (synced['indexBytesPerPod'] !== undefined)
        result.indexBytesPerPod = Number(synced['indexBytesPerPod']);
      console.log(
        `${client}: synced ${result.pods} pods in ${result.syncMs} ms, ${result.heapBytesPerPod} heap bytes/pod`,
      );
      for (let b = 0; b < args.bursts; b++) {
        await step(burstEvents);
        const burst = await child.next((l) => l['event'] === 'burst', 600_000);
        result.bursts.push(burst as unknown as Result['bursts'][number]);
        console.log(`  burst ${b + 1}: ${JSON.stringify(burst)}`);
      }
      results.push(result);
    } catch (err) {
      results.push({ client, syncMs: NaN, pods: 0, heapBytesPerPod: NaN, bursts: [], error: String(err) });
      console.log(`${client}: FAILED ${String(err)}`);
    } finally {
      await child.stop();
    }
  }
} finally {
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
  const redis = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    if (keys.length) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

const rows = results.map((r) => ({
  client: r.client,
  'initial sync (s)': (r.syncMs / 1000).toFixed(2),
  pods: r.pods,
  'heap B/pod': r.heapBytesPerPod,
  'index B/pod': r.indexBytesPerPod ?? '',
  'events/s observed': r.bursts.length ? Math.round(median(r.bursts.map((b) => b.eventsPerSecond))) : '',
  'CPU µs/event': r.bursts.length ? median(r.bursts.map((b) => b.cpuUsPerEvent)).toFixed(1) : '',
  'events/s per core': r.bursts.length ? Math.round(median(r.bursts.map((b) => b.capacityPerCore))) : '',
}));
console.table(rows);

const date = new Date().toISOString();
const out =
  args.out ??
  join(ROOT, 'bench', 'results', `watcher-${date.slice(0, 10)}${args.quick ? '-quick' : ''}.json`);
await mkdir(dirname(out), { recursive: true });
await writeFile(
  out,
  `${JSON.stringify(
    {
      benchmark: 'watcher initial sync, memory, event throughput',
      date,
      mode: args.quick ? 'quick' : 'full',
      machine: {
        cores: cpus().length,
        cpuModel: cpus()[0]?.model ?? '',
        memoryGB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
        node: process.version,
        platform: `${platform()} ${release()}`,
      },
      world: { ...world, seed: 1 },
      simStartMs: simInfo.startMs,
      burstEvents,
      results,
    },
    null,
    2,
  )}\n`,
);
console.log(`written to ${out}`);
process.exit(0);
