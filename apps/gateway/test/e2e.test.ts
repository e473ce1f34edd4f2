import { isDeepStrictEqual } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { connect, exponentialBackoff, type KnmClient } from '@knm/client';
import {
  NodeListResponseSchema,
  NodeResponseSchema,
  RealtimeEvents,
  type NodeListQueryInput,
  type NodeAllocation,
  type NodeSnapshot,
} from '@knm/contracts';
import { matchesLabelSelector, parseLabelSelector } from '@knm/contracts';
import { createTestRedis, waitFor, type ManagedProcess, type TestRedis } from '@knm/testing';
import {
  connectSocket,
  connected,
  request,
  startGateway,
  token,
  type RunningGateway,
} from './support/gateway-harness.js';
import { EnvelopeCollector } from './support/envelope-collector.js';
import { spawnWatcher, startSim, type SimHandle } from './support/sim-harness.js';

const CLUSTER = 'dev';
let redis: TestRedis;
let sim: SimHandle;
let watcher: ManagedProcess;
let gwA: RunningGateway;
let gwB: RunningGateway;
let viewer: string;
const sockets: Socket[] = [];
const clients: KnmClient[] = [];

beforeEach(async () => {
  redis = await createTestRedis();
  sim = await startSim({ nodes: 40, pods: 800, seed: 5, jobRunMs: [300, 1_500] });
  watcher = spawnWatcher(sim, redis, CLUSTER);
  await watcher.waitForOutput(/"msg":"watcher ready"/, 45_000);
  gwA = await startGateway(redis, {}, 'gw-a');
  gwB = await startGateway(redis, {}, 'gw-b');
  viewer = await token();
}, 90_000);

afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  for (const c of clients.splice(0)) c.close();
  await gwA?.close();
  await gwB?.close();
  await watcher?.stop('SIGTERM', 5_000);
  await sim?.close();
  await redis?.close();
});

