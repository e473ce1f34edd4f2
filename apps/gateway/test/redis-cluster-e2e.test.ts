import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { pino } from 'pino';
import type { Socket } from 'socket.io-client';
import { connect, exponentialBackoff, type KnmClient } from '@knm/client';
import {
  Keyspace,
  NodeResponseSchema,
  RealtimeEvents,
  toClusterName,
  WsStatsResponseSchema,
  type Envelope,
} from '@knm/contracts';
import { createRedisConnection, NodeStoreWriter, type RedisClient } from '@knm/node-store';
import {
  gatewayUrl,
  makeNodeSnapshot,
  redisServerSuiteRuns,
  requireRedisServer,
  spawnApp,
  spawnTestGateway,
  startRedisCluster,
  waitFor,
  type LocalRedisCluster,
  type ManagedProcess,
} from '@knm/testing';
import { createGatewayApp } from '../src/app/gateway-app.js';
import { EnvelopeCollector } from './support/envelope-collector.js';
import { connectSocket, connected, request, SECRET, token } from './support/gateway-harness.js';
import { finished, postOperation, ProgressCollector } from './support/operations-harness.js';
import { startSim, type SimHandle } from './support/sim-harness.js';

// The whole system on a real 3-master Redis Cluster, every process given only
// `--redis redis+cluster://127.0.0.1:<p1>,...`: kube-sim (in-process, one per knm
// cluster) -> a watcher process per cluster (writer + operations worker) -> Redis
// Cluster -> two gateway processes -> an SDK client and socket.io clients.
const NAMESPACE = 'knm';
const CANDIDATES = ['dev', 'prod', 'staging', 'edge', 'lab'];

let rc: LocalRedisCluster | undefined;
let admin: Cluster;
let names: [string, string];
const sims = new Map<string, SimHandle>();
const procs: ManagedProcess[] = [];
const gateways: { name: string; url: string; proc: ManagedProcess }[] = [];
const sockets: Socket[] = [];
const clients: KnmClient[] = [];

/** The port of the master that owns `key`'s slot. */
async function ownerPort(key: string): Promise<number> {
  const slot = Number(await admin.cluster('KEYSLOT', key));
  const ranges = await admin.cluster('SLOTS');
  const owner = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
  if (!owner) throw new Error(`no master owns slot ${slot}`);
  return owner[1];
}

function spawnWatcher(cluster: string, url: string): ManagedProcess {
  const sim = sims.get(cluster);
  if (!sim) throw new Error(`no sim for ${cluster}`);
  return spawnApp(
    'watcher',
    [
      ...['--cluster', cluster, '--kubeconfig', sim.kubeconfigPath, '--redis', url],
      ...['--namespace', NAMESPACE, '--metrics-port', '0', '--metrics-host', '127.0.0.1'],
      ...['--lease-ttl-ms', '2000', '--heartbeat-ms', '500'],
    ],
    { name: `watcher-${cluster}`, env: { KNM_OPS_LOCK_MS: '5000', KNM_OPS_STALLED_INTERVAL_MS: '2000' } },
  );
}

async function spawnGateway(name: string, url: string): Promise<{ name: string; url: string }> {
  const proc = spawnTestGateway({
    redis: { url, namespace: NAMESPACE },
    jwtSecret: SECRET,
    name,
    env: { KNM_GATEWAY_ID: name },
  });
  procs.push(proc);
  const gw = { name, url: await gatewayUrl(proc, 90_000), proc };
  gateways.push(gw);
  return gw;
}

async function get(url: string, auth: string): Promise<unknown> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${auth}` } });
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/** A label change made through the kube-sim API (a JSON merge patch, as any client would). */
async function patchLabel(cluster: string, node: string, key: string, value: string): Promise<void> {
  const sim = sims.get(cluster);
  if (!sim) throw new Error(`no sim for ${cluster}`);
  const res = await fetch(`${sim.sim.url}/api/v1/nodes/${node}`, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${sim.sim.token}`,
      'content-type': 'application/merge-patch+json',
    },
    body: JSON.stringify({ metadata: { labels: { [key]: value } } }),
  });
  if (res.status !== 200) throw new Error(`PATCH node ${node}: HTTP ${res.status} ${await res.text()}`);
}

