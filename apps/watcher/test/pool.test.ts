import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterConnectionStore } from '@knm/cluster-connections';
import { ClusterMetaSchema, decode, type ClusterMeta, type ClusterName } from '@knm/contracts';
import { signToken } from '@knm/auth';
import { SecretBox } from '@knm/secrets';
import {
  createTestRedis,
  freePort,
  gatewayUrl,
  spawnTestGateway,
  spawnTestPoolMember,
  waitFor,
  type ManagedProcess,
  type TestRedis,
} from '@knm/testing';
import { expectConverged, startSim, type SimHandle } from './harness.js';

/**
 * Clusters of the pool test: 12 by default (2 shared cores); KNM_POOL_TEST_CLUSTERS=50
 * runs the issue's 50. Each is its own kube-sim in this process, of
 * KNM_POOL_TEST_NODES (3) nodes and KNM_POOL_TEST_PODS (12) pods: larger ones show
 * what warm standby saves (the new owner's initial sync), see the README's numbers.
 */
const CLUSTERS = Number(process.env['KNM_POOL_TEST_CLUSTERS'] ?? '12');
const NODES = Number(process.env['KNM_POOL_TEST_NODES'] ?? '3');
const PODS = Number(process.env['KNM_POOL_TEST_PODS'] ?? '12');
const LEASE_TTL_MS = 2_000;
const GATEWAY_SECRET = 'pool-test-secret-0123456789-abcdefghijkl';

let redis: TestRedis | undefined;
const sims: SimHandle[] = [];
const procs: ManagedProcess[] = [];

afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL', 1_000)));
  await Promise.all(sims.splice(0).map((s) => s.close()));
  await redis?.close();
  redis = undefined;
});

interface PoolClusterState {
  cluster: string;
  role: string;
  pool: 'owner' | 'standby';
}

interface Member {
  id: string;
  proc: ManagedProcess;
  port: number;
}

async function startMember(r: TestRedis, key: string, id: string, standby: 'warm' | 'cold'): Promise<Member> {
  const proc = spawnTestPoolMember({
    redis: r,
    secretsKey: key,
    identity: id,
    args: ['--pool-standby', standby, '--lease-ttl-ms', String(LEASE_TTL_MS)],
    // The operations workers (a BullMQ worker per cluster) are not what this test is about.
    env: { KNM_OPS_ENABLED: 'false' },
  });
  procs.push(proc);
  const match = await proc.waitForOutput(
    /"port":(\d+),"host":"127\.0\.0\.1","msg":"metrics listening"/,
    30_000,
  );
  return { id, proc, port: Number(match[1]) };
}

async function poolOf(member: Member): Promise<PoolClusterState[]> {
  const body = (await (await fetch(`http://127.0.0.1:${member.port}/pool`)).json()) as {
    clusters: PoolClusterState[];
  };
  return body.clusters;
}

async function owned(member: Member): Promise<string[]> {
  return (await poolOf(member))
    .filter((c) => c.pool === 'owner')
    .map((c) => c.cluster)
    .sort();
}

async function meta(r: TestRedis, cluster: string): Promise<ClusterMeta> {
  return decode(
    ClusterMetaSchema,
    await r.client.hgetall(r.keyspace.cluster(cluster as ClusterName).meta),
    'meta',
  );
}

/** Waits until every cluster is `ready` in Redis, led by one of `leaders`, and equal to its kube-sim's truth. */
async function allServed(
  r: TestRedis,
  clusters: readonly string[],
  leaders: readonly string[],
  timeout: number,
): Promise<void> {
  await waitFor(
    async () => {
      for (const c of clusters) {
        const m = await meta(r, c);
        if (m.status !== 'ready' || !leaders.includes(m.leader ?? '')) return false;
      }
      return true;
    },
    { timeout, interval: 100, what: `${clusters.length} clusters ready under ${leaders.join(', ')}` },
  );
  await Promise.all(clusters.map((c) => expectConverged(simOf(c), r, c, { timeout: 10_000 })));
}

function simOf(cluster: string): SimHandle {
  const sim = sims[Number(cluster.slice(1)) - 1];
  if (!sim) throw new Error(`no sim for ${cluster}`);
  return sim;
}

