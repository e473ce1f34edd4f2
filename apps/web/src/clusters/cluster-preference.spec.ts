import { describe, expect, it } from 'vitest';
import { ClusterSummarySchema, type ClusterSummaryBody } from '@knm/contracts';
import { MemoryStorage } from '../storage/memory-storage.js';
import { CLUSTER_PREFERENCE_KEY, ClusterPreference } from './cluster-preference.js';

const cluster = (name: string): ClusterSummaryBody =>
  ClusterSummarySchema.parse({
    name,
    seq: 1,
    epoch: 1,
    registeredAt: '2026-01-01T00:00:00Z',
    status: 'ready',
  });

describe('ClusterPreference', () => {
  it('picks the remembered cluster, else the first; nothing from an empty list', () => {
    const storage = new MemoryStorage();
    const preference = new ClusterPreference(storage);
    const list = [cluster('dev'), cluster('prod')];
    expect(preference.pick(list)?.name).toBe('dev');
    preference.remember('prod');
    expect(storage.items.get(CLUSTER_PREFERENCE_KEY)).toBe('prod');
    expect(preference.pick(list)?.name).toBe('prod');
    expect(preference.pick([cluster('dev')])?.name).toBe('dev');
    expect(preference.pick([])).toBeUndefined();
  });
});
