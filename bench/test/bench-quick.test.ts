import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { spawnProcess, type ProcessExit } from '@knm/testing';
import { SCENARIOS } from '../src/scenarios/index.js';
import { parseXml } from './xml.js';

const MeasurementSchema = z.object({
  unit: z.string().min(1),
  runs: z.array(z.number()).min(1),
  median: z.number(),
  min: z.number(),
  max: z.number(),
});
const ResultFileSchema = z.object({
  scenario: z.string(),
  title: z.string().min(1),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  comparisons: z.array(
    z.object({
      metric: z.string().min(1),
      better: z.enum(['lower', 'higher']),
      ours: MeasurementSchema,
      baselineName: z.string().min(1),
      baseline: MeasurementSchema,
      ratio: z.number(),
    }),
  ),
  figures: z.array(
    z.object({
      metric: z.string(),
      labels: z.record(z.string(), z.union([z.string(), z.number()])),
      value: MeasurementSchema,
    }),
  ),
  charts: z.array(
    z.object({
      id: z.string().regex(/^[a-z0-9-]+$/),
      title: z.string(),
      kind: z.enum(['bar', 'line']),
      xLabel: z.string(),
      yLabel: z.string(),
      series: z.array(
        z.object({
          name: z.string(),
          points: z.array(z.object({ x: z.union([z.string(), z.number()]), y: z.number() })),
        }),
      ),
    }),
  ),
  notes: z.array(z.string()),
  date: z.iso.datetime(),
  mode: z.literal('quick'),
  durationMs: z.number().positive(),
  machine: z.object({
    cpus: z.number().int().positive(),
    cpuModel: z.string(),
    memoryBytes: z.number().positive(),
    node: z.string().startsWith('v'),
    platform: z.string(),
    release: z.string(),
  }),
  scale: z.object({ nodes: z.literal(500), pods: z.literal(15_000) }),
});

/**
 * `npm run bench -- --quick` as CI runs it: a real process running every registered
 * scenario against kube-sim and the test Redis. It proves the harness works end to
 * end; it asserts no timing.
 */
describe('npm run bench -- --quick', () => {
  let out: string;
  let exit: ProcessExit;
  let output: string;

  // Seven scenarios, each starting kube-sim and knm processes: about a minute on a quiet
  // 2-core machine, two minutes at a load average of 7, five at 13 (processes wait for a core).
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'knm-bench-quick-'));
    const proc = spawnProcess({
      name: 'bench',
      command: 'npm',
      args: ['run', '-s', 'bench', '--', '--quick', '--out', out],
    });
    exit = await proc.exited;
    output = proc.output();
  }, 600_000);

  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('exits 0 and prints the summary', () => {
    // Each failed scenario's own error first: the summary table fills the tail.
    const failures = output
      .split('\n')
      .filter((line) => /^\[[a-z-]+\] FAILED /.test(line))
      .join('\n');
    expect(exit, `${failures}\n${output.slice(-3000)}`).toEqual({ code: 0, signal: null });
    expect(output).toMatch(/report: .*REPORT-quick\.md; (\d+) of \1 scenarios ok/);
  });

  it('writes one result per scenario, with finite positive medians and a ratio for every comparison', async () => {
    const files = (await readdir(out)).filter((f) => f.endsWith('.json'));
    const named = files.map((f) => /^\d{4}-\d{2}-\d{2}-(.+)-quick\.json$/.exec(f)?.[1]);
    expect(named.sort()).toEqual(SCENARIOS.map((s) => s.name).sort());
    for (const scenario of SCENARIOS) {
      const file = files.find((f) => f.endsWith(`-${scenario.name}-quick.json`)) as string;
      const result = ResultFileSchema.parse(JSON.parse(await readFile(join(out, file), 'utf8')));
      expect(result.scenario).toBe(scenario.name);
      expect(result.comparisons.length + result.figures.length, scenario.name).toBeGreaterThan(0);
      // Quick runs scenarios side by side, and each result says its figures shared the machine.
      expect(
        result.notes.some((n) => n.includes('`--parallel`')),
        scenario.name,
      ).toBe(true);
      for (const c of result.comparisons) {
        for (const m of [c.ours, c.baseline]) {
          expect(Number.isFinite(m.median) && m.median > 0, `${scenario.name}: ${c.metric}`).toBe(true);
          expect(m.min).toBeLessThanOrEqual(m.median);
          expect(m.max).toBeGreaterThanOrEqual(m.median);
        }
        expect(Number.isFinite(c.ratio) && c.ratio > 0, `${scenario.name}: ${c.metric}`).toBe(true);
      }
    }
  });

  it('writes REPORT-quick.md naming every scenario and linking SVG charts that exist and parse', async () => {
    const report = await readFile(join(out, 'REPORT-quick.md'), 'utf8');
    for (const s of SCENARIOS) expect(report).toContain(`## ${s.name}:`);
    // In the registry's order, whichever scenario finished first.
    const positions = SCENARIOS.map((s) => report.indexOf(`## ${s.name}:`));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(report).not.toContain('Failed scenarios');
    const links = [...report.matchAll(/!\[[^\]]*\]\((charts\/[^)]+\.svg)\)/g)].map((l) => l[1] as string);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      const path = join(out, link);
      expect(existsSync(path), link).toBe(true);
      const elements = parseXml(await readFile(path, 'utf8'));
      expect(elements[0]?.name, link).toBe('svg');
    }
  });
});

describe('npm run bench with a bad flag', () => {
  it.each([
    [['--parallel', '0'], /--parallel must be a positive integer/],
    [['--only', 'nope'], /unknown scenario\(s\): nope/],
    [['--runs'], /--runs needs a value/],
  ])('%j: exit 2 with the reason and the usage', async (args, message) => {
    const proc = spawnProcess({ name: 'bench', command: 'npm', args: ['run', '-s', 'bench', '--', ...args] });
    const exit = await proc.exited;
    expect(exit).toEqual({ code: 2, signal: null });
    expect(proc.output()).toMatch(message);
    expect(proc.output()).toContain('usage: npm run bench');
  });
});
