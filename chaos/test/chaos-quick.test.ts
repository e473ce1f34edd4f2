import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnProcess } from '@knm/testing';
import type { ChaosReport } from '../src/chaos-report.js';
import { SCENARIOS } from '../src/scenarios.js';

let out: string | undefined;

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

/** What went wrong, from the report: a failed scenario's error, checks and per-cluster detail; a failed soak's. */
function failures(report: ChaosReport): string[] {
  const lines: string[] = [];
  for (const s of report.scenarios.filter((x) => !x.ok || x.eventsLost > 0)) {
    lines.push(`scenario ${s.name}: ${s.error ?? 'failed'}; events lost ${s.eventsLost}`);
    for (const c of s.checks.filter((x) => !x.ok)) lines.push(`  check ${c.name}: ${c.detail}`);
    for (const c of s.clusters) for (const d of c.detail) lines.push(`  ${c.cluster}: ${d}`);
  }
  const soak = report.soak;
  if (soak && (!soak.ok || soak.eventsLost > 0)) {
    const growing = soak.trendsJudged ? soak.memory.filter((m) => m.judged && m.trend.growing) : [];
    lines.push(`soak: ${soak.error ?? 'failed'}; events lost ${soak.eventsLost}`);
    for (const m of growing)
      lines.push(`  growing: ${m.name}, rise ${m.trend.riseBytes} B over a mean of ${m.trend.meanBytes} B`);
    for (const c of soak.clusters) for (const d of c.detail) lines.push(`  ${c.cluster}: ${d}`);
  }
  return lines;
}

describe('npm run chaos -- --quick', () => {
  it('injects every fault with SDK clients connected, loses nothing, and writes the report', async () => {
    out = await mkdtemp(join(tmpdir(), 'knm-chaos-test-'));
    const run = spawnProcess({
      name: 'chaos',
      command: 'npm',
      args: ['run', '-s', 'chaos', '--', '--quick', '--out', out],
    });
    const exit = await run.exited;
    const files = await readdir(out);
    const jsonFile = files.find((f) => f.endsWith('-quick.json'));
    // A run that could not write its report failed before the end: its output says why.
    expect(jsonFile, `no report written; the run's last lines:\n${run.tail(60)}`).toBeDefined();
    const report = JSON.parse(await readFile(join(out, jsonFile ?? 'missing'), 'utf8')) as ChaosReport;
    // A failed scenario or soak is named with what it saw before the exit code is checked.
    expect(failures(report)).toEqual([]);
    expect(exit).toEqual({ code: 0, signal: null });

    expect(files).toEqual(expect.arrayContaining(['REPORT-quick.md', 'memory-quick.svg']));
    expect(report).toMatchObject({ mode: 'quick', ok: true, eventsLost: 0 });
    expect(report.scenarios.map((s) => s.name)).toEqual(SCENARIOS.map((s) => s.name));
    for (const s of report.scenarios) {
      expect(s.recoveryMs).toBeGreaterThan(0);
      expect(s.clusters.every((c) => c.status === 'ready' && c.unhandledGaps === 0)).toBe(true);
    }
    const soak = report.soak;
    // 40 s of soak cannot tell a leak from warm-up: the quick run samples and reports, the full run judges.
    expect(soak).toMatchObject({ ok: true, eventsLost: 0, clients: 100, trendsJudged: false });
    expect(soak?.envelopesApplied).toBeGreaterThan(0);
    expect(
      soak?.clusters.every((c) => c.clients === 100 && c.redisEqualsTruth && c.clientsMismatched === 0),
    ).toBe(true);
    const names = soak?.memory.map((m) => m.name) ?? [];
    expect(names).toEqual(
      expect.arrayContaining(['gateway-1 rss', 'gateway-2 rss', 'redis-server rss', 'redis used_memory']),
    );
    expect(names.some((n) => n.startsWith('watcher '))).toBe(true);
    expect(names.some((n) => n.startsWith('kube-sim '))).toBe(true);
    expect(names.some((n) => n.startsWith('fleet chaos-1 ') && n.endsWith(' rss'))).toBe(true);
    expect(names.some((n) => n.startsWith('fleet chaos-1 ') && n.endsWith(' heap after GC'))).toBe(true);
    expect(soak?.memory.filter((m) => !m.judged).every((m) => m.name.startsWith('fleet '))).toBe(true);
    for (const m of soak?.memory ?? []) expect(m.samples.length).toBeGreaterThanOrEqual(5);
    const markdown = await readFile(join(out, 'REPORT-quick.md'), 'utf8');
    expect(markdown).toContain('**PASS**: events lost 0');
  }, 300_000);
});