/**
 * N kube-sims registered through the API (`POST /api/v1/clusters` of a real gateway
 * holding the same key: connection test, sealing), plus `dead`, whose API server is a
 * closed port: a cluster that went away after it was registered (the API would refuse to
 * register it), so it is written to the store directly.
 */
async function registerClusters(
  r: TestRedis,
  key: string,
): Promise<{ store: ClusterConnectionStore; names: string[] }> {
  const store = new ClusterConnectionStore(r.client, r.keyspace, SecretBox.fromEnv({ KNM_SECRETS_KEY: key }));
  const gateway = spawnTestGateway({ redis: r, jwtSecret: GATEWAY_SECRET, env: { KNM_SECRETS_KEY: key } });
  procs.push(gateway);
  const [url, started] = await Promise.all([
    gatewayUrl(gateway),
    Promise.all(
      Array.from({ length: CLUSTERS }, (_, i) =>
        startSim({ nodes: NODES, pods: PODS, seed: i + 1, clusterName: `c${i + 1}` }),
      ),
    ),
  ]);
  sims.push(...started);
  const names = started.map((_, i) => `c${i + 1}`);
  const admin = await signToken(
    { sub: 'pool-test', role: 'admin', clusters: '*' },
    { secret: GATEWAY_SECRET, ttlSeconds: 600 },
  );
  for (const [i, sim] of started.entries()) {
    const res = await fetch(`${url}/api/v1/clusters`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: names[i], kubeconfig: sim.sim.kubeconfig() }),
    });
    if (res.status !== 201)
      throw new Error(`POST /api/v1/clusters ${names[i]}: ${res.status} ${await res.text()}`);
  }
  await gateway.stop('SIGTERM', 10_000);
  const closed = await freePort();
  const first = started[0];
  if (!first) throw new Error('no sim');
  const deadConfig = first.sim
    .kubeconfig()
    .replace(/https:\/\/127\.0\.0\.1:\d+/g, `https://127.0.0.1:${closed}`);
  await store.put({
    name: 'dead' as ClusterName,
    server: `https://127.0.0.1:${closed}`,
    kubeconfig: deadConfig,
  });
  return { store, names };
}

/** kill -9 of `victim`: its clusters are served by the others; answers the time to ready and converged. */
async function failover(
  r: TestRedis,
  victim: Member,
  others: readonly Member[],
  all: readonly string[],
): Promise<number> {
  // Every cluster may be served before the shares settle (a member that joined last
  // takes its share over from the others a moment later): wait until the victim owns some.
  const moved = await waitFor(
    async () => {
      const mine = (await owned(victim)).filter((c) => c !== 'dead');
      return mine.length > 0 ? mine : undefined;
    },
    { timeout: 15_000, what: `${victim.id} owning a cluster` },
  );
  const killedAt = Date.now();
  victim.proc.signal('SIGKILL');
  await victim.proc.exited;
  await allServed(
    r,
    moved,
    others.map((m) => m.id),
    LEASE_TTL_MS + 15_000,
  );
  const ms = Date.now() - killedAt;
  // And every other cluster is still served.
  await allServed(
    r,
    all,
    others.map((m) => m.id),
    10_000,
  );
  return ms;
}

