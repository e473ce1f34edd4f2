import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import { startKubeSim, type KubeSim } from '@knm/fake-cluster';
import { createTestRedis, spawnProcess, waitFor, type ManagedProcess, type TestRedis } from '@knm/testing';
import { keySlot } from './support/redis-key-slot.js';
import { RedisCommandRecorder, type RecordedCommand } from './support/redis-command-recorder.js';

const SCRIPT_COMMANDS = new Set(['EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL', 'FCALL_RO']);

/** A group of keys Redis Cluster requires in one slot: a script's keys and its calls, a MULTI/EXEC, a multi-key command. */
interface KeyGroup {
  what: string;
  keys: string[];
}

describe('keySlot (CRC16 as Redis Cluster computes it)', () => {
  it('matches the slots of the Redis Cluster specification and CLUSTER KEYSLOT', async () => {
    expect(keySlot('123456789')).toBe(12739); // CRC16 0x31C3, the spec's check value
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'));
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
    // Only the hash tag counts: every key of a cluster lands in the slot of its name.
    expect(keySlot('knm:{dev}:nodes')).toBe(keySlot('dev'));
  });
});

describe('Redis key layout under the whole system', () => {
  let redis: TestRedis | undefined;
  let recorder: RedisCommandRecorder | undefined;
  let run: ManagedProcess | undefined;
  let sim: KubeSim | undefined;
  let dir: string | undefined;
  let socket: Socket | undefined;

  afterEach(async () => {
    socket?.close();
    recorder?.stop();
    await run?.stop('SIGINT', 30_000);
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await redis?.close();
    [redis, recorder, run, sim, dir, socket] = [
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ];
  });

  it('every multi-key command, transaction and script the watchers, gateways and operations issue stays in one hash slot', async () => {
    redis = await createTestRedis();
    recorder = new RedisCommandRecorder(redis.connect(), redis.namespace);
    await recorder.start();

    dir = await mkdtemp(join(tmpdir(), 'knm-key-layout-'));
    const kubeconfig = join(dir, 'lab.kubeconfig');
    sim = await startKubeSim({
      nodes: 4,
      pods: 30,
      seed: 5,
      churn: 5,
      clusterName: 'lab',
      kubeconfigOut: kubeconfig,
    });
    run = spawnProcess({
      name: 'npm-start',
      command: 'npm',
      args: [
        ...['start', '--', '--port', '0', '--no-web-build', '--namespace', redis.namespace],
        ...['--kubeconfig', kubeconfig, '--contexts', 'lab', '--gateways', '2'],
      ],
      env: { REDIS_URL: redis.url, FORCE_COLOR: '0' },
    });
    const [, base, token] = await run.waitForOutput(
      /Dashboard\s+(http:\/\/[\d.]+:\d+)\/#token=(\S+)/,
      240_000,
    );
    const auth = { authorization: `Bearer ${token ?? ''}`, 'content-type': 'application/json' };

    // A live socket (Socket.IO adapter, catch-up reads) and node operations (BullMQ queue, worker, store, audit).
    socket = io(`${base ?? ''}/nodes`, { auth: { token }, transports: ['websocket'], reconnection: false });
    await new Promise((resolve, reject) => {
      socket?.on('connect_error', reject);
      socket?.on('connect', () => socket?.emit('subscribe', { cluster: 'lab', sinceSeq: 1 }, resolve));
    });
    const node = Object.keys(sim.truth().nodes)[0] ?? '';
    for (const body of [
      { action: 'label', nodes: [node], params: { labels: { 'knm.io/slot-test': 'yes' } } },
      { action: 'cordon', nodes: [node], params: {} },
      { action: 'uncordon', selector: 'kubernetes.io/os=linux', params: {} },
    ]) {
      const res = await fetch(`${base ?? ''}/api/v1/clusters/lab/operations`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify(body),
      });
      expect(res.status, await res.clone().text()).toBe(202);
      const { operationId } = (await res.json()) as { operationId: string };
      await waitFor(
        async () => {
          const op = (await (
            await fetch(`${base ?? ''}/api/v1/operations/${operationId}`, { headers: auth })
          ).json()) as { state: string };
          return ['completed', 'partial', 'failed'].includes(op.state) ? op : undefined;
        },
        { timeout: 60_000, interval: 200, what: `operation ${body.action} to finish` },
      );
    }
    await fetch(`${base ?? ''}/api/v1/audit?limit=10`, { headers: auth });
    await fetch(`${base ?? ''}/api/v1/clusters/lab/nodes`, { headers: auth });
    socket.close();
    run.signal('SIGINT');
    await run.exited;
    recorder.stop();

    const groups = await keyGroups(recorder.commands, redis.client, redis.namespace);
    const mixed = groups
      .map((g) => ({ ...g, slots: [...new Set(g.keys.map(keySlot))] }))
      .filter((g) => g.slots.length > 1)
      .map((g) => `${g.what}: ${g.keys.join(' ')}`);
    expect(mixed).toEqual([]);

    // The run really exercised each family of multi-key commands.
    const scripts = groups.filter((g) => g.what.startsWith('script'));
    expect(scripts.some((g) => g.keys.some((k) => k.endsWith(':meta')))).toBe(true); // node-store writes
    expect(scripts.some((g) => g.keys.some((k) => /:\{lab\}:ops:/.test(k)))).toBe(true); // BullMQ
    expect(groups.filter((g) => g.keys.length > 1).length).toBeGreaterThan(20);
    // Every key a cluster's multi-key command touches carries that cluster's hash tag; the
    // one queue shared by every cluster, the notifications' deliveries, carries its own.
    const shared = `${redis.namespace}:{notify}:`;
    for (const g of groups.filter((x) => x.keys.length > 1)) {
      const tag = g.keys.every((k) => k.startsWith(shared)) ? shared : `${redis.namespace}:{lab}`;
      for (const k of g.keys) expect(k, g.what).toContain(tag);
    }
  }, 420_000);
});