async function restGet(gw: RunningGateway, path: string): Promise<unknown> {
  const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${viewer}` } });
  expect(res.status, path).toBe(200);
  return res.json();
}

/** The truth's nodes as the REST view carries them (pod counts included, capacity parsed). */
function truthView(): {
  nodes: NodeSnapshot[];
  counts: Record<string, number>;
  allocation: Record<string, NodeAllocation>;
} {
  const truth = sim.sim.truth();
  return {
    nodes: Object.values(truth.nodes).sort((a, b) => (a.name < b.name ? -1 : 1)),
    counts: truth.podCounts,
    allocation: truth.allocation,
  };
}

describe('end to end: kube-sim -> watcher -> Redis -> two gateways -> clients', () => {
  it('a client on gateway B sees a kubectl label change with changes ["labels"]; REST on gateway A returns it at a seq at least the event\'s', async () => {
    const s = connectSocket(gwB.url, { token: viewer });
    sockets.push(s);
    await connected(s);
    const envelopes = new EnvelopeCollector(s).envelopes;
    expect(await request(s, RealtimeEvents.subscribe, { cluster: CLUSTER })).toMatchObject({ ok: true });

    const node = Object.keys(sim.sim.truth().nodes)[3] as string;
    await sim.kubectl('label', 'node', node, 'knm.test/e2e=yes', '--overwrite');
    const event = await waitFor(
      () =>
        envelopes.find(
          (e) => e.type === 'node_update' && e.node === node && e.data.labels['knm.test/e2e'] === 'yes',
        ),
      { what: 'the label envelope on gateway B', timeout: 10_000 },
    );
    expect(event.type === 'node_update' && event.changes).toEqual(['labels']);

    const rest = NodeResponseSchema.parse(await restGet(gwA, `/api/v1/clusters/${CLUSTER}/nodes/${node}`));
    expect(rest.node.labels['knm.test/e2e']).toBe('yes');
    expect(rest.seq).toBeGreaterThanOrEqual(event.seq);
  }, 90_000);

  it('kill the gateway a client is on: the SDK moves to the other one and, after churn, its view equals /_sim/truth with no gap and no duplicate applied', async () => {
    const client = connect({
      url: [gwA.url, gwB.url],
      token: viewer,
      backoff: exponentialBackoff({ initialMs: 50, maxMs: 500 }),
    });
    clients.push(client);
    const watch = client.watchCluster(CLUSTER);
    const applied: number[] = [];
    watch.on('change', (e) => applied.push(e.envelope.seq));
    await watch.ready();
    const first = client.gateway;
    expect(first).toBe('gw-a');

    await sim.control('churn', { rate: 60 });
    await waitFor(() => applied.length >= 20, { what: '20 envelopes applied', timeout: 20_000 });
    await gwA.close();
    await waitFor(() => client.gateway === 'gw-b' && watch.state === 'live', {
      what: 'live on gw-b',
      timeout: 20_000,
    });
    await waitFor(() => applied.length >= 60, { what: 'churn after the move', timeout: 20_000 });
    await sim.control('churn', { rate: 0 });
    await sim.control('pause');

    const expected = truthView();
    await waitFor(
      () => {
        const nodes = watch.nodes().map(({ podCount: _p, podCapacity: _c, resources: _r, ...n }) => n);
        return (
          isDeepStrictEqual(nodes, expected.nodes) &&
          isDeepStrictEqual(watch.view.podCounts(), expected.counts) &&
          isDeepStrictEqual(watch.view.allocations(), expected.allocation)
        );
      },
      { what: 'the SDK view to equal /_sim/truth', timeout: 30_000, interval: 100 },
    ).catch((err: unknown) => {
      const nodes = watch.nodes();
      const diffs: string[] = [];
      for (const t of expected.nodes) {
        const mine = nodes.find((n) => n.name === t.name);
        const {
          podCount: _p,
          podCapacity: _c,
          resources: _r,
          ...rest
        } = mine ?? { podCount: 0, podCapacity: 0, resources: {} };
        if (!isDeepStrictEqual(rest, t))
          diffs.push(
            `node ${t.name}: view=${JSON.stringify(rest).slice(0, 400)} truth=${JSON.stringify(t).slice(0, 400)}`,
          );
      }
      const counts = watch.view.podCounts();
      for (const name of new Set([...Object.keys(counts), ...Object.keys(expected.counts)])) {
        if (counts[name] !== expected.counts[name])
          diffs.push(`pods ${name}: view=${counts[name]} truth=${expected.counts[name]}`);
      }
      throw new Error(
        `${(err as Error).message}\nview nodes ${nodes.length} truth ${expected.nodes.length} seq ${watch.seq} stats ${JSON.stringify(watch.stats)}\n${diffs.slice(0, 10).join('\n')}`,
      );
    });
    expect(watch.stats.gaps).toBe(0);
    expect(watch.stats.reloads).toBe(0);
    expect(watch.stats.resumes).toBeGreaterThanOrEqual(1);
    // Applied in seq order, none twice. Seqs may be skipped, never lost: a resume batch and
    // the gateway's paced live batches fold superseded changes of a key (gaps: 0 above).
    expect(applied).toEqual([...applied].sort((a, b) => a - b));
    expect(new Set(applied).size).toBe(applied.length);
  }, 120_000);

  it('filters and paging return exactly what the truth says', async () => {
    await sim.control('pause');
    const truth = truthView();
    await waitFor(
      async () => {
        const all = NodeListResponseSchema.parse(await restGet(gwA, `/api/v1/clusters/${CLUSTER}/nodes`));
        return (
          all.items.every((n) => (truth.counts[n.name] ?? 0) === n.podCount) &&
          all.total === truth.nodes.length
        );
      },
      { what: 'the gateway to serve the quiet truth', timeout: 20_000 },
    );
    const roles = [...new Set(truth.nodes.flatMap((n) => n.roles))];
    const zone = truth.nodes.map((n) => n.labels['topology.kubernetes.io/zone']).find(Boolean);
    const cases: [NodeListQueryInput, (n: NodeSnapshot) => boolean][] = [
      [{}, () => true],
      [{ ready: 'true' }, (n) => n.ready === 'True'],
      [{ schedulable: 'false' }, (n) => n.unschedulable],
      [{ q: '1' }, (n) => n.name.includes('1')],
      ...roles.map((role): [NodeListQueryInput, (n: NodeSnapshot) => boolean] => [
        { role },
        (n) => n.roles.includes(role),
      ]),
    ];
    if (zone) {
      const selector = `topology.kubernetes.io/zone=${zone}`;
      const parsed = parseLabelSelector(selector);
      cases.push([{ labelSelector: selector }, (n) => matchesLabelSelector(parsed, n.labels)]);
    }
    for (const [query, predicate] of cases) {
      const expectedNames = truth.nodes.filter(predicate).map((n) => n.name);
      const seen: string[] = [];
      let next: string | undefined;
      do {
        const params = new URLSearchParams({ ...(query as Record<string, string>), limit: '7' });
        if (next) params.set('continue', next);
        const page = NodeListResponseSchema.parse(
          await restGet(gwB, `/api/v1/clusters/${CLUSTER}/nodes?${params}`),
        );
        expect(page.total).toBe(expectedNames.length);
        for (const n of page.items) expect(n.podCount).toBe(truth.counts[n.name] ?? 0);
        seen.push(...page.items.map((n) => n.name));
        next = page.continue;
      } while (next);
      expect(seen, JSON.stringify(query)).toEqual(expectedNames);
    }
    const byPods = NodeListResponseSchema.parse(
      await restGet(gwA, `/api/v1/clusters/${CLUSTER}/nodes?sort=pods&order=desc`),
    );
    const counts = byPods.items.map((n) => n.podCount);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  }, 90_000);
});
