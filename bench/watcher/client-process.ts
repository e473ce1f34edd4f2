/**
 * One client of the watcher benchmark, in its own process. Syncs the simulated
 * cluster's pods (and nodes for the full watcher), then reports, as JSON lines:
 * - `{"event":"synced", syncMs, pods, heapBytes, heapBytesPerPod, indexBytesPerPod?}`
 *   heap = V8 heap used + array buffers after a full GC, minus the baseline taken
 *   before the client started;
 * - `{"event":"burst", events, ms, eventsPerSecond, cpuUsPerEvent, capacityPerCore}` for
 *   each burst of pod events (from its first event until 1 s of silence): the rate
 *   observed (bounded by how fast the simulator emits) and the CPU time the client
 *   spent per event, which gives the rate one core could sustain.
 *
 *   client-process.ts <client> <kubeconfigPath> [redisUrl redisNamespace]
 *   client: knm-reflector-list | knm-reflector-watch-list | knm-watcher | client-node-informer
 */
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
const emit = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

const [client, kubeconfigPath, redisUrl, redisNamespace] = process.argv.slice(2);
const kc = new KubeConfig();
kc.loadFromFile(kubeconfigPath as string);

let events = 0;
let burstStart = 0;
let burstEvents = 0;
let lastEventAt = 0;
let counting = false;
let burstCpu = process.cpuUsage();
const onPodEvent = (): void => {
  events += 1;
  if (!counting) return;
  const now = performance.now();
  if (burstEvents === 0) {
    burstStart = now;
    burstCpu = process.cpuUsage();
  }
  burstEvents += 1;
  lastEventAt = now;
};
setInterval(() => {
  if (burstEvents > 0 && performance.now() - lastEventAt > 1_000) {
    const ms = lastEventAt - burstStart;
    // Process CPU from the first event until the burst was declared over (its idle
    // second costs next to nothing; GC caused by the burst is counted, as it should be).
    const cpu = process.cpuUsage(burstCpu);
    const cpuUsPerEvent = (cpu.user + cpu.system) / burstEvents;
    emit({
      event: 'burst',
      events: burstEvents,
      ms: Math.round(ms),
      eventsPerSecond: Math.round(burstEvents / (Math.max(1, ms) / 1000)),
      cpuUsPerEvent: Math.round(cpuUsPerEvent * 10) / 10,
      // What one core could sustain at that CPU cost per event.
      capacityPerCore: Math.round(1e6 / cpuUsPerEvent),
    });
    burstEvents = 0;
  }
}, 100);

const baseline = heap();
const started = performance.now();
let pods: number;
let indexBytes: number | undefined;
let keep: unknown;

const http = new KubeHttpClient(kc);
const podsLw = new HttpListerWatcher<PodRecord>(http, {
  resource: 'pods',
  path: '/api/v1/pods',
  project: projectPod,
});

if (client === 'knm-reflector-list' || client === 'knm-reflector-watch-list') {
  const index = new PodCountIndex();
  const reflector = new Reflector(
    podsLw,
    {
      replace: async (items) => index.replace(items),
      apply: async (e) => {
        index.apply(e.type, e.object);
        onPodEvent();
      },
    },
    {
      initialSync: client === 'knm-reflector-list' ? 'list' : 'watch-list',
      observer: {
        onWatchStarted: (r, rv) => process.stderr.write(`watch started ${r} @${rv}\n`),
        onWatchEnded: (r, i) => process.stderr.write(`watch ended ${r} ${JSON.stringify(i)}\n`),
        onError: (r, e, ms) => process.stderr.write(`error ${r} ${e.name}: ${e.message} retry in ${ms}\n`),
        onListed: (r, i) => process.stderr.write(`listed ${r} ${JSON.stringify(i)}\n`),
      },
    },
  );
  reflector.start();
  await reflector.waitForSync();
  index.takeDeltas();
  pods = index.size;
  keep = { reflector, index };
  indexBytes = index.byteSize;
} else if (client === 'knm-watcher') {
  const redis = new Redis(redisUrl as string);
  const keyspace = new Keyspace(redisNamespace);
  const cluster = toClusterName('bench');
  const nodesLw = new HttpListerWatcher<NodeSnapshot>(http, {
    resource: 'nodes',
    path: '/api/v1/nodes',
    project: (raw) => projectNode(raw as KubeNodeLike),
  });
  let rebuilt!: () => void;
  const ready = new Promise<void>((r) => (rebuilt = r));
  const sync = new ClusterSync({
    nodes: nodesLw,
    pods: podsLw,
    observer: {
      onEvent: (resource, type) => {
        if (resource === 'pods' && type !== 'BOOKMARK') onPodEvent();
      },
      onRebuilt: () => rebuilt(),
    },
  });
  const lease = new LeaderLease(redis, keyspace, cluster, 'bench');
  const epoch = await lease.acquire();
  sync.lead(new NodeStoreWriter(redis, keyspace, cluster, epoch, 'bench'));
  sync.start();
  await ready; // initial sync = listed AND written to Redis in one swap
  pods = sync.podIndex.size;
  indexBytes = sync.podIndex.byteSize;
  keep = { sync, lease };
} else if (client === 'client-node-informer') {
  const api = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1Pod>(kc, '/api/v1/pods', () => api.listPodForAllNamespaces());
  await informer.start();
  pods = informer.list().length;
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, onPodEvent);
  keep = informer;
} else {
  throw new Error(`unknown client ${String(client)}`);
}
const syncMs = performance.now() - started;
// Let the list's frames unwind and transient pages go before measuring.
await new Promise((r) => setTimeout(r, 200));
const heapBytes = heap() - baseline;
emit({
  event: 'synced',
  client,
  syncMs: Math.round(syncMs),
  pods,
  heapBytes,
  heapBytesPerPod: Math.round(heapBytes / Math.max(1, pods)),
  indexBytesPerPod: indexBytes === undefined ? undefined : Math.round(indexBytes / Math.max(1, pods)),
  events,
  held: typeof keep,
});
counting = true;
process.once('SIGTERM', () => process.exit(0));
