import { matchesLabelSelector, type LabelRequirement, type LabelSelector } from '@knm/contracts';
import type { JsonValue, KubeObject } from '../api/kube-object.js';
import type { ClusterStore } from '../store/cluster-store.js';

/** Whether a pod counts as healthy for a disruption budget: Running, Ready, not terminating. */
export function isHealthyPod(pod: KubeObject): boolean {
  if (pod.metadata.deletionTimestamp !== undefined) return false;
  if (pod.status?.['phase'] !== 'Running') return false;
  const conditions = pod.status['conditions'];
  if (!Array.isArray(conditions)) return false;
  return conditions.some((c) => isRecord(c) && c['type'] === 'Ready' && c['status'] === 'True');
}

/** A metav1.LabelSelector (matchLabels + matchExpressions) as a parsed selector. */
export function labelSelectorFromObject(selector: JsonValue | undefined): LabelSelector | undefined {
  if (!isRecord(selector)) return undefined;
  const requirements: LabelRequirement[] = [];
  const matchLabels = selector['matchLabels'];
  if (isRecord(matchLabels)) {
    for (const [key, value] of Object.entries(matchLabels)) {
      requirements.push({ key, operator: 'Equals', values: [String(value)] });
    }
  }
  const expressions = selector['matchExpressions'];
  if (Array.isArray(expressions)) {
    for (const e of expressions) {
      if (!isRecord(e) || typeof e['key'] !== 'string') continue;
      const values = Array.isArray(e['values']) ? e['values'].map(String) : [];
      const op = e['operator'];
      const operator =
        op === 'In'
          ? 'In'
          : op === 'NotIn'
            ? 'NotIn'
            : op === 'Exists'
              ? 'Exists'
              : op === 'DoesNotExist'
                ? 'DoesNotExist'
                : undefined;
      if (operator) requirements.push({ key: e['key'], operator, values });
    }
  }
  return { requirements };
}

/** What a budget's status counts (the disruption controller's numbers). */
export interface BudgetCounts {
  /** Matching pods not finished. */
  expectedPods: number;
  /** Matching pods that are healthy ({@link isHealthyPod}). */
  currentHealthy: number;
  /** minAvailable (int or % of expected, rounded up) or expected - maxUnavailable. */
  desiredHealthy: number;
  /** currentHealthy - desiredHealthy, never below 0. */
  disruptionsAllowed: number;
}

/** The selector of a budget, or undefined when it selects nothing (no selector or an empty one). */
export function budgetSelector(pdb: KubeObject): LabelSelector | undefined {
  const selector = labelSelectorFromObject(pdb.spec?.['selector']);
  return selector === undefined || selector.requirements.length === 0 ? undefined : selector;
}

/**
 * Counts a budget against `pods` (its namespace's), as the disruption controller
 * would: expected = matching pods not finished, desired = minAvailable (int or %)
 * or expected - maxUnavailable, allowed = healthy - desired.
 */
export function budgetCounts(pdb: KubeObject, pods: readonly KubeObject[]): BudgetCounts {
  const selector = budgetSelector(pdb);
  const matching =
    selector === undefined ? [] : pods.filter((p) => matchesLabelSelector(selector, p.metadata.labels));
  const expectedPods = matching.filter((p) => {
    const phase = p.status?.['phase'];
    return phase !== 'Succeeded' && phase !== 'Failed';
  }).length;
  const currentHealthy = matching.filter(isHealthyPod).length;
  const desired = desiredHealthy(pdb, expectedPods);
  return {
    expectedPods,
    currentHealthy,
    desiredHealthy: desired,
    disruptionsAllowed: Math.max(0, currentHealthy - desired),
  };
}

/**
 * Whether evicting `pod` would violate a PodDisruptionBudget of its namespace.
 * Returns undefined when the eviction may proceed, else the cause message the API
 * server puts in its 429 (`The disruption budget <name> needs N healthy pods and
 * has M currently`). Budgets are evaluated on the spot ({@link budgetCounts}), so
 * an eviction never waits for the status the disruption controller writes. An
 * unhealthy pod may always be evicted while the budget is met (upstream's default
 * `IfHealthyBudget` policy).
 */
export function disruptionVerdict(store: ClusterStore, pod: KubeObject): string | undefined {
  const namespace = pod.metadata.namespace ?? '';
  const budgets = store.kind('PodDisruptionBudget').sorted(`${namespace}/`);
  if (budgets.length === 0) return undefined;
  const pods = store.kind('Pod').sorted(`${namespace}/`);
  for (const pdb of budgets) {
    const selector = budgetSelector(pdb);
    if (selector === undefined || !matchesLabelSelector(selector, pod.metadata.labels)) continue;
    const { currentHealthy: healthy, desiredHealthy: desired } = budgetCounts(pdb, pods);
    const allowed = isHealthyPod(pod) ? healthy - desired > 0 : healthy >= desired;
    if (!allowed) {
      return `The disruption budget ${pdb.metadata.name} needs ${desired} healthy pods and has ${healthy} currently`;
    }
  }
  return undefined;
}

function desiredHealthy(pdb: KubeObject, expected: number): number {
  const minAvailable = pdb.spec?.['minAvailable'];
  const maxUnavailable = pdb.spec?.['maxUnavailable'];
  if (minAvailable !== undefined && minAvailable !== null) return scaled(minAvailable, expected, true);
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    return Math.max(0, expected - scaled(maxUnavailable, expected, false));
  }
  return expected; // no field: a budget of "all" (upstream requires one of the two)
}

function scaled(value: JsonValue, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.endsWith('%')) {
    const f = (Number(value.slice(0, -1)) / 100) * total;
    return roundUp ? Math.ceil(f) : Math.floor(f);
  }
  return Number(value) || 0;
}

function isRecord(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