function workerNodes(cluster: string): string[] {
  const sim = sims.get(cluster);
  return Object.keys(sim?.sim.truth().nodes ?? {})
    .filter((n) => n.includes('-worker-'))
    .sort();
}

describe.skipIf(!redisServerSuiteRuns())(
  'knm on a Redis Cluster (3 real redis-server masters; outside CI skipped when no redis-server binary is on PATH)',
  { timeout: 240_000 },
  () => {
    let gwA: { name: string; url: string };
    let gwB: { name: string; url: string };

    beforeAll(async () => {
      rc = await startRedisCluster(3);
      admin = rc.connect();
      // Two knm clusters whose hash tags land on different masters.
      const owners = new Map<string, number>();
      for (const c of CANDIDATES) owners.set(c, await ownerPort(`${NAMESPACE}:{${c}}:meta`));
      const first = CANDIDATES[0] as string;
      const second = CANDIDATES.find((c) => owners.get(c) !== owners.get(first));
      if (!second) throw new Error('no two candidate clusters on different masters');
      names = [first, second];
      for (const name of names) {
        sims.set(name, await startSim({ nodes: 8, pods: 40, seed: 11, clusterName: name }));
      }
      const watchers = names.map((name) => spawnWatcher(name, rc?.url ?? ''));
      procs.push(...watchers);
      await Promise.all(
        watchers.map(async (w) => {
          await w.waitForOutput(/"msg":"watcher ready"/, 120_000);
          await w.waitForOutput(/"msg":"operations worker ready"/, 120_000);
        }),
      );
      gwA = await spawnGateway('gw-a', rc.url);
      gwB = await spawnGateway('gw-b', rc.url);
    }, 240_000);

    afterAll(async () => {
      for (const s of sockets.splice(0)) s.disconnect();
      for (const c of clients.splice(0)) c.close();
      await Promise.all(procs.splice(0).map((p) => p.stop('SIGTERM', 10_000)));
      for (const sim of sims.values()) await sim.close();
      sims.clear();
      await rc?.close();
    }, 60_000);

    // A test, not a hook: in CI a missing redis-server counts as a failure in the summary, not as skips.
    it('redis-server is installed (.ci/run installs it)', () => requireRedisServer());

    it('the two knm clusters live on different masters, every process said it uses the cluster URL, and the change feed is sharded', async () => {
      const [one, two] = names;
      expect(await ownerPort(`${NAMESPACE}:{${one}}:nodes`)).not.toBe(
        await ownerPort(`${NAMESPACE}:{${two}}:nodes`),
      );
      for (const gw of gateways) {
        expect(gw.proc.output()).toMatch(/"changesPubSub":"sharded"/);
        expect(gw.proc.output()).toMatch(/"socketIoAdapter":"sharded"/);
      }
      // Both gateways hold a sharded subscription to each cluster's changes channel, on the master that owns it.
      for (const name of names) {
        const channel = `${NAMESPACE}:{${name}}:changes`;
        const port = await ownerPort(channel);
        const node = admin.nodes('master').find((n) => n.options.port === port);
        if (!node) throw new Error(`no master on port ${port}`);
        const viewer = await token();
        // Subscriptions are made on demand: a subscribed socket on each gateway makes them.
        for (const gw of [gwA, gwB]) {
          const s = connectSocket(gw.url, { token: viewer });
          sockets.push(s);
          await connected(s);
          expect(await request(s, RealtimeEvents.subscribe, { cluster: name })).toMatchObject({ ok: true });
        }
        const counts = (await node.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
        expect(counts[1]).toBe(2);
      }
    });

    it('an SDK client on gateway B sees a label change made through the kube-sim API, in both clusters; REST on gateway A returns the new state', async () => {
      const viewer = await token();
      const client = connect({
        url: [gwB.url, gwA.url],
        token: viewer,
        backoff: exponentialBackoff({ initialMs: 50, maxMs: 500 }),
      });
      clients.push(client);
      for (const [i, name] of names.entries()) {
        const watch = client.watchCluster(name);
        const seen: Envelope[] = [];
        watch.on('change', ({ envelope }) => seen.push(envelope));
        await watch.ready();
        expect(watch.nodes().map((n) => n.name)).toEqual(
          Object.keys(sims.get(name)?.sim.truth().nodes ?? {}).sort(),
        );
        const node = workerNodes(name)[i] as string;
        await patchLabel(name, node, 'knm.test/redis-cluster', `yes-${name}`);
        const event = await waitFor(
          () =>
            seen.find(
              (e) =>
                e.type === 'node_update' &&
                e.node === node &&
                e.data.labels['knm.test/redis-cluster'] === `yes-${name}`,
            ),
          { what: `the label envelope of ${name} on gateway B`, timeout: 30_000 },
        );
        expect(event.type === 'node_update' && event.changes).toEqual(['labels']);
        expect(watch.nodes().find((n) => n.name === node)?.labels['knm.test/redis-cluster']).toBe(
          `yes-${name}`,
        );
        const rest = NodeResponseSchema.parse(
          await get(`${gwA.url}/api/v1/clusters/${name}/nodes/${node}`, viewer),
        );
        expect(rest.node.labels['knm.test/redis-cluster']).toBe(`yes-${name}`);
        expect(rest.seq).toBeGreaterThanOrEqual(event.seq);
      }
      expect(client.gateway).toBe('gw-b');
    });

    it('a label operation posted to gateway A completes on each cluster; its progress reaches a socket on gateway B; kube-sim holds the label', async () => {
      for (const name of names) {
        const operator = await token({ sub: 'olga', role: 'operator', clusters: [toClusterName(name)] });
        const watcherSocket = connectSocket(gwB.url, { token: await token({ sub: 'vera' }) });
        sockets.push(watcherSocket);
        await connected(watcherSocket);
        const envelopes = new EnvelopeCollector(watcherSocket);
        const progress = new ProgressCollector(watcherSocket);
        expect(await request(watcherSocket, RealtimeEvents.subscribe, { cluster: name })).toMatchObject({
          ok: true,
        });
        const chosen = workerNodes(name).slice(2, 4);
        const op = await postOperation(gwA.url, operator, name, {
          action: 'label',
          nodes: chosen,
          params: { labels: { 'knm.io/pool': `blue-${name}` } },
        });
        const done = await finished(gwA.url, operator, op.id, 90_000);
        expect(done.state).toBe('completed');
        expect(done.progress).toEqual({ done: 2, total: 2 });
        for (const n of chosen) {
          expect(sims.get(name)?.sim.truth().nodes[n]?.labels['knm.io/pool']).toBe(`blue-${name}`);
        }
        await waitFor(() => progress.of(op.id).some((o) => o.state === 'completed'), {
          what: `the completed progress of ${name}'s operation on gateway B`,
          timeout: 30_000,
        });
        await waitFor(
          () =>
            chosen.every((n) =>
              envelopes.envelopes.some(
                (e) =>
                  e.type === 'node_update' && e.node === n && e.data.labels['knm.io/pool'] === `blue-${name}`,
              ),
            ),
          { what: `node_updates of ${name}'s labelled nodes on gateway B`, timeout: 30_000 },
        );
      }
    });

    it('the Socket.IO adapter spans both gateway processes on the cluster: ws stats from either count both', async () => {
      const viewer = await token();
      for (const s of sockets.splice(0)) s.disconnect();
      for (const c of clients.splice(0)) c.close();
      const a = connectSocket(gwA.url, { token: viewer });
      const b = connectSocket(gwB.url, { token: viewer });
      sockets.push(a, b);
      await Promise.all([a, b].map(connected));
      const [one, two] = names;
      await request(a, RealtimeEvents.subscribe, { cluster: one });
      await request(b, RealtimeEvents.subscribe, { cluster: one });
      await request(b, RealtimeEvents.subscribe, { cluster: two });
      for (const gw of [gwA, gwB]) {
        const stats = await waitFor(
          async () => {
            const s = WsStatsResponseSchema.parse(await get(`${gw.url}/api/v1/ws/stats`, viewer));
            // Sockets of the previous tests are closed: wait until their gateways counted them out.
            return s.gateways === 2 && s.clients === 2 ? s : undefined;
          },
          { what: `ws stats from ${gw.name}`, timeout: 20_000 },
        );
        // A replica may keep a cluster it no longer serves with 0 subscriptions.
        const live = (r: Record<string, number>) =>
          Object.fromEntries(Object.entries(r).filter(([, n]) => n > 0));
        expect(stats.replicas.map((r) => ({ ...r, subscriptions: live(r.subscriptions) }))).toEqual([
          { gateway: 'gw-a', clients: 1, subscriptions: { [one as string]: 1 } },
          { gateway: 'gw-b', clients: 1, subscriptions: { [one as string]: 1, [two as string]: 1 } },
        ]);
        expect(live(stats.subscriptions)).toEqual({ [one as string]: 2, [two as string]: 1 });
      }
    });

    // Last: it kills pub/sub connections on one master (every process recovers, but later tests would race it).
    it('a gateway whose sharded subscriber connection to one master drops catches its sockets up from the stream: no envelope lost, no resync', async () => {
      const keyspace = new Keyspace('knmk');
      const cluster = toClusterName(names[0]);
      const commands: RedisClient = createRedisConnection(rc?.url ?? '', 'commands');
      const epoch = await commands.incr(keyspace.cluster(cluster).epoch);
      const writer = new NodeStoreWriter(commands, keyspace, cluster, epoch, 'test-writer', {
        pubsub: 'sharded',
      });
      await writer.register({ server: 'https://kube.example' });
      const nodes = ['n-0', 'n-1', 'n-2', 'n-3', 'n-4'].map((n) => makeNodeSnapshot(n));
      expect(await writer.rebuild({ nodes, podCounts: {}, reason: 'rebuild' })).toBe(1);
      await writer.heartbeat();
      const app = await createGatewayApp(
        {
          port: 0,
          host: '127.0.0.1',
          redisUrl: rc?.url ?? '',
          redisNamespace: 'knmk',
          jwtSecret: SECRET,
          corsOrigins: [],
          staleAfterMs: 15_000,
          transports: ['websocket'],
          maxBufferedMessages: 256,
          maxBufferedBytes: 1024 * 1024,
          slowSocketTimeoutMs: 60_000,
          maxUnackedBytes: 32 * 1024,
          liveRate: 20,
          batchBudgetBytes: 64 * 1024 * 1024,
          compressMinBytes: 16 * 1024,
          logLevel: 'silent',
          gatewayId: 'gw-k',
        },
        { logger: pino({ level: process.env['KNM_TEST_LOG'] ?? 'silent' }) },
      );
      try {
        await app.listen(0, '127.0.0.1');
        const address = app.getHttpServer().address();
        if (!address || typeof address !== 'object') throw new Error('no address');
        const s = connectSocket(`http://127.0.0.1:${address.port}`, { token: await token() });
        sockets.push(s);
        await connected(s);
        const c = new EnvelopeCollector(s, { [cluster]: 1 });
        expect(await request(s, RealtimeEvents.subscribe, { cluster })).toMatchObject({ ok: true, seq: 1 });

        const owner = await ownerPort(keyspace.cluster(cluster).changes);
        const master = admin.nodes('master').find((n) => n.options.port === owner);
        if (!master) throw new Error(`no master on port ${owner}`);
        // Drop every pub/sub connection of that master, and write 5 envelopes at once
        // (one script), before ioredis can have replaced the subscriber.
        const killed = master.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
        const written = writer.applyNodeChanges(
          nodes.map((node) => ({
            type: 'node_update' as const,
            node: { ...node, labels: { ...node.labels, dropped: 'yes' } },
            changes: ['labels' as const],
          })),
        );
        expect(Number(await killed)).toBeGreaterThan(0);
        expect(await written).toBe(6);
        // They arrive live or, when pub/sub lost them, folded into one catch-up batch.
        await waitFor(() => c.at(cluster) === 6, {
          what: 'the 5 envelopes written while the subscriber was replaced',
          timeout: 30_000,
        });
        expect([...c.view(cluster).nodes.values()].every((n) => n.labels['dropped'] === 'yes')).toBe(true);
        expect(c.resyncs()).toEqual([]);
        // And live again afterwards.
        await writer.applyPodDeltas({ 'n-0': 1 });
        await waitFor(() => c.at(cluster) === 7, {
          what: 'live after the catch-up',
          timeout: 15_000,
        });
        expect(c.seqs(cluster).at(-1)).toBe(7);
        expect(c.violations).toEqual([]);
      } finally {
        await app.close();
        await commands.quit().catch(() => commands.disconnect());
      }
    });
  },
);