/**
 * Groups what MONITOR recorded into the units a Redis Cluster must serve from one slot:
 * each script (its declared keys and the keys of every call it made), each MULTI/EXEC of
 * one client, and each single command with several keys. Keys are found by asking the
 * server (COMMAND GETKEYS), so no table of command syntaxes is needed.
 */
async function keyGroups(
  commands: readonly RecordedCommand[],
  redis: Redis,
  namespace: string,
): Promise<KeyGroup[]> {
  const keysOf = async (args: string[]): Promise<string[]> => {
    try {
      return ((await redis.call('COMMAND', 'GETKEYS', ...args)) as string[]).map(String);
    } catch {
      return []; // a command without key arguments
    }
  };
  const groups: KeyGroup[] = [];
  const transactions = new Map<string, KeyGroup>();
  let script: KeyGroup | undefined;
  for (const { source, args } of commands) {
    const name = (args[0] ?? '').toUpperCase();
    if (source === 'lua') {
      if (script) script.keys.push(...(await keysOf(args)));
      continue;
    }
    script = undefined;
    if (SCRIPT_COMMANDS.has(name)) {
      const n = Number(args[2] ?? 0);
      script = { what: `script ${name} ${(args[1] ?? '').slice(0, 12)}`, keys: args.slice(3, 3 + n) };
      groups.push(script);
    } else if (name === 'MULTI') {
      transactions.set(source, { what: `MULTI/EXEC from ${source}`, keys: [] });
    } else if (name === 'EXEC' || name === 'DISCARD') {
      const tx = transactions.get(source);
      transactions.delete(source);
      if (tx && name === 'EXEC') groups.push(tx);
    } else {
      const keys = await keysOf(args);
      const tx = transactions.get(source);
      if (tx) tx.keys.push(...keys);
      else if (keys.length > 1) groups.push({ what: `command ${args.slice(0, 3).join(' ')}`, keys });
    }
  }
  // Only the system under test: groups that touch this test's namespace.
  return groups
    .filter((g) => g.keys.some((k) => k.startsWith(`${namespace}:`)))
    .map((g) => ({ ...g, keys: [...new Set(g.keys)] }));
}