describe('watcher pool', () => {
  it(`${CLUSTERS} registered clusters over 3 members (cold): shares, kill -9, a deleted cluster, a new member`, async () => {
    redis = await createTestRedis();
    const r = redis;
    const key = randomBytes(32).toString('base64');
    const { store, names } = await registerClusters(r, key);
    const members = await Promise.all(
      ['pool-a', 'pool-b', 'pool-c'].map((id) => startMember(r, key, id, 'cold')),
    );

    // Every cluster ready and equal to its truth, though `dead` never answers.
    const startedAt = Date.now();
    await allServed(
      r,
      names,
      members.map((m) => m.id),
      60_000,
    );
    console.log(
      `pool: ${CLUSTERS} clusters ready and converged ${Date.now() - startedAt} ms after 3 members started`,
    );

    // Each member reports its share: every cluster (dead included) owned exactly once (once each
    // member's heartbeat has seen the others), evenly: at most its share rounded up.
    await Promise.all(members.map((m) => m.proc.waitForOutput(/"msg":"pool share"/, 5_000)));
    const all = [...names, 'dead'].sort();
    const shares = await waitFor(
      async () => {
        const now = await Promise.all(members.map(owned));
        return JSON.stringify(now.flat().sort()) === JSON.stringify(all) ? now : false;
      },
      { timeout: LEASE_TTL_MS, what: 'every cluster owned by exactly one member' },
    );
    for (const share of shares) expect(share.length).toBeLessThanOrEqual(Math.ceil(all.length / 3));
    console.log(`pool shares: ${shares.map((s, i) => `${members[i]?.id} ${s.length}`).join(', ')}`);
    const metricsText = await (await fetch(`http://127.0.0.1:${members[0]?.port}/metrics`)).text();
    expect(metricsText).toMatch(/knm_pool_clusters\{member="pool-a",role="owner"\} \d+/);

    // kill -9 of a member: its clusters are served by the others within the lease TTL plus a resync.
    const [a, b, c] = members as [Member, Member, Member];
    const failoverMs = await failover(r, a, [b, c], names);
    console.log(
      `pool failover (cold): ${failoverMs} ms from kill -9 to ready and converged (lease TTL ${LEASE_TTL_MS} ms)`,
    );
    expect(failoverMs).toBeLessThan(LEASE_TTL_MS + 6_000);

    // A deleted connection: its owner stops it at once (the lease key goes).
    const gone = names.find((n) => n !== undefined) as ClusterName;
    await store.remove(gone);
    const lease = r.keyspace.cluster(gone).lease;
    await waitFor(async () => (await r.client.exists(lease)) === 0, {
      timeout: 3_000,
      what: 'lease released',
    });
    const left = names.filter((n) => n !== gone);

    // A new member receives its share within a lease period (plus its own start and the syncs).
    const d = await startMember(r, key, 'pool-d', 'cold');
    const joinedAt = Date.now();
    const dShare = await waitFor(
      async () => {
        const share = (await owned(d)).filter((n) => n !== 'dead');
        if (share.length === 0) return false;
        for (const n of share)
          if ((await meta(r, n)).leader !== 'pool-d' || (await meta(r, n)).status !== 'ready') return false;
        return share;
      },
      { timeout: LEASE_TTL_MS + 8_000, interval: 100, what: 'the new member to lead its share' },
    );
    console.log(
      `pool join: pool-d leads its ${dShare.length} clusters ${Date.now() - joinedAt} ms after it listened`,
    );
    await allServed(r, left, ['pool-b', 'pool-c', 'pool-d'], 10_000);
    const expected = JSON.stringify([...left, 'dead'].sort());
    await waitFor(
      async () => JSON.stringify((await Promise.all([b, c, d].map(owned))).flat().sort()) === expected,
      {
        timeout: LEASE_TTL_MS,
        what: 'every cluster owned by exactly one of the three members',
      },
    );

    // A replaced connection restarts with its new kubeconfig: c2 now reads c3's kube-sim.
    const replaced = 'c2' as ClusterName;
    await store.put({
      name: replaced,
      server: simOf('c3').sim.url,
      kubeconfig: simOf('c3').sim.kubeconfig(),
    });
    await expectConverged(simOf('c3'), r, replaced, { timeout: 10_000 });
  }, 120_000);

  it('warm standby: a dead member fails over without an initial sync', async () => {
    redis = await createTestRedis();
    const r = redis;
    const key = randomBytes(32).toString('base64');
    const { names } = await registerClusters(r, key);
    const members = await Promise.all(
      ['warm-a', 'warm-b', 'warm-c'].map((id) => startMember(r, key, id, 'warm')),
    );
    await allServed(
      r,
      names,
      members.map((m) => m.id),
      60_000,
    );
    // Every cluster also has a warm standby somewhere.
    await waitFor(
      async () =>
        (await Promise.all(members.map(poolOf))).flat().filter((c) => c.pool === 'standby').length ===
        names.length + 1,
      { timeout: 5_000, what: 'a warm standby per cluster' },
    );
    const [a, b, c] = members as [Member, Member, Member];
    const failoverMs = await failover(r, a, [b, c], names);
    console.log(
      `pool failover (warm): ${failoverMs} ms from kill -9 to ready and converged (lease TTL ${LEASE_TTL_MS} ms)`,
    );
    expect(failoverMs).toBeLessThan(LEASE_TTL_MS + 6_000);
  }, 90_000);
});
