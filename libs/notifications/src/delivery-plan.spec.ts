import { describe, expect, it } from 'vitest';
import { toClusterName, type IncidentTransition, type WebhookSinkRecord } from '@knm/contracts';
import { MAX_TRANSITIONS_PER_MESSAGE } from './delivery-job.js';
import { planDeliveries } from './delivery-plan.js';

const transition = (
  node: string,
  kind: 'opened' | 'resolved',
  labels: Record<string, string> = {},
): IncidentTransition => ({
  cluster: toClusterName('prod'),
  node,
  incident: `${node}-1`,
  kind,
  cause: 'NotReady',
  startedAt: '2026-12-02T00:00:00.000Z',
  ...(kind === 'resolved' ? { endedAt: '2026-12-02T00:01:00.000Z' } : {}),
  flapping: false,
  labels,
});

const sink = (id: string, over: Partial<WebhookSinkRecord> = {}): WebhookSinkRecord => ({
  id,
  name: id,
  format: 'json',
  target: 'http://127.0.0.1',
  clusters: '*',
  events: ['opened', 'resolved'],
  maxPerMinute: 20,
  sealed: 'v1.x.y.z.w',
  createdAt: '2026-12-02T00:00:00.000Z',
  ...over,
});

describe('planDeliveries', () => {
  it('groups by sink and kind, keeps order, and names jobs after the hand-over', () => {
    const jobs = planDeliveries(
      'prod',
      '1700-0',
      [transition('a', 'opened'), transition('b', 'resolved'), transition('c', 'opened')],
      [sink('s1')],
    );
    expect(jobs.map((j) => [j.jobId, j.data.transitions.map((t) => t.node)])).toEqual([
      ['prod/1700-0/s1/opened/0', ['a', 'c']],
      ['prod/1700-0/s1/resolved/0', ['b']],
    ]);
    expect(
      planDeliveries(
        'prod',
        '1700-0',
        [transition('a', 'opened'), transition('b', 'resolved'), transition('c', 'opened')],
        [sink('s1')],
      ),
    ).toEqual(jobs);
  });

  it("honours each sink's clusters, selector and events", () => {
    const ts = [
      transition('gpu-1', 'opened', { pool: 'gpu' }),
      transition('cpu-1', 'opened', { pool: 'cpu' }),
      transition('gpu-1', 'resolved', { pool: 'gpu' }),
    ];
    const jobs = planDeliveries('prod', 'h', ts, [
      sink('other-cluster', { clusters: [toClusterName('staging')] }),
      sink('gpu-only', { selector: 'pool=gpu' }),
      sink('opens-only', { events: ['opened'] }),
    ]);
    expect(
      jobs.map((j) => `${j.data.sinkId}:${j.data.kind}:${j.data.transitions.map((t) => t.node).join(',')}`),
    ).toEqual(['gpu-only:opened:gpu-1', 'gpu-only:resolved:gpu-1', 'opens-only:opened:gpu-1,cpu-1']);
  });

  it('splits a big group into messages of at most MAX_TRANSITIONS_PER_MESSAGE', () => {
    const many = Array.from({ length: MAX_TRANSITIONS_PER_MESSAGE * 2 + 1 }, (_, i) =>
      transition(`n${i}`, 'opened'),
    );
    const jobs = planDeliveries('prod', 'h', many, [sink('s')]);
    expect(jobs.map((j) => j.data.transitions.length)).toEqual([
      MAX_TRANSITIONS_PER_MESSAGE,
      MAX_TRANSITIONS_PER_MESSAGE,
      1,
    ]);
    expect(new Set(jobs.map((j) => j.jobId)).size).toBe(3);
  });
});
