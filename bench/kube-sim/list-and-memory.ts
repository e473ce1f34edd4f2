/**
 * kube-sim benchmark: how long a full paginated list of every pod takes over HTTP
 * (limit=500 as kubectl and client-go pagers ask, limit=1000 as the original design
 * did), how many bytes it moves, and what the process holds in memory once the
 * world is loaded.
 *
 *   node --conditions=@knm/source --import tsx bench/kube-sim/list-and-memory.ts [--quick] [--runs N] [--out FILE]
 *
 * Full: 5,000 nodes / 150,000 pods; --quick: 500 / 15,000. Each list is run once to
 * warm up, then `runs` times (default 5); the table shows median, min and max.
 * kube-sim runs in this process, the client in a worker thread (its own heap), and
 * list times include serving, transfer and parsing every page (as a client must, to
 * read `metadata.continue`); one row skips the parsing to show the server's share.
 * Results are printed and written as JSON to bench/results/kube-sim-<date>.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { request, Agent } from 'node:http';
import { cpus, totalmem, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startKubeSim } from '@knm/fake-cluster';

interface Args {
  quick: boolean;
  runs: number;
  out: string | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, runs: 5, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--runs') args.runs = Math.max(1, Number(argv[++i] ?? 5));
    else if (a === '--out') args.out = argv[++i];
    else
      throw new Error(
        `unknown argument ${String(a)}; usage: list-and-memory.ts [--quick] [--runs N] [--out FILE]`,
      );
  }
  return args;
}

/** A real gc() even without --expose-gc, so memory is measured after collection. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

function mb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** GET with no Accept-Encoding (kube-sim does not compress), returning the raw body. */
function get(url: string, token: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

interface ListRun {
  ms: number;
  pages: number;
  items: number;
  bytes: number;
}

/** The `metadata.continue` of a list body without parsing the whole page (metadata precedes items). */
function continueOf(body: Buffer): string | undefined {
  const head = body.toString('utf8', 0, Math.min(body.length, 4096));
  const inHead = /"metadata":\{[^{}]*?"continue":"([^"]*)"/.exec(head);
  if (inHead) return inHead[1] || undefined;
  if (/"metadata":\{[^{}]*\}/.test(head)) return undefined;
  const page = JSON.parse(body.toString('utf8')) as { metadata: { continue?: string } };
  return page.metadata.continue || undefined;
}

/**
 * Lists every pod page by page, like a client-go pager. `parse` decodes each page as a
 * client must; without it only the continue token is read, which isolates the
 * server's share (and the transfer).
 */
async function listAllPods(
  base: string,
  token: string,
  limit: number,
  query = '',
  parse = true,
): Promise<ListRun> {
  const started = performance.now();
  let cont: string | undefined;
  let pages = 0;
  let items = 0;
  let bytes = 0;
  do {
    const params = new URLSearchParams({ limit: String(limit) });
    if (cont) params.set('continue', cont);
    const { status, body } = await get(`${base}/api/v1/pods?${params.toString()}${query}`, token);
    if (status !== 200) throw new Error(`list answered ${status}: ${body.toString('utf8', 0, 300)}`);
    pages++;
    bytes += body.length;
    if (parse) {
      const page = JSON.parse(body.toString('utf8')) as { items: unknown[]; metadata: { continue?: string } };
      items += page.items.length;
      cont = page.metadata.continue || undefined;
    } else {
      cont = continueOf(body); // items are not counted: that would mean parsing
    }
  } while (cont);
  return { ms: performance.now() - started, pages, items, bytes };
}

interface ListResult {
  what: string;
  limit: number;
  pages: number;
  items: number;
  bytes: number;
  bytesPerPod: number;
  runsMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
}

async function measure(
  what: string,
  runs: number,
  once: () => Promise<ListRun>,
  limit: number,
): Promise<ListResult> {
  await once(); // warm-up
  const results: ListRun[] = [];
  for (let i = 0; i < runs; i++) results.push(await once());
  const times = results.map((r) => Math.round(r.ms * 10) / 10);
  const last = results[results.length - 1] as ListRun;
  return {
    what,
    limit,
    pages: last.pages,
    items: last.items,
    bytes: last.bytes,
    bytesPerPod: last.items > 0 ? Math.round(last.bytes / last.items) : 0,
    runsMs: times,
    medianMs: median(times),
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
  };
}

/** What the client worker is asked to do. */
interface ClientJob {
  url: string;
  token: string;
  runs: number;
  /** A worker node, for the single-node fieldSelector list. */
  nodeName: string;
}

