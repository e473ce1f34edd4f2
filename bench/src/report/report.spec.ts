import { describe, expect, it } from 'vitest';
import { parseXml } from '../../test/xml.js';
import { compare, summarize } from '../harness/stats.js';
import type { ChartSpec, Comparison, MachineFacts, ScenarioResult } from '../harness/types.js';
import { escapeCell, escapeXml, formatMeasurement, formatRatio, formatValue } from './format.js';
import { renderReport, type ScenarioOutcome } from './markdown.js';
import { renderChart } from './svg.js';

const m = (unit: string, ...runs: number[]) => summarize(unit, runs);
const cmp = (better: Comparison['better'], unit: string, ours: number, baseline: number): Comparison =>
  compare('x', better, m(unit, ours), 'base', m(unit, baseline));

describe('ratio wording', () => {
  it.each([
    ['lower', 'ms', 100, 380, '3.8× faster'],
    ['lower', 'ms', 100, 45, '0.45× (we lose)'],
    ['lower', 'bytes', 39, 4315, '111× smaller'],
    ['lower', 'messages', 3, 1011, '337× fewer'],
    ['higher', 'requests/s', 2000, 500, '4.0× more'],
    ['higher', 'requests/s', 500, 2000, '0.25× (we lose)'],
    ['lower', 'ms', 100, 103, '1.03× (even)'],
  ] as const)('%s is better, %s: ours %d vs %d -> %s', (better, unit, ours, baseline, words) => {
    expect(formatRatio(cmp(better, unit, ours, baseline))).toBe(words);
  });

  it('refuses to compare measurements in different units', () => {
    expect(() => compare('x', 'lower', m('ms', 1), 'base', m('bytes', 1))).toThrow(/ms.*bytes/);
  });
});

describe('values', () => {
  it('scales times and sizes and shows the spread', () => {
    expect(formatValue(3240, 'ms')).toBe('3.24 s');
    expect(formatValue(12.5, 'ms')).toBe('12.5 ms');
    expect(formatValue(465 * 2 ** 20, 'bytes')).toBe('465 MiB');
    expect(formatMeasurement(m('ms', 2980, 3240, 3670))).toBe('3.24 s (2.98 s - 3.67 s)');
    expect(formatMeasurement(m('messages', 502, 503, 510))).toBe('503 messages (502 - 510)');
    expect(formatMeasurement(m('ms', 7))).toBe('7 ms');
  });

  it('escapes Markdown cells and XML', () => {
    expect(escapeCell('a | b\nc')).toBe('a \\| b c');
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
  });
});

describe('SVG charts', () => {
  const spec: ChartSpec = {
    id: 'c',
    title: 'Latency <p50> & "p99"',
    kind: 'bar',
    xLabel: 'endpoint',
    yLabel: 'ms',
    series: [
      {
        name: 'p50',
        points: [
          { x: 'one node', y: 4 },
          { x: 'page', y: 23 },
          { x: 'counts', y: 37 },
        ],
      },
      {
        name: 'p99',
        points: [
          { x: 'one node', y: 10 },
          { x: 'page', y: 60 },
        ],
      },
    ],
  };

  it('draws a well-formed document with one bar per point, scaled to the largest', () => {
    const elements = parseXml(renderChart(spec));
    expect(elements[0]?.name).toBe('svg');
    const bars = elements.filter((e) => e.attrs['class'] === 'bar');
    expect(bars.map((b) => `${b.attrs['data-series']}/${b.attrs['data-x']}`)).toEqual([
      'p50/one node',
      'p99/one node',
      'p50/page',
      'p99/page',
      'p50/counts',
    ]);
    const height = (series: string, x: string): number =>
      Number(bars.find((b) => b.attrs['data-series'] === series && b.attrs['data-x'] === x)?.attrs['height']);
    expect(height('p99', 'page')).toBeGreaterThan(height('p50', 'counts'));
    expect(height('p50', 'counts') / height('p50', 'one node')).toBeCloseTo(37 / 4, 1);
    expect(elements.filter((e) => e.attrs['class'] === 'legend')).toHaveLength(2);
    // y axis 0-60 in steps of 20: four grid lines, and the largest bar reaches the top one.
    const grid = elements.filter((e) => e.attrs['class'] === 'grid').map((g) => g.attrs['y1']);
    expect(grid).toHaveLength(4);
    expect(
      bars.find((b) => b.attrs['data-series'] === 'p99' && b.attrs['data-x'] === 'page')?.attrs['y'],
    ).toBe(grid.at(-1));
  });

  it('draws lines through every point, on a numeric x axis when x is numeric', () => {
    const svg = renderChart({
      ...spec,
      kind: 'line',
      series: [
        {
          name: 'p99',
          points: [
            { x: 100, y: 5 },
            { x: 1000, y: 8 },
            { x: 10000, y: 30 },
          ],
        },
      ],
    });
    const elements = parseXml(svg);
    expect(elements.filter((e) => e.name === 'polyline')).toHaveLength(1);
    const xs = elements.filter((e) => e.name === 'circle').map((c) => Number(c.attrs['cx']));
    expect(xs).toHaveLength(3);
    // Linear scale: 1000 sits a tenth of the way from 100 to 10000.
    expect(((xs[1] as number) - (xs[0] as number)) / ((xs[2] as number) - (xs[0] as number))).toBeCloseTo(
      900 / 9900,
      2,
    );
  });
});

describe('the Markdown report', () => {
  const machine: MachineFacts = {
    cpus: 2,
    cpuModel: 'CPU',
    memoryBytes: 2 ** 34,
    node: 'v24.0.0',
    platform: 'linux',
    release: '6',
  };
  const result: ScenarioResult = {
    scenario: 'queries',
    title: 'Queries',
    params: { nodes: 5000 },
    comparisons: [
      compare('pod counts | all', 'lower', m('ms', 5, 6, 7), 'paged list', m('ms', 3000, 3800, 4000)),
    ],
    figures: [{ metric: 'p99', labels: { clients: 1000 }, value: m('ms', 10) }],
    charts: [
      { ...{ id: 'queries-latency', title: 'Latency', kind: 'bar', xLabel: 'q', yLabel: 'ms' }, series: [] },
    ],
    notes: ['a note'],
  };
  const outcomes: ScenarioOutcome[] = [
    { name: 'queries', title: 'Queries', durationMs: 1200, result },
    { name: 'rest', title: 'REST', durationMs: 300, error: 'gateway exited | code 1' },
  ];
  const report = renderReport({
    date: '2026-11-22T12:00:00.000Z',
    quick: true,
    machine,
    loadAverage: [1, 0.5, 0.25],
    scale: { nodes: 500, pods: 15000 },
    runs: 2,
    warmup: 0,
    outcomes,
    chartPath: (id) => `charts/${id}-quick.svg`,
  });

  it('summarises every comparison with its ratio, escaped', () => {
    expect(report).toContain(
      '| queries | pod counts \\| all | 6 ms (5 ms - 7 ms) | 3.8 s (3 s - 4 s) (paged list) | 633× faster |',
    );
  });

  it('says which scenario failed and why, and links each chart', () => {
    expect(report).toContain('## Failed scenarios');
    expect(report).toContain('- **rest**: gateway exited \\| code 1');
    expect(report).toContain('| [rest](#rest) | FAILED |');
    expect(report).toContain('![Latency](charts/queries-latency-quick.svg)');
    expect(report).toContain('| p99 | 1,000 | 10 ms |');
    expect(report).toContain('2 × CPU, 16 GiB memory, Node v24.0.0');
  });
});
