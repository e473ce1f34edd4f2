/**
 * One client of the sync-memory scenario, in its own process (so its heap and RSS
 * are its own). Syncs the simulated cluster, then prints one JSON line and waits for
 * SIGTERM:
 * `{"event":"synced", client, syncMs, cpuMs, pods, heapBytes, rssBytes, indexBytesPerPod?, phases}` (cpuMs:
 * the client process's own CPU time during the sync, all threads; pods: those the client holds; phases:
 * the full watcher's milestones, e.g. `podsListedMs`, `rebuildMs`, or the ceiling's `podsStreamBytes`).
 * Heap = V8 heap used + array buffers after a full GC, minus the same figure taken
 * before the client started; RSS is the whole process's after that GC.
 *
 *   sync-memory-client.ts <client> <kubeconfigPath> <redisUrl> <redisNamespace>
 *   client: knm-watcher | knm-reflector-watch-list | client-node-informer | kube-sim-stream
 *
 * `kube-sim-stream` is the ceiling: the same two WatchList streams the watcher opens
 * (nodes and pods, at once), read with node:http to the initial-events-end bookmark
 * and discarded undecoded (only ADDED frames are counted, by byte search). What it
 * takes is kube-sim's encoding and the socket: no client of that stream can sync faster.
 */
import http from 'node:http';
import https from 'node:https';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CoreV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { Keyspace, projectNode, toClusterName, type KubeNodeLike, type NodeSnapshot } from '@knm/contracts';
import {
  ClusterSync,
  HttpListerWatcher,
  KubeHttpClient,
  PodCountIndex,
  podScan,
  projectPod,
  Reflector,
  type PodRecord,
} from '@knm/kube-reflector';
import { LeaderLease, NodeStoreWriter } from '@knm/node-store';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heap(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const [client, kubeconfigPath, redisUrl, redisNamespace] = process.argv.slice(2);
const kc = new KubeConfig();
kc.loadFromFile(String(kubeconfigPath));

const baseline = heap();
const started = performance.now();
const cpuAtStart = process.cpuUsage();
let pods: number;
let indexBytes: number | undefined;
// What the client holds stays reachable until the process ends (so the GC cannot take it).
let held: unknown;
/** The full watcher's milestones (ms since the start); the ceiling's stream sizes (bytes). */
const phases: Record<string, number> = {};

const kubeHttp = new KubeHttpClient(kc);
const podsLw = new HttpListerWatcher<PodRecord>(kubeHttp, {
  resource: 'pods',
  path: '/api/v1/pods',
  project: projectPod,
  scan: podScan(),
});

if (client === 'knm-reflector-watch-list') {
  const index = new PodCountIndex();
  const reflector = new Reflector(
    podsLw,
    {
      replace: async (items) => index.replace(items),
      apply: async (e) => index.apply(e.type, e.object),
    },
    { initialSync: 'watch-list' },
  );
  reflector.start();
  await reflector.waitForSync();
  index.takeDeltas();
  index.takeAllocation();
  pods = index.size;
  indexBytes = index.byteSize;
  held = { reflector, index };
} else if (client === 'knm-watcher') {
  const redis = new Redis(String(redisUrl));
  const keyspace = new Keyspace(String(redisNamespace));
  const cluster = toClusterName('bench');
  const nodesLw = new HttpListerWatcher<NodeSnapshot>(kubeHttp, {
    resource: 'nodes',
    path: '/api/v1/nodes',
    project: (raw) => projectNode(raw as KubeNodeLike),
  });
  let serving!: () => void;
  const ready = new Promise<void>((r) => (serving = r));
  const sync = new ClusterSync({
    nodes: nodesLw,
    pods: podsLw,
    // As the watcher runs by default (`--initial-sync watch-list`, paged lists where the server refuses it).
    reflector: { initialSync: 'watch-list' },
    observer: {
      onState: (state) => state === 'serving' && serving(),
      // Where the time went (in the synced line): each list handed over, and the Redis write.
      onListed: (resource) => (phases[`${resource}ListedMs`] = Math.round(performance.now() - started)),
      onRebuilt: (info) => (phases['rebuildMs'] = Math.round(info.durationMs)),
    },
  });
  const lease = new LeaderLease(redis, keyspace, cluster, 'bench');
  const epoch = await lease.acquire();
  sync.lead(new NodeStoreWriter(redis, keyspace, cluster, epoch, 'bench'));
  sync.start();
  await ready; // listed AND written to Redis: what "ready" means for a gateway
  pods = sync.podIndex.size;
  indexBytes = sync.podIndex.byteSize;
  held = { sync, lease };
} else if (client === 'client-node-informer') {
  const api = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1Pod>(kc, '/api/v1/pods', () => api.listPodForAllNamespaces());
  await informer.start();
  pods = informer.list().length;
  held = informer;
} else if (client === 'kube-sim-stream') {
  const [nodeStream, podStream] = await Promise.all([
    drainWatchList('/api/v1/nodes'),
    drainWatchList('/api/v1/pods'),
  ]);
  pods = podStream.added;
  phases['nodesStreamBytes'] = nodeStream.bytes;
  phases['podsStreamBytes'] = podStream.bytes;
  // Nothing else would keep this process alive until SIGTERM, as the others are.
  held = setInterval(() => undefined, 60_000);
} else {
  throw new Error(
    `unknown client ${String(client)}; one of knm-watcher, knm-reflector-watch-list, client-node-informer, kube-sim-stream`,
  );
}
const syncMs = performance.now() - started;
const cpu = process.cpuUsage(cpuAtStart);
// Let the list's frames unwind and transient pages go before measuring.
await new Promise((r) => setTimeout(r, 200));
const heapBytes = heap() - baseline;
process.stdout.write(
  `${JSON.stringify({
    event: 'synced',
    client,
    syncMs: Math.round(syncMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1_000),
    pods,
    heapBytes,
    rssBytes: process.memoryUsage().rss,
    indexBytesPerPod: indexBytes === undefined ? undefined : Math.round(indexBytes / Math.max(1, pods)),
    phases,
    held: typeof held,
  })}\n`,
);
process.once('SIGTERM', () => process.exit(0));

/**
 * Reads the WatchList of `path` (as the reflector asks for it) to its
 * initial-events-end bookmark without decoding a byte: resolves with the number of
 * ADDED frames, found by byte search (a match may straddle two chunks), and the bytes read.
 */
async function drainWatchList(path: string): Promise<{ added: number; bytes: number }> {
  const server = kc.getCurrentCluster()?.server ?? '';
  const query =
    'watch=true&allowWatchBookmarks=true&timeoutSeconds=300&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=';
  const url = new URL(`${server.replace(/\/+$/, '')}${path}?${query}`);
  const options: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  const transport = url.protocol === 'http:' ? http : https;
  const added = Buffer.from('{"type":"ADDED"');
  const end = Buffer.from('"k8s.io/initial-events-end"');
  return new Promise((resolve, reject) => {
    const req = transport.request(url, options, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`GET ${path}: HTTP ${res.statusCode}`));
        res.destroy();
        return;
      }
      let count = 0;
      let bytes = 0;
      let tail = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        count += occurrences(chunk, added) + straddling(tail, chunk, added);
        const done = chunk.includes(end) || straddling(tail, chunk, end) > 0;
        tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - end.length + 1)));
        if (done) {
          resolve({ added: count, bytes });
          res.destroy();
        }
      });
      res.once('error', reject);
      res.once('end', () => reject(new Error(`GET ${path}: ended before the initial-events-end bookmark`)));
    });
    req.once('error', reject);
    req.end();
  });
}

function occurrences(haystack: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** Matches of `needle` that start in `tail` (the previous chunk's end) and end in `chunk`. */
function straddling(tail: Buffer, chunk: Buffer, needle: Buffer): number {
  if (tail.length === 0) return 0;
  const head = chunk.subarray(0, needle.length - 1);
  return occurrences(
    Buffer.concat([tail.subarray(Math.max(0, tail.length - (needle.length - 1))), head]),
    needle,
  );
}
