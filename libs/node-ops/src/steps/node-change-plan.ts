import {
  ANNOTATION_CORDONED_AT,
  ANNOTATION_CORDONED_BY,
  ANNOTATION_CORDON_REASON,
  type NodeAspects,
  type OperationSpec,
} from '@knm/contracts';
import type { PatchKind } from '../kube/kube-api-client.js';

/** A taint as the API has it (effect kept as a string: the API may hold effects we do not know). */
export interface NodeTaint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

/** What an operation reads of a node: the same whether it comes from the API or knm's snapshot. */
export interface NodeState {
  resourceVersion?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  taints: NodeTaint[];
  unschedulable: boolean;
}

/** Who and why, for the cordon annotations. */
export interface PlanContext {
  user: string;
  reason?: string;
  /** RFC 3339 time for `knm.io/cordoned-at` and NoExecute `timeAdded`. */
  now: string;
}

/** The change one action makes to one node: whether anything changes, a readable summary, and the patch. */
export interface NodeChangePlan {
  changed: boolean;
  summary: string;
  before: NodeAspects;
  after: NodeAspects;
  /** Absent when nothing changes. */
  patch?: { kind: PatchKind; body: unknown };
}

const CORDON_ANNOTATIONS = [ANNOTATION_CORDON_REASON, ANNOTATION_CORDONED_BY, ANNOTATION_CORDONED_AT];

function pick(record: Record<string, string>, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) if (record[k] !== undefined) out[k] = record[k];
  return out;
}

function taintView(t: NodeTaint): {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
} {
  const out: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' } = {
    key: t.key,
    effect: t.effect as 'NoSchedule',
  };
  if (t.value !== undefined && t.value !== '') out.value = t.value;
  return out;
}

