import { describe, expect, it } from 'vitest';
import { nodeResources } from '@knm/contracts';
import { seededRandom } from '@knm/testing';
import { toNodeRow } from './node-row.js';
import { resourceOverview, sumPercent } from './resource-overview.js';
import { testNode } from '../../test/support/test-node.js';

const allocatable = { cpu: '4', memory: '16Gi', pods: '100' };
function row(
  name: string,
  labels: Record<string, string>,
  cpu: number,
  usage?: { cpu: number; memory: number },
) {
  const base = testNode(name, { allocatable, labels, podCount: 10 });
  return toNodeRow({
    ...base,
    resources: nodeResources(base, 10, { requests: { cpu }, limits: {} }, usage),
  });
}

describe('resourceOverview', () => {
  const zone = 'topology.kubernetes.io/zone';
  const rows = [
    row('a', { [zone]: 'z1', 'karpenter.sh/nodepool': 'spot' }, 3_000, { cpu: 1_000, memory: 2 ** 30 }),
    row('b', { [zone]: 'z1' }, 1_000),
    row('c', { [zone]: 'z2', 'karpenter.sh/nodepool': 'spot' }, 4_000),
  ];

  it('sums totals, groups by zone or pool, usage of the measured nodes only', () => {
    const byZone = resourceOverview(rows, 'zone');
    expect(byZone.nodes).toBe(3);
    expect(byZone.totals.cpu).toEqual({
      allocatable: 12_000,
      requests: 8_000,
      limits: 0,
      usage: 1_000,
      measuredAllocatable: 4_000,
    });
    expect(sumPercent(byZone.totals.cpu, 'requests')).toBeCloseTo(66.67, 2);
    expect(sumPercent(byZone.totals.cpu, 'usage')).toBe(25);
    expect(sumPercent(byZone.totals.memory, 'usage')).toBeCloseTo(6.25, 2);
    expect(byZone.groups.map((g) => [g.name, g.nodes, g.cpu.requests])).toEqual([
      ['z1', 2, 4_000],
      ['z2', 1, 4_000],
    ]);
    expect(resourceOverview(rows, 'pool').groups.map((g) => [g.name, g.nodes])).toEqual([
      ['none', 1],
      ['spot', 2],
    ]);
  });

  it('lists the nodes under most pressure: their highest percent requested, highest first', () => {
    expect(resourceOverview(rows, 'zone', 2).pressure).toEqual([
      { name: 'c', resource: 'cpu', percent: 100 },
      { name: 'a', resource: 'cpu', percent: 75 },
    ]);
  });

  it('keeps the same top as sorting every node would, ties by name, in any input order', () => {
    const random = seededRandom(20);
    // Few distinct requests, so many ties; names shuffled.
    const many = Array.from({ length: 300 }, (_, i) => `n-${String(i).padStart(3, '0')}`)
      .sort(() => random() - 0.5)
      .map((name) => row(name, { [zone]: 'z1' }, 500 * Math.floor(random() * 8)));
    const everyOne = many
      .map((r) => ({
        name: r.name,
        percent: Math.max(...Object.values(r.bars).map((bar) => bar?.requestsPercent ?? 0)),
      }))
      .sort((a, b) => b.percent - a.percent || (a.name < b.name ? -1 : 1));
    for (const top of [0, 1, 5, 12]) {
      const pressure = resourceOverview(many, 'zone', top).pressure;
      expect(pressure.map((p) => [p.name, p.percent])).toEqual(
        everyOne.slice(0, top).map((p) => [p.name, p.percent]),
      );
    }
  });
});
