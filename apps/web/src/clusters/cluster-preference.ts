import type { ClusterSummaryBody } from '@knm/contracts';
import type { KeyValueStorage } from '../storage/dashboard-storage.js';

/** The local-storage key of the last cluster chosen (kept across tabs and visits). */
export const CLUSTER_PREFERENCE_KEY = 'knm.cluster';

/** The cluster a person last chose, remembered so the next visit opens on it. */
export class ClusterPreference {
  constructor(private readonly storage: KeyValueStorage) {}

  remember(name: string): void {
    this.storage.setItem(CLUSTER_PREFERENCE_KEY, name);
  }

  /** The remembered cluster when the list still has it, else the list's first; undefined for an empty list. */
  pick(clusters: readonly ClusterSummaryBody[]): ClusterSummaryBody | undefined {
    const preferred = this.storage.getItem(CLUSTER_PREFERENCE_KEY);
    return clusters.find((c) => c.name === preferred) ?? clusters[0];
  }
}
