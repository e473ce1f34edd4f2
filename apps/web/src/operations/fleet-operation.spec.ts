import { describe, expect, it } from 'vitest';
import { OperationSchema, type Operation } from '@knm/contracts';
import {
  isFleetOperationFinal,
  memberIds,
  newFleetOperation,
  summarizeFleetOperation,
  withProgress,
  withRefused,
  withStarted,
} from './fleet-operation.js';

const UUID = { dev: '00000000-0000-4000-8000-000000000001', edge: '00000000-0000-4000-8000-000000000002' };

function op(
  cluster: 'dev' | 'edge',
  state: Operation['state'],
  done: number,
  failed: string[] = [],
): Operation {
  const nodes = cluster === 'dev' ? ['a', 'b'] : ['n-1'];
  return OperationSchema.parse({
    id: `${cluster}.${UUID[cluster]}`,
    cluster,
    action: 'cordon',
    params: {},
    nodes,
    state,
    progress: { done, total: nodes.length },
    results: nodes.map((node) =>
      failed.includes(node)
        ? { node, status: 'failed', error: 'nodes "n-1" is forbidden' }
        : { node, status: done === nodes.length ? 'succeeded' : 'pending' },
    ),
    createdBy: 'ana',
    createdAt: '2026-12-02T06:00:00Z',
  });
}

const fresh = () =>
  newFleetOperation(
    'fleet-1',
    'cordon',
    [
      { cluster: 'dev', nodes: ['a', 'b'] },
      { cluster: 'edge', nodes: ['n-1'] },
    ],
    '2026-12-02T06:00:00Z',
  );

describe('summarizeFleetOperation', () => {
  it('is running while clusters are starting, with every node still to do', () => {
    const s = summarizeFleetOperation(fresh());
    expect(s).toMatchObject({ state: 'running', running: 2, succeeded: 0, failed: 0 });
    expect(s.progress).toEqual({ done: 0, total: 3 });
    expect(s.clusters.map((c) => c.state)).toEqual(['starting', 'starting']);
  });

  it('stays running until the last cluster finishes, then succeeds', () => {
    let fleet = withStarted(fresh(), 'dev', op('dev', 'queued', 0));
    fleet = withStarted(fleet, 'edge', op('edge', 'queued', 0));
    fleet = withProgress(fleet, op('dev', 'completed', 2));
    expect(summarizeFleetOperation(fleet)).toMatchObject({
      state: 'running',
      succeeded: 1,
      running: 1,
      progress: { done: 2, total: 3 },
    });
    expect(isFleetOperationFinal(fleet)).toBe(false);
    fleet = withProgress(fleet, op('edge', 'completed', 1));
    expect(summarizeFleetOperation(fleet)).toMatchObject({ state: 'succeeded', succeeded: 2, failed: 0 });
    expect(isFleetOperationFinal(fleet)).toBe(true);
  });

  it('says which cluster refused and why; the others still count', () => {
    let fleet = withRefused(fresh(), 'edge', '409: node "n-1" is held by operation edge.x');
    fleet = withStarted(fleet, 'dev', op('dev', 'completed', 2));
    const s = summarizeFleetOperation(fleet);
    expect(s).toMatchObject({ state: 'partial', succeeded: 1, failed: 1, running: 0 });
    expect(s.clusters[1]).toMatchObject({
      cluster: 'edge',
      state: 'refused',
      error: '409: node "n-1" is held by operation edge.x',
      progress: { done: 1, total: 1 },
    });
  });

  it('fails when no cluster succeeded, naming failed nodes', () => {
    let fleet = withRefused(fresh(), 'dev', '403: role operator required');
    fleet = withStarted(fleet, 'edge', op('edge', 'failed', 1, ['n-1']));
    const s = summarizeFleetOperation(fleet);
    expect(s).toMatchObject({ state: 'failed', failed: 2, succeeded: 0 });
    expect(s.clusters[1]?.failures).toEqual(['n-1: nodes "n-1" is forbidden']);
  });

  it('is cancelling after Cancel until every part stops, then cancelled', () => {
    let fleet = withStarted(fresh(), 'dev', op('dev', 'running', 1));
    fleet = withStarted(fleet, 'edge', op('edge', 'completed', 1));
    fleet = { ...fleet, cancelRequested: true };
    expect(summarizeFleetOperation(fleet)).toMatchObject({ state: 'running', cancelling: true });
    fleet = withProgress(fleet, op('dev', 'cancelled', 2));
    expect(summarizeFleetOperation(fleet)).toMatchObject({
      state: 'cancelled',
      cancelling: false,
      cancelled: 1,
      succeeded: 1,
    });
  });
});

describe('fleet operation updates', () => {
  it('never take an older copy of a cluster operation', () => {
    let fleet = withStarted(fresh(), 'dev', op('dev', 'completed', 2));
    fleet = withProgress(fleet, op('dev', 'running', 1));
    expect(summarizeFleetOperation(fleet).clusters[0]?.state).toBe('completed');
  });

  it('ignore operations of no cluster part, and a refusal after a start', () => {
    const started = withStarted(fresh(), 'dev', op('dev', 'queued', 0));
    expect(withProgress(fresh(), op('dev', 'completed', 2))).toEqual(fresh());
    expect(withRefused(started, 'dev', '409')).toBe(started);
    expect(memberIds(started)).toEqual([`dev.${UUID.dev}`]);
  });
});