function formatTaint(t: { key: string; value?: string | undefined; effect?: string | undefined }): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}${t.effect ? `:${t.effect}` : ''}`;
}

/**
 * What `spec` would do to a node in `state` (the cordon part only, for drain: its
 * evictions are decided at run time). Pure: the worker applies `patch`, the dry run
 * shows `summary`, `before` and `after`. A node already in the target state has
 * `changed: false` and no patch, which is what makes re-running a step harmless.
 */
export function planNodeChange(spec: OperationSpec, state: NodeState, ctx: PlanContext): NodeChangePlan {
  switch (spec.action) {
    case 'label': {
      const wanted = spec.params.labels;
      const keys = Object.keys(wanted).sort();
      const diff = keys.filter((k) => state.labels[k] !== wanted[k]);
      const before = pick(state.labels, keys);
      const after = { ...before, ...wanted };
      if (diff.length === 0)
        return {
          changed: false,
          summary: 'labels already set',
          before: { labels: before },
          after: { labels: after },
        };
      const summary = diff
        .map((k) =>
          state.labels[k] === undefined ? `+${k}=${wanted[k]}` : `${k}: ${state.labels[k]} -> ${wanted[k]}`,
        )
        .join(', ');
      const patch = { metadata: { labels: Object.fromEntries(diff.map((k) => [k, wanted[k]])) } };
      return {
        changed: true,
        summary,
        before: { labels: before },
        after: { labels: after },
        patch: { kind: 'merge', body: patch },
      };
    }
    case 'unlabel': {
      const keys = [...new Set(spec.params.keys)].sort();
      const present = keys.filter((k) => state.labels[k] !== undefined);
      const before = pick(state.labels, keys);
      if (present.length === 0)
        return {
          changed: false,
          summary: 'labels already absent',
          before: { labels: before },
          after: { labels: {} },
        };
      const patch = { metadata: { labels: Object.fromEntries(present.map((k) => [k, null])) } };
      return {
        changed: true,
        summary: present.map((k) => `-${k}`).join(', '),
        before: { labels: before },
        after: { labels: {} },
        patch: { kind: 'merge', body: patch },
      };
    }
    case 'taint': {
      const next = state.taints.map((t) => ({ ...t }));
      const notes: string[] = [];
      for (const want of spec.params.taints) {
        const same = next.find((t) => t.key === want.key && t.effect === want.effect);
        const value = want.value ?? '';
        if (same) {
          if ((same.value ?? '') !== value) {
            notes.push(`${formatTaint(same)} -> ${formatTaint(want)}`);
            if (value === '') delete same.value;
            else same.value = value;
          }
          continue;
        }
        const added: NodeTaint = { key: want.key, effect: want.effect };
        if (value !== '') added.value = value;
        if (want.effect === 'NoExecute') added.timeAdded = ctx.now;
        next.push(added);
        notes.push(`+${formatTaint(want)}`);
      }
      return taintPlan(state, next, notes, 'taints already present');
    }
    case 'untaint': {
      const removed: NodeTaint[] = [];
      const next = state.taints.filter((t) => {
        const match = spec.params.taints.some(
          (r) => r.key === t.key && (r.effect === undefined || r.effect === t.effect),
        );
        if (match) removed.push(t);
        return !match;
      });
      return taintPlan(
        state,
        next,
        removed.map((t) => `-${formatTaint(t)}`),
        'taints already absent',
      );
    }
    case 'cordon':
    case 'drain':
      return cordonPlan(state, ctx);
    case 'uncordon': {
      const before: NodeAspects = {
        unschedulable: state.unschedulable,
        annotations: pick(state.annotations, CORDON_ANNOTATIONS),
      };
      const hasAnnotations = Object.keys(before.annotations ?? {}).length > 0;
      if (!state.unschedulable && !hasAnnotations) {
        return {
          changed: false,
          summary: 'already schedulable',
          before,
          after: { unschedulable: false, annotations: {} },
        };
      }
      const patch = {
        spec: { unschedulable: null },
        metadata: { annotations: Object.fromEntries(CORDON_ANNOTATIONS.map((k) => [k, null])) },
      };
      return {
        changed: true,
        summary: state.unschedulable ? 'uncordon' : 'remove cordon annotations',
        before,
        after: { unschedulable: false, annotations: {} },
        patch: { kind: 'merge', body: patch },
      };
    }
  }
}

function taintPlan(state: NodeState, next: NodeTaint[], notes: string[], unchanged: string): NodeChangePlan {
  const before = { taints: state.taints.map(taintView) };
  const after = { taints: next.map(taintView) };
  if (notes.length === 0) return { changed: false, summary: unchanged, before, after };
  // The whole list with a resourceVersion precondition, like kubectl: a concurrent
  // change answers 409 and the step re-reads instead of overwriting it.
  const body: { metadata: { resourceVersion?: string }; spec: { taints: NodeTaint[] } } = {
    metadata: {},
    spec: { taints: next },
  };
  if (state.resourceVersion !== undefined) body.metadata.resourceVersion = state.resourceVersion;
  return { changed: true, summary: notes.join(', '), before, after, patch: { kind: 'strategic', body } };
}

function cordonPlan(state: NodeState, ctx: PlanContext): NodeChangePlan {
  const before: NodeAspects = {
    unschedulable: state.unschedulable,
    annotations: pick(state.annotations, CORDON_ANNOTATIONS),
  };
  const annotations: Record<string, string> = {
    [ANNOTATION_CORDONED_BY]: ctx.user,
    [ANNOTATION_CORDONED_AT]: ctx.now,
  };
  if (ctx.reason) annotations[ANNOTATION_CORDON_REASON] = ctx.reason;
  const same =
    state.unschedulable &&
    state.annotations[ANNOTATION_CORDONED_BY] === ctx.user &&
    state.annotations[ANNOTATION_CORDON_REASON] === ctx.reason;
  if (same) return { changed: false, summary: 'already cordoned', before, after: before };
  const patchAnnotations: Record<string, string | null> = { ...annotations };
  if (!ctx.reason) patchAnnotations[ANNOTATION_CORDON_REASON] = null;
  return {
    changed: true,
    summary: state.unschedulable
      ? 'already cordoned; record reason'
      : `cordon${ctx.reason ? ` (${ctx.reason})` : ''}`,
    before,
    after: { unschedulable: true, annotations },
    patch: {
      kind: 'merge',
      body: { spec: { unschedulable: true }, metadata: { annotations: patchAnnotations } },
    },
  };
}
