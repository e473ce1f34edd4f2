import { describe, expect, it } from 'vitest';
import {
  ANNOTATION_CORDONED_AT,
  ANNOTATION_CORDONED_BY,
  ANNOTATION_CORDON_REASON,
  OperationSpecSchema,
  type OperationSpec,
} from '@knm/contracts';
import { planNodeChange, type NodeState } from './node-change-plan.js';

const ctx = { user: 'olga', reason: 'kernel', now: '2026-11-22T17:00:00.000Z' };

function state(over: Partial<NodeState> = {}): NodeState {
  return {
    resourceVersion: '42',
    labels: { env: 'dev' },
    annotations: {},
    taints: [],
    unschedulable: false,
    ...over,
  };
}

function spec(input: unknown): OperationSpec {
  return OperationSpecSchema.parse(input);
}

describe('planNodeChange', () => {
  it('label: merge-patches only the labels that differ', () => {
    const plan = planNodeChange(
      spec({ action: 'label', params: { labels: { env: 'prod', team: 'a' } } }),
      state(),
      ctx,
    );
    expect(plan).toMatchObject({
      changed: true,
      summary: 'env: dev -> prod, +team=a',
      patch: { kind: 'merge', body: { metadata: { labels: { env: 'prod', team: 'a' } } } },
    });
    const same = planNodeChange(spec({ action: 'label', params: { labels: { env: 'dev' } } }), state(), ctx);
    expect(same).toMatchObject({ changed: false, summary: 'labels already set' });
    expect(same.patch).toBeUndefined();
  });

  it('unlabel: nulls only present keys', () => {
    const plan = planNodeChange(
      spec({ action: 'unlabel', params: { keys: ['env', 'absent'] } }),
      state(),
      ctx,
    );
    expect(plan.patch).toEqual({ kind: 'merge', body: { metadata: { labels: { env: null } } } });
    expect(
      planNodeChange(spec({ action: 'unlabel', params: { keys: ['absent'] } }), state(), ctx).changed,
    ).toBe(false);
  });

  it('taint: whole list with a resourceVersion precondition; same key+effect updates the value; NoExecute gets timeAdded', () => {
    const current = state({ taints: [{ key: 'a', value: '1', effect: 'NoSchedule' }] });
    const plan = planNodeChange(
      spec({
        action: 'taint',
        params: {
          taints: [
            { key: 'a', value: '2', effect: 'NoSchedule' },
            { key: 'b', effect: 'NoExecute' },
          ],
        },
      }),
      current,
      ctx,
    );
    expect(plan.summary).toBe('a=1:NoSchedule -> a=2:NoSchedule, +b:NoExecute');
    expect(plan.patch).toEqual({
      kind: 'strategic',
      body: {
        metadata: { resourceVersion: '42' },
        spec: {
          taints: [
            { key: 'a', value: '2', effect: 'NoSchedule' },
            { key: 'b', effect: 'NoExecute', timeAdded: ctx.now },
          ],
        },
      },
    });
    expect(current.taints).toEqual([{ key: 'a', value: '1', effect: 'NoSchedule' }]); // not mutated
    const again = planNodeChange(
      spec({ action: 'taint', params: { taints: [{ key: 'a', value: '1', effect: 'NoSchedule' }] } }),
      current,
      ctx,
    );
    expect(again.changed).toBe(false);
  });

  it('untaint: by key (every effect) or by key and effect', () => {
    const current = state({
      taints: [
        { key: 'a', effect: 'NoSchedule' },
        { key: 'a', effect: 'NoExecute' },
        { key: 'b', effect: 'NoSchedule' },
      ],
    });
    const all = planNodeChange(spec({ action: 'untaint', params: { taints: [{ key: 'a' }] } }), current, ctx);
    expect((all.patch?.body as { spec: { taints: unknown[] } }).spec.taints).toEqual([
      { key: 'b', effect: 'NoSchedule' },
    ]);
    const one = planNodeChange(
      spec({ action: 'untaint', params: { taints: [{ key: 'a', effect: 'NoExecute' }] } }),
      current,
      ctx,
    );
    expect(one.summary).toBe('-a:NoExecute');
    expect(
      planNodeChange(spec({ action: 'untaint', params: { taints: [{ key: 'zzz' }] } }), current, ctx).changed,
    ).toBe(false);
  });

  it('cordon records reason, user and time; a re-run by the same user with the same reason changes nothing', () => {
    const plan = planNodeChange(spec({ action: 'cordon' }), state(), ctx);
    expect(plan.patch).toEqual({
      kind: 'merge',
      body: {
        spec: { unschedulable: true },
        metadata: {
          annotations: {
            [ANNOTATION_CORDONED_BY]: 'olga',
            [ANNOTATION_CORDONED_AT]: ctx.now,
            [ANNOTATION_CORDON_REASON]: 'kernel',
          },
        },
      },
    });
    const done = state({
      unschedulable: true,
      annotations: {
        [ANNOTATION_CORDONED_BY]: 'olga',
        [ANNOTATION_CORDON_REASON]: 'kernel',
        [ANNOTATION_CORDONED_AT]: 'x',
      },
    });
    expect(planNodeChange(spec({ action: 'cordon' }), done, { ...ctx, now: 'later' }).changed).toBe(false);
    expect(planNodeChange(spec({ action: 'drain' }), done, ctx).changed).toBe(false);
  });

  it('uncordon removes the flag and the annotations', () => {
    const cordoned = state({
      unschedulable: true,
      annotations: { [ANNOTATION_CORDON_REASON]: 'r', other: 'kept' },
    });
    const plan = planNodeChange(spec({ action: 'uncordon' }), cordoned, ctx);
    expect(plan.patch).toEqual({
      kind: 'merge',
      body: {
        spec: { unschedulable: null },
        metadata: {
          annotations: {
            [ANNOTATION_CORDON_REASON]: null,
            [ANNOTATION_CORDONED_BY]: null,
            [ANNOTATION_CORDONED_AT]: null,
          },
        },
      },
    });
    expect(planNodeChange(spec({ action: 'uncordon' }), state(), ctx).changed).toBe(false);
  });
});
