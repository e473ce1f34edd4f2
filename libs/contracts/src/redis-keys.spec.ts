import { describe, expect, it } from 'vitest';
import { toClusterName } from './cluster-name.js';
import { DEFAULT_NAMESPACE, Keyspace } from './redis-keys.js';

/** Redis Cluster's key slot: CRC16/XMODEM of the hash tag (or whole key) mod 16384. */
function keySlot(key: string): number {
  const open = key.indexOf('{');
  let hashed = key;
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(hashed)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

describe('Keyspace', () => {
  it('lays out the documented keys under the default namespace', () => {
    const ks = new Keyspace();
    expect(ks.namespace).toBe(DEFAULT_NAMESPACE);
    expect(ks.clusters).toBe('knm:clusters');
    expect(ks.poolMembers).toBe('knm:pool:members');
    expect(ks.cluster(toClusterName('dev'))).toEqual({
      nodes: 'knm:{dev}:nodes',
      pods: 'knm:{dev}:pods',
      allocation: 'knm:{dev}:allocation',
      usage: 'knm:{dev}:usage',
      usageByNode: 'knm:{dev}:usage-by-node',
      podsRequests: 'knm:{dev}:pods-requests',
      podsReplies: 'knm:{dev}:pods-replies',
      nodePodsPrefix: 'knm:{dev}:node-pods:',
      meta: 'knm:{dev}:meta',
      events: 'knm:{dev}:events',
      changes: 'knm:{dev}:changes',
      lease: 'knm:{dev}:lease',
      epoch: 'knm:{dev}:epoch',
      historyPrefix: 'knm:{dev}:history:',
      incidents: 'knm:{dev}:incidents',
      incidentData: 'knm:{dev}:incident-data',
      incidentNodes: 'knm:{dev}:incident-nodes',
      queuePrefix: 'knm:{dev}',
      incidentEvents: 'knm:{dev}:incident-events',
      notifyCursor: 'knm:{dev}:notify-cursor',
      notifyPlan: 'knm:{dev}:notify-plan',
    });
  });

  it('keeps rate-limit counters under <ns>:ratelimit:<scope>:, whatever the id', () => {
    const ks = new Keyspace('knm-test');
    expect(ks.rateLimit('auth', '10.0.0.7')).toBe('knm-test:ratelimit:auth:10.0.0.7');
    expect(ks.rateLimit('ops', 'alice')).toBe('knm-test:ratelimit:ops:alice');
    for (const id of ['::1', '{dev}:nodes', 'a b', '../x', '*', 'ü\u0000']) {
      const key = ks.rateLimit('ops', id);
      expect(key.startsWith('knm-test:ratelimit:ops:')).toBe(true);
      expect(key.slice('knm-test:ratelimit:ops:'.length)).not.toMatch(/[:{} ]/);
    }
  });

  it('puts every key of one cluster in one Redis Cluster slot, and different clusters apart', () => {
    const ks = new Keyspace('knm-test');
    const slots = (c: string) => new Set(Object.values(ks.cluster(toClusterName(c))).map(keySlot));
    expect(slots('dev').size).toBe(1);
    expect(slots('prod-eu-1').size).toBe(1);
    expect([...slots('dev')][0]).not.toBe([...slots('prod-eu-1')][0]);
    // The reference value from the Redis Cluster specification: CLUSTER KEYSLOT 123456789 -> 12739.
    expect(keySlot('123456789')).toBe(12739);
  });

  it.each(['', 'KNM', 'a:b', '{x}', 'a b', '-x', 'x'.repeat(64)])('rejects the namespace %j', (ns) => {
    expect(() => new Keyspace(ns)).toThrow(/namespace/);
  });
});
