import { describe, expect, it } from 'vitest';
import { parseSelectorInput, selectRows, type NodeCriteria } from './node-filter.js';
import { nodeResources } from '@knm/contracts';
import { formatAge, toNodeRow } from './node-row.js';
import { barTitle } from './resource-bar.js';
import { testNode as node } from '../../test/support/test-node.js';

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

describe('resource bars', () => {
  const allocatable = { cpu: '4', memory: '16Gi', pods: '110', 'nvidia.com/gpu': '2', 'amd.com/gpu': '2' };
  const base = node('x', { allocatable, podCount: 11 });
  const withResources = (name: string, cpuRequest: number, usage?: { cpu: number; memory: number }) =>
    toNodeRow(
      node(name, {
        allocatable,
        podCount: 11,
        resources: nodeResources(
          base,
          11,
          { requests: { cpu: cpuRequest, 'nvidia.com/gpu': 1 }, limits: { cpu: 6_000 } },
          usage,
        ),
      }),
    );

  it('shows requests, limits and usage of allocatable, GPUs of every vendor summed', () => {
    const row = withResources('a', 1_000, { cpu: 2_000, memory: 2 ** 32 });
    expect(row.bars.cpu).toMatchObject({ requestsPercent: 25, limitsPercent: 150, usagePercent: 50 });
    expect(row.bars.memory).toMatchObject({ requestsPercent: 0, usagePercent: 25 });
    expect(row.bars.pods).toMatchObject({ requestsPercent: 10 });
    expect(row.bars.gpu).toMatchObject({ requestsPercent: 25, usagePercent: null });
    expect(barTitle('cpu', row.bars.cpu, 'unavailable')).toBe(
      'CPU: 4 cores allocatable\nrequests 1 cores (25%)\nlimits 6 cores (150%)\nusage 2 cores (50%)',
    );
    expect(barTitle('memory', withResources('b', 0).bars.memory, 'unavailable: no metrics API')).toMatch(
      /usage unavailable: no metrics API$/,
    );
  });

  it('sorts by CPU requested, either way, ties by name', () => {
    const table = [withResources('a', 1_000), withResources('b', 3_000), withResources('c', 2_000), rows[0]];
    const order = (descending: boolean) =>
      selectRows(
        table.filter((r) => r !== undefined),
        none,
        { key: 'cpu', descending },
      ).map((r) => r.name);
    // node-b's testNode resources request nothing: 0 %.
    expect(order(false)).toEqual(['node-b', 'a', 'c', 'b']);
    expect(order(true)).toEqual(['b', 'c', 'a', 'node-b']);
  });
});

describe('selectRows', () => {
  it('sorts by name, by number, descending, ties by name', () => {
    expect(names(none)).toEqual(['gpu-1', 'node-a', 'node-b', 'node-c']);
    // Pods of allocatable; gpu-1 states no allocatable pods: last either way.
    expect(names(none, 'pods', true)).toEqual(['node-b', 'node-a', 'node-c', 'gpu-1']);
    expect(names(none, 'pods')).toEqual(['node-a', 'node-c', 'node-b', 'gpu-1']);
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
