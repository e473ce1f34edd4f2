/**
 * Gateway benchmark: REST latency (p50/p99) and throughput of a gateway process
 * serving a 5,000-node cluster from Redis (one node, a filtered page, all pod
 * counts), and the end-to-end latency from a change at kube-sim to a Socket.IO
 * client (PATCH a node label -> watcher -> Redis -> gateway -> client).
 *
 *   node --conditions=@knm/source --import tsx bench/gateway/gateway-bench.ts [--quick] [--duration S] [--connections N] [--changes N] [--out FILE]
 *
 * The gateway and the watcher run as child processes (`apps/*\/src/main.ts` from
 * source); autocannon, kube-sim and the Socket.IO client run in this process.
 * Needs a Redis (REDIS_URL, default redis://127.0.0.1:6379); every key lives under a
 * throw-away namespace deleted at the end. Prints a table and writes
 * bench/results/gateway-<date>[-quick].json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { io } from 'socket.io-client';
import { signToken } from '@knm/auth';
import {
  EnvelopeSchema,
  Keyspace,
  REALTIME_NAMESPACE,
  toClusterName,
  type NodeSnapshot,
} from '@knm/contracts';
import { startKubeSim } from '@knm/fake-cluster';
import { NodeStoreWriter } from '@knm/node-store';
import { TYPESCRIPT_ENV } from '@knm/testing';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const SECRET = randomBytes(32).toString('hex');

interface Args {
  quick: boolean;
  duration: number;
  connections: number;
  changes: number;
  out: string | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, duration: 10, connections: 20, changes: 200, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') Object.assign(args, { quick: true, duration: 4, changes: 60 });
    else if (a === '--duration') args.duration = Number(argv[++i]);
    else if (a === '--connections') args.connections = Number(argv[++i]);
    else if (a === '--changes') args.changes = Number(argv[++i]);
    else if (a === '--out') args.out = argv[++i];
    else throw new Error(`unknown argument ${String(a)}; see the header of bench/gateway/gateway-bench.ts`);
  }
  return args;
}

function node(i: number): NodeSnapshot {
  const name = `node-${String(i).padStart(5, '0')}`;
  const zone = `zone-${'abc'[i % 3]}`;
  return {
    name,
    uid: `uid-${i}`,
    resourceVersion: String(i + 1),
    creationTimestamp: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    labels: {
      'kubernetes.io/hostname': name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'topology.kubernetes.io/zone': zone,
      'node.kubernetes.io/instance-type': i % 10 === 0 ? 'g5.4xlarge' : 'm6i.2xlarge',
      ...(i < 3 ? { 'node-role.kubernetes.io/control-plane': '' } : { 'node-role.kubernetes.io/worker': '' }),
    },
    annotations: {},
    taints: i % 10 === 0 ? [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] : [],
    unschedulable: i % 50 === 0,
    roles: i < 3 ? ['control-plane'] : ['worker'],
    ready: i % 40 === 0 ? 'False' : 'True',
    conditions: [
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' },
      { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure' },
      { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID' },
      { type: 'Ready', status: i % 40 === 0 ? 'False' : 'True', reason: 'KubeletReady' },
    ],
    addresses: [
      { type: 'InternalIP', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
      { type: 'Hostname', address: name },
    ],
    capacity: { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' },
    allocatable: { cpu: '7800m', memory: '30Gi', pods: '110', 'ephemeral-storage': '95Gi' },
    nodeInfo: {
      kubeletVersion: 'v1.32.0',
      osImage: 'Ubuntu 24.04 LTS',
      kernelVersion: '6.8.0-1015-aws',
      containerRuntimeVersion: 'containerd://1.7.22',
      architecture: 'amd64',
      operatingSystem: 'linux',
    },
    podCIDRs: [`100.64.${(i >> 8) & 255}.${i & 255}/24`],
  };
}

function startGatewayProcess(
  redisUrl: string,
  namespace: string,
): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(
    process.execPath,
    [
      '--conditions=@knm/source',
      '--import',
      'tsx',
      'apps/gateway/src/main.ts',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--redis',
      redisUrl,
      '--namespace',
      namespace,
      '--log-level',
      'info',
    ],
    {
      cwd: ROOT,
      env: { ...TYPESCRIPT_ENV, ...process.env, KNM_JWT_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  return new Promise((resolveStart, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /gateway listening on port (\d+)/.exec(out);
      if (m) resolveStart({ proc, url: `http://127.0.0.1:${m[1]}` });
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${out}`)));
  });
}

function startWatcherProcess(
  kubeconfig: string,
  redisUrl: string,
  namespace: string,
  cluster: string,
): { proc: ChildProcess; ready: Promise<void> } {
  const proc = spawn(
    process.execPath,
    [
      '--conditions=@knm/source',
      '--import',
      'tsx',
      'apps/watcher/src/main.ts',
      '--cluster',
      cluster,
      '--kubeconfig',
      kubeconfig,
      '--redis',
      redisUrl,
      '--namespace',
      namespace,
      '--metrics-port',
      '0',
      '--metrics-host',
      '127.0.0.1',
    ],
    { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const ready = new Promise<void>((resolveReady, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (out.includes('"msg":"watcher ready"')) resolveReady();
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`watcher exited ${code}: ${out.slice(-2000)}`)));
  });
  return { proc, ready };
}

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const namespace = `knmbench-${randomBytes(3).toString('hex')}`;
  const keyspace = new Keyspace(namespace);
  const redis = new Redis(redisUrl);
  const nodeCount = 5_000;
  const cluster = toClusterName('bench');
  const children: ChildProcess[] = [];
  const results: Record<string, unknown> = {};
  try {
    // 1. A 5,000-node cluster written through the real writer.
    const epoch = await redis.incr(keyspace.cluster(cluster).epoch);
    const writer = new NodeStoreWriter(redis, keyspace, cluster, epoch, 'bench');
    await writer.register({});
    const nodes = Array.from({ length: nodeCount }, (_, i) => node(i));
    const podCounts = Object.fromEntries(nodes.map((n, i) => [n.name, (i * 7) % 60]));
    await writer.rebuild({ nodes, podCounts, reason: 'rebuild' });
    await writer.heartbeat();
    console.log(`seeded ${nodeCount} nodes`);

    const gateway = await startGatewayProcess(redisUrl, namespace);
    children.push(gateway.proc);
    console.log(`gateway at ${gateway.url}`);
    const token = await signToken(
      { sub: 'bench', role: 'viewer', clusters: '*' },
      { secret: SECRET, ttlSeconds: 3600 },
    );
    const headers = { authorization: `Bearer ${token}` };

    const scenarios: [string, string][] = [
      ['single node', `/api/v1/clusters/bench/nodes/node-02500`],
      [
        'filtered page (5,000 nodes: zone=zone-b, ready, sort pods desc, limit 100)',
        `/api/v1/clusters/bench/nodes?labelSelector=${encodeURIComponent('topology.kubernetes.io/zone=zone-b')}&ready=true&sort=pods&order=desc&limit=100`,
      ],
      ['all pod counts (5,000 nodes)', `/api/v1/clusters/bench/pod-counts`],
    ];
    const rest: Record<string, unknown>[] = [];
    for (const [name, path] of scenarios) {
      const check = await fetch(`${gateway.url}${path}`, { headers });
      if (!check.ok) throw new Error(`${path}: HTTP ${check.status} ${await check.text()}`);
      const bytes = (await check.arrayBuffer()).byteLength;
      await autocannon({ url: `${gateway.url}${path}`, headers, connections: args.connections, duration: 1 }); // warm-up
      const r = await autocannon({
        url: `${gateway.url}${path}`,
        headers,
        connections: args.connections,
        duration: args.duration,
      });
      const row = {
        scenario: name,
        path,
        responseBytes: bytes,
        connections: args.connections,
        durationS: args.duration,
        requests: r.requests.total,
        rps: Math.round(r.requests.average),
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        maxMs: r.latency.max,
        errors: r.errors,
        non2xx: r.non2xx,
      };
      rest.push(row);
      console.log(
        `${name}: ${row.rps} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms (${bytes} bytes, ${row.errors} errors, ${row.non2xx} non-2xx)`,
      );
    }
    results['rest'] = rest;

    // 2. End to end: kube-sim PATCH -> watcher -> Redis -> gateway -> Socket.IO client.
    const dir = await mkdtemp(join(tmpdir(), 'knm-gateway-bench-'));
    const kubeconfig = join(dir, 'sim.kubeconfig');
    const sim = await startKubeSim({ nodes: 200, pods: 3_000, seed: 3, kubeconfigOut: kubeconfig });
    try {
      const watcher = startWatcherProcess(kubeconfig, redisUrl, namespace, 'live');
      children.push(watcher.proc);
      await watcher.ready;
      const socket = io(`${gateway.url}${REALTIME_NAMESPACE}`, {
        transports: ['websocket'],
        auth: { token },
        forceNew: true,
      });
      await new Promise<void>((r, j) => {
        socket.once('connect', () => r());
        socket.once('connect_error', j);
      });
      const ack = (await socket.timeout(10_000).emitWithAck('subscribe', { cluster: 'live' })) as {
        ok: boolean;
      };
      if (!ack.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
      const pending = new Map<string, (t: number) => void>();
      socket.on('envelope', (raw: unknown) => {
        const t = performance.now();
        const e = EnvelopeSchema.safeParse(raw);
        if (!e.success || e.data.type !== 'node_update') return;
        const value = e.data.data.labels['knm.bench/seq'];
        if (value !== undefined) pending.get(value)?.(t);
      });
      const target = Object.keys(sim.truth().nodes)[10] as string;
      const latencies: number[] = [];
      for (let i = 0; i < args.changes; i++) {
        const value = String(i);
        const seen = new Promise<number>((r) => pending.set(value, r));
        const t0 = performance.now();
        const res = await fetch(`${sim.url}/api/v1/nodes/${target}`, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/merge-patch+json' },
          body: JSON.stringify({ metadata: { labels: { 'knm.bench/seq': value } } }),
        });
        if (!res.ok) throw new Error(`PATCH: HTTP ${res.status}`);
        await res.arrayBuffer();
        const t1 = await Promise.race([
          seen,
          new Promise<number>((_, j) =>
            setTimeout(() => j(new Error(`change ${i} not seen in 10 s`)), 10_000),
          ),
        ]);
        latencies.push(t1 - t0);
        pending.delete(value);
        await new Promise((r) => setTimeout(r, 20));
      }
      socket.disconnect();
      latencies.sort((a, b) => a - b);
      const e2e = {
        changes: latencies.length,
        p50Ms: Number(percentile(latencies, 50).toFixed(2)),
        p99Ms: Number(percentile(latencies, 99).toFixed(2)),
        maxMs: Number((latencies.at(-1) ?? Number.NaN).toFixed(2)),
      };
      results['endToEnd'] = e2e;
      console.log(
        `kube-sim PATCH -> Socket.IO client: p50 ${e2e.p50Ms} ms, p99 ${e2e.p99Ms} ms, max ${e2e.maxMs} ms over ${e2e.changes} changes`,
      );
    } finally {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    for (const child of children) await stop(child);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  }
  const report = {
    date: new Date().toISOString(),
    machine: {
      platform: platform(),
      release: release(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
    },
    node: process.version,
    args,
    ...results,
  };
  const out =
    args.out ??
    join(ROOT, 'bench', 'results', `gateway-${report.date.slice(0, 10)}${args.quick ? '-quick' : ''}.json`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written ${out}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
