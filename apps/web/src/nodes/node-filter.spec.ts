import { describe, expect, it } from 'vitest';
import { parseSelectorInput, selectRows, type NodeCriteria } from './node-filter.js';
import { formatAge, toNodeRow } from './node-row.js';
import { testNode as node } from './test-node.js';

const rows = [
  toNodeRow(node('node-b', { podCount: 50 })),
  toNodeRow(node('node-a', { ready: 'False', labels: { env: 'prod' } })),
  toNodeRow(node('node-c', { unschedulable: true, labels: { env: 'dev', team: 'ml' } })),
  toNodeRow(
    node('gpu-1', {
      allocatable: { cpu: '32', memory: '256Gi', 'nvidia.com/gpu': '4' },
      taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
      ready: 'Unknown',
    }),
  ),
];

const none: NodeCriteria = { search: '', quick: new Set() };
const names = (
  criteria: NodeCriteria,
  key: 'name' | 'pods' | 'status' | 'gpus' = 'name',
  descending = false,
) => selectRows(rows, criteria, { key, descending }).map((r) => r.name);

describe('toNodeRow', () => {
  it('derives status, resources, GPUs, zone and chips', () => {
    const gpu = rows[3];
    expect(gpu?.status).toBe('Unknown');
    expect(gpu?.gpus).toBe(4);
    expect(gpu?.cpu).toBe(32);
    expect(gpu?.taintChips).toEqual(['nvidia.com/gpu=present:NoSchedule']);
    expect(rows[0]?.zone).toBe('zone-a');
    // Hostname and zone are columns already: no chips for them.
    expect(rows[0]?.labelChips).toEqual([]);
    expect(rows[2]?.labelChips).toEqual(['env=dev', 'team=ml']);
  });

  it('formats ages like kubectl', () => {
    const t = Date.parse('2026-01-01T00:00:00Z');
    expect(formatAge(t, t + 30_000)).toBe('30s');
    expect(formatAge(t, t + 30 * 60_000)).toBe('30m');
    expect(formatAge(t, t + 5 * 3_600_000)).toBe('5h');
    expect(formatAge(t, t + 10 * 86_400_000)).toBe('10d');
  });
});

describe('selectRows', () => {
  it('sorts by name, by number, descending, ties by name', () => {
    expect(names(none)).toEqual(['gpu-1', 'node-a', 'node-b', 'node-c']);
    expect(names(none, 'pods', true)).toEqual(['node-b', 'gpu-1', 'node-a', 'node-c']);
    expect(names(none, 'status')).toEqual(['node-b', 'node-c', 'gpu-1', 'node-a']);
  });

  it('searches names, labels and taints case-insensitively', () => {
    expect(names({ ...none, search: 'NODE-' })).toEqual(['node-a', 'node-b', 'node-c']);
    expect(names({ ...none, search: 'team=ml' })).toEqual(['node-c']);
    expect(names({ ...none, search: 'present:noschedule' })).toEqual(['gpu-1']);
  });

  it('applies a label selector with Kubernetes semantics', () => {
    const { selector } = parseSelectorInput('env in (prod,dev),team!=ml');
    expect(names({ ...none, ...(selector ? { selector } : {}) })).toEqual(['node-a']);
    expect(parseSelectorInput('env in (')).toEqual({ error: expect.stringMatching(/unable to parse/) });
    expect(parseSelectorInput('  ')).toEqual({});
  });

  it('combines quick filters with AND', () => {
    expect(names({ ...none, quick: new Set(['notReady']) })).toEqual(['gpu-1', 'node-a']);
    expect(names({ ...none, quick: new Set(['cordoned']) })).toEqual(['node-c']);
    expect(names({ ...none, quick: new Set(['tainted', 'gpu']) })).toEqual(['gpu-1']);
    expect(names({ ...none, quick: new Set(['gpu', 'cordoned']) })).toEqual([]);
  });

  it('filters and sorts 5,000 nodes in well under a frame budget of 100 ms', () => {
    const many = Array.from({ length: 5_000 }, (_, i) =>
      toNodeRow(
        node(`node-${String(i).padStart(5, '0')}`, { podCount: i % 97, labels: { env: i % 2 ? 'a' : 'b' } }),
      ),
    );
    const { selector } = parseSelectorInput('env=a');
    const started = performance.now();
    const out = selectRows(
      many,
      { search: 'node-', quick: new Set(), ...(selector ? { selector } : {}) },
      {
        key: 'pods',
        descending: true,
      },
    );
    const ms = performance.now() - started;
    expect(out).toHaveLength(2_500);
    expect(ms).toBeLessThan(100);
  });
});