/** Every list measurement, run by the client (in its worker). */
async function clientLists(job: ClientJob): Promise<ListResult[]> {
  const { url, token, runs, nodeName } = job;
  const lists: ListResult[] = [];
  for (const limit of [500, 1000]) {
    lists.push(await measure(`all pods, limit=${limit}`, runs, () => listAllPods(url, token, limit), limit));
  }
  lists.push(
    await measure(
      'all pods, limit=500, pages not parsed (server + transfer only)',
      runs,
      () => listAllPods(url, token, 500, '', false),
      500,
    ),
  );
  lists.push(
    await measure(
      `one node's pods (fieldSelector spec.nodeName), limit=500`,
      runs,
      () => listAllPods(url, token, 500, `&fieldSelector=${encodeURIComponent(`spec.nodeName=${nodeName}`)}`),
      500,
    ),
  );
  agent.destroy();
  return lists;
}

/**
 * Runs the client in a worker thread: its own V8 heap, so parsing 320 MB of pages
 * does not make the garbage collector walk kube-sim's heap (a separate client
 * process would not either); both still share the machine's cores.
 */
function runClient(job: ClientJob): Promise<ListResult[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    worker.once('message', (lists: ListResult[]) => resolve(lists));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`client worker exited with ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const size = args.quick ? { nodes: 500, pods: 15_000 } : { nodes: 5_000, pods: 150_000 };
  collectGarbage();
  const baseline = process.memoryUsage();

  const startedAt = performance.now();
  const sim = await startKubeSim({ ...size, seed: 1, clusterName: 'bench', port: 0 });
  const startMs = performance.now() - startedAt;
  try {
    collectGarbage();
    const loaded = process.memoryUsage();
    const memory = {
      heapUsedMB: mb(loaded.heapUsed),
      heapTotalMB: mb(loaded.heapTotal),
      rssMB: mb(loaded.rss),
      externalMB: mb(loaded.external),
      baselineHeapUsedMB: mb(baseline.heapUsed),
      baselineRssMB: mb(baseline.rss),
      heapPerPodBytes: Math.round((loaded.heapUsed - baseline.heapUsed) / size.pods),
    };

    const nodeName = Object.keys(sim.truth().nodes).find((n) => n.includes('-worker-')) ?? '';
    const lists = await runClient({ url: sim.url, token: sim.token, runs: args.runs, nodeName });
    collectGarbage();
    const afterLists = process.memoryUsage();

    const cpu = cpus();
    const result = {
      benchmark: 'kube-sim list-and-memory',
      date: new Date().toISOString(),
      mode: args.quick ? 'quick' : 'full',
      machine: {
        cores: cpu.length,
        cpuModel: cpu[0]?.model ?? 'unknown',
        memoryGB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
        node: process.version,
        platform: `${platform()} ${release()}`,
      },
      world: { ...size, seed: 1 },
      startMs: Math.round(startMs),
      memory: {
        ...memory,
        afterListsHeapUsedMB: mb(afterLists.heapUsed),
        afterListsRssMB: mb(afterLists.rss),
      },
      lists,
      notes: [
        'kube-sim runs in this process; the client runs in a worker thread (own heap, same cores): list times include serving, transfer and parsing every page, except the "not parsed" row.',
        'Bytes are uncompressed JSON bodies (kube-sim does not gzip).',
        `${args.runs} measured runs after one warm-up; median, min and max in ms.`,
      ],
    };

    const table = lists.map((l) => ({
      list: l.what,
      pages: l.pages,
      items: l.items > 0 ? l.items : '-',
      'MB moved': mb(l.bytes),
      'bytes/pod': l.bytesPerPod > 0 ? l.bytesPerPod : '-',
      'median ms': l.medianMs,
      'min ms': l.minMs,
      'max ms': l.maxMs,
    }));
    process.stdout.write(
      `kube-sim ${size.nodes} nodes / ${size.pods} pods on ${result.machine.cores} cores, ${process.version}; ` +
        `started in ${result.startMs} ms; heap ${memory.heapUsedMB} MB, RSS ${memory.rssMB} MB ` +
        `(${memory.heapPerPodBytes} heap bytes per pod)\n`,
    );
    // A table is the point of this script's output.
    console.table(table);

    const here = dirname(fileURLToPath(import.meta.url));
    const out =
      args.out ??
      join(here, '..', 'results', `kube-sim-${result.date.slice(0, 10)}${args.quick ? '-quick' : ''}.json`);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    agent.destroy();
    await sim.close();
  }
}

if (isMainThread) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
} else {
  clientLists(workerData as ClientJob).then(
    (lists) => parentPort?.postMessage(lists),
    (err: unknown) => {
      throw err;
    },
  );
}
