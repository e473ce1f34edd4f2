/**
 * One client of the sync-memory scenario, in its own process (so its heap and RSS
 * are its own). Syncs the simulated cluster, then prints one JSON line and waits for
 * SIGTERM:
 * `{"event":"synced", client, syncMs, pods, heapBytes, rssBytes, indexBytesPerPod?}` (pods: those the client holds).
 * Heap = V8 heap used + array buffers after a full GC, minus the same figure taken
 * before the client started; RSS is the whole process's after that GC.
 *
 *   sync-memory-client.ts <client> <kubeconfigPath> <redisUrl> <redisNamespace>
 *   client: knm-watcher | knm-reflector-watch-list | client-node-informer
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
let pods: number;
let indexBytes: number | undefined;
// What the client holds stays reachable until the process ends (so the GC cannot take it).
let held: unknown;

const http = new KubeHttpClient(kc);
const podsLw = new HttpListerWatcher<PodRecord>(http, {
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
  const nodesLw = new HttpListerWatcher<NodeSnapshot>(http, {
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
    observer: { onState: (state) => state === 'serving' && serving() },
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
} else {
  throw new Error(
    `unknown client ${String(client)}; one of knm-watcher, knm-reflector-watch-list, client-node-informer`,
  );
}
const syncMs = performance.now() - started;
// Let the list's frames unwind and transient pages go before measuring.
await new Promise((r) => setTimeout(r, 200));
const heapBytes = heap() - baseline;
process.stdout.write(
  `${JSON.stringify({
    event: 'synced',
    client,
    syncMs: Math.round(syncMs),
    pods,
    heapBytes,
    rssBytes: process.memoryUsage().rss,
    indexBytesPerPod: indexBytes === undefined ? undefined : Math.round(indexBytes / Math.max(1, pods)),
    held: typeof held,
  })}\n`,
);
process.once('SIGTERM', () => process.exit(0));
