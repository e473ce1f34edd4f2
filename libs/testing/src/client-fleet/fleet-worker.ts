/**
 * A fleet process: runs `clients` {@link FleetClient}s and answers the fleet's
 * commands over the IPC channel. Started by `startClientFleet`, never by hand.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RestClient, exponentialBackoff } from '@knm/client';
import { NodeSlots, type CompactSnapshot, type ViewDigest } from './compact-view.js';
import { SharedUsagePolls, allocationHash, allocationOfResources, usagePollOfList } from './usage-poll.js';
import { FleetClient, zeroCounters, type FleetClientCounters, type FleetClientHost } from './fleet-client.js';
import { ApplyPlans } from './apply-plans.js';
import { ProbeArrivals } from './probe-arrivals.js';
import type {
  FleetClientView,
  FleetCommand,
  FleetProcessConfig,
  FleetProcessStats,
  FleetReply,
} from './protocol.js';

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

const config = JSON.parse(process.env['KNM_FLEET_CONFIG'] ?? '{}') as FleetProcessConfig;
const processIndex = Number(process.env['KNM_FLEET_PROCESS'] ?? 0);
const slots = new NodeSlots();
const usagePolls = new SharedUsagePolls();
const rest = new Map<string, RestClient>();
const inFlight = new Map<string, Promise<CompactSnapshot>>();
const probes = new ProbeArrivals();
let lastError: string | undefined;

/** Snapshot reads are shared: a client joins the read in flight to the same gateway, if any. */
function snapshot(socketUrl: string): Promise<CompactSnapshot> {
  const url = config.restUrls?.[config.urls.indexOf(socketUrl)] ?? socketUrl;
  let pending = inFlight.get(url);
  if (!pending) {
    let client = rest.get(url);
    if (!client) {
      client = new RestClient({ urls: [url], token: config.token });
      rest.set(url, client);
    }
    pending = client
      .listNodes(config.cluster, {}, { maxStaleSeconds: 1 })
      .then((list) => {
        const read: CompactSnapshot = {
          seq: list.seq,
          nodes: list.items.map((n) => ({
            name: n.name,
            resourceVersion: n.resourceVersion,
            podCount: n.podCount,
            allocation: allocationHash(allocationOfResources(n)),
          })),
        };
        const status = list.usage;
        if (status) read.usage = usagePolls.get(status, () => usagePollOfList(status, list.items));
        return read;
      })
      .finally(() => inFlight.delete(url));
    inFlight.set(url, pending);
  }
  return pending;
}

const host: FleetClientHost = {
  slots,
  plans: new ApplyPlans(slots, config.probeLabel),
  backoff: exponentialBackoff({ initialMs: 500, maxMs: 5_000, jitter: 1 }),
  token: config.token,
  cluster: config.cluster,
  probeLabel: config.probeLabel,
  snapshot,
  usagePoll: (usage) => usagePolls.get(usage),
  onProbe(client, node, sentAt, at) {
    probes.record(client - config.firstClient, node, sentAt, at);
  },
  onError(err) {
    lastError = err.message;
  },
};

const clients: FleetClient[] = [];

async function startClients(): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < config.clients) {
      const i = next++;
      const client = new FleetClient(host, config.urls, config.firstClient + i);
      clients.push(client);
      // Pace the start: the next client opens once this one is live (or after 30 s).
      await Promise.race([client.live, new Promise((r) => setTimeout(r, 30_000).unref())]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, config.connectConcurrency) }, worker));
}

function stats(): FleetProcessStats {
  const sum = zeroCounters();
  let live = 0;
  let connected = 0;
  let minSeq = Number.POSITIVE_INFINITY;
  const disconnects: Record<string, number> = {};
  for (const c of clients) {
    minSeq = Math.min(minSeq, c.view.seq);
    for (const k of Object.keys(sum) as (keyof FleetClientCounters)[]) sum[k] += c.counters[k];
    for (const [reason, n] of c.disconnects) disconnects[reason] = (disconnects[reason] ?? 0) + n;
    if (c.state === 'live') live += 1;
    if (c.state === 'live' || c.state === 'subscribing' || c.state === 'loading') connected += 1;
  }
  return {
    process: processIndex,
    pid: process.pid,
    clients: config.clients,
    live,
    connected,
    minSeq: Number.isFinite(minSeq) ? minSeq : 0,
    ...sum,
    disconnects,
    ...(lastError === undefined ? {} : { lastError }),
  };
}

/** Digests of every client, with its state; clients with the same raw view share one digest computation. */
function views(): FleetClientView[] {
  const cache = new Map<string, ViewDigest>();
  return clients.map((c) => {
    const key = c.view.rawKey();
    let digest = cache.get(key);
    if (!digest) {
      digest = c.view.digest();
      cache.set(key, digest);
    }
    return {
      ...digest,
      state: c.state,
      socketId: c.socketId,
      quietMs: Math.round(c.quietMs),
      reconnects: c.counters.reconnects,
    };
  });
}

function handle(command: FleetCommand): unknown {
  switch (command.cmd) {
    case 'stats':
      return stats();
    case 'resetProbes':
      probes.reset();
      return null;
    case 'probeDeliveries':
      return probes.deliveries(command.probes, config.clients);
    case 'views':
      return views();
    case 'fullView': {
      const client = clients[command.client];
      if (!client) throw new RangeError(`no client ${command.client} in process ${processIndex}`);
      return client.view.full();
    }
    case 'memory': {
      if (command.afterGc) fullGc();
      const m = process.memoryUsage();
      return { rssBytes: m.rss, heapUsedBytes: m.heapUsed };
    }
    case 'close':
      for (const c of clients) c.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (raw: FleetCommand) => {
  let reply: FleetReply;
  try {
    reply = { id: raw.id, result: handle(raw) };
  } catch (err) {
    reply = { id: raw.id, error: (err as Error).message };
  }
  process.send?.(reply);
});
process.once('disconnect', () => process.exit(0));
process.once('SIGTERM', () => {
  for (const c of clients) c.close();
  process.exit(0);
});

void startClients();
