import type { JsonObject, JsonValue, KubeObject } from '../api/kube-object.js';
import { semanticallyEqual } from '../api/semantic-equal.js';
import type { StoredChange } from '../store/change-log.js';
import { objectKey } from '../store/kind-store.js';
import { rfc3339 } from './clock.js';
import type { Cluster } from './cluster.js';
import { budgetCounts, type BudgetCounts } from './disruption-budget.js';

function namespaceOf(key: string): string {
  return key.slice(0, key.indexOf('/'));
}

function conditionOf(status: JsonValue | undefined): JsonObject | undefined {
  if (typeof status !== 'object' || status === null || Array.isArray(status)) return undefined;
  const conditions = status['conditions'];
  if (!Array.isArray(conditions)) return undefined;
  const found = conditions.find(
    (c) => typeof c === 'object' && c !== null && !Array.isArray(c) && c['type'] === 'DisruptionAllowed',
  );
  return found as JsonObject | undefined;
}

/**
 * The PodDisruptionBudget status as the disruption controller writes it (policy/v1):
 * the counts, and the `DisruptionAllowed` condition whose transition time moves only
 * when its status flips.
 */
export function budgetStatus(pdb: KubeObject, counts: BudgetCounts, now: string): JsonObject {
  const allowed = counts.disruptionsAllowed > 0;
  const previous = conditionOf(pdb.status);
  const conditionStatus = allowed ? 'True' : 'False';
  const generation = pdb.metadata.generation;
  const observed: JsonObject = typeof generation === 'number' ? { observedGeneration: generation } : {};
  return {
    ...observed,
    disruptionsAllowed: counts.disruptionsAllowed,
    currentHealthy: counts.currentHealthy,
    desiredHealthy: counts.desiredHealthy,
    expectedPods: counts.expectedPods,
    conditions: [
      {
        type: 'DisruptionAllowed',
        status: conditionStatus,
        reason: allowed ? 'SufficientPods' : 'InsufficientPods',
        message: '',
        lastTransitionTime:
          previous?.['status'] === conditionStatus && typeof previous['lastTransitionTime'] === 'string'
            ? previous['lastTransitionTime']
            : now,
        ...observed,
      },
    ],
  };
}

/**
 * The simulated disruption controller: keeps every PodDisruptionBudget's status
 * (allowed disruptions, healthy/desired/expected pods, the DisruptionAllowed
 * condition) up to date with its namespace's pods, so `kubectl get pdb` and clients
 * reading the status see what a real cluster shows. It reacts to pod and budget
 * changes by scheduling one pass over the namespaces touched (never writing inside a
 * change listener) and writes a budget only when its status changes. Evictions do
 * not wait for it: they judge budgets on the spot (disruptionVerdict).
 */
export class DisruptionController {
  private readonly dirty = new Set<string>();
  private passScheduled = false;

  constructor(private readonly cluster: Cluster) {
    for (const pdb of cluster.store.kind('PodDisruptionBudget').sorted()) this.touch(objectKey(pdb));
    cluster.store.subscribe((event) => this.onChange(event));
  }

  private onChange(event: StoredChange): void {
    if (event.kind === 'PodDisruptionBudget') {
      if (event.type !== 'DELETED') this.touch(event.key);
      return;
    }
    if (event.kind !== 'Pod') return;
    const namespace = namespaceOf(event.key);
    if (this.cluster.store.kind('PodDisruptionBudget').sorted(`${namespace}/`).length > 0)
      this.touch(event.key);
  }

  private touch(key: string): void {
    this.dirty.add(namespaceOf(key));
    if (this.passScheduled) return;
    this.passScheduled = true;
    this.cluster.schedule(0, () => this.pass());
  }

  private pass(): void {
    this.passScheduled = false;
    const store = this.cluster.store;
    const now = rfc3339(this.cluster.now());
    for (const namespace of [...this.dirty].sort()) {
      this.dirty.delete(namespace);
      const budgets = store.kind('PodDisruptionBudget').sorted(`${namespace}/`);
      if (budgets.length === 0) continue;
      const pods = store.kind('Pod').sorted(`${namespace}/`);
      for (const pdb of budgets) {
        const status = budgetStatus(pdb, budgetCounts(pdb, pods), now);
        if (!semanticallyEqual(status, pdb.status))
          this.cluster.write('PodDisruptionBudget', { ...pdb, status });
      }
    }
  }
}
