import type { ScenarioResult } from './scenario-runner.js';
import { MIN_TREND_WINDOW_MS, type SoakResult } from './soak.js';

/** Everything one `npm run chaos` measured (written as JSON). */
export interface ChaosReport {
  mode: 'quick' | 'full';
  startedAt: string;
  finishedAt: string;
  system: {
    clusters: number;
    nodesPerCluster: number;
    podsPerCluster: number;
    churnPerSecond: number;
    gateways: number;
    watchersPerCluster: number;
    scenarioClients: number;
    outageSeconds: number;
  };
  scenarios: ScenarioResult[];
  soak: SoakResult | null;
  /** Sum over scenarios and the soak: must be 0. */
  eventsLost: number;
  ok: boolean;
}

const MB = 1024 * 1024;

const fmtMs = (ms: number | null): string => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);

/** The Markdown report: scenarios, recovery times, events lost, soak memory trends, pass/fail. */
export function renderMarkdown(report: ChaosReport, chartFile: string | undefined): string {
  const s = report.system;
  const lines: string[] = [
    `# Chaos report (${report.mode})`,
    '',
    `**${report.ok ? 'PASS' : 'FAIL'}**: events lost ${report.eventsLost}; ${report.scenarios.filter((x) => x.ok).length} of ${report.scenarios.length} scenarios passed; soak ${report.soak ? (report.soak.ok ? 'passed' : 'FAILED') : 'not run'}.`,
    '',
    `Run ${report.startedAt} .. ${report.finishedAt}. System: ${s.clusters} cluster(s) of ${s.nodesPerCluster} nodes / ${s.podsPerCluster} pods with churn ${s.churnPerSecond}/s each, ${s.watchersPerCluster} watchers per cluster (2 s lease), ${s.gateways} gateways, ${s.scenarioClients} SDK clients during the scenarios, a private Redis without persistence.`,
    '',
    '## Scenarios',
    '',
    'Recovery: fault injected -> every cluster `ready` with a leader and every client live at the seq Redis had (churn running). Quiet: churn stopped -> Redis and every client equal to `/_sim/truth`.',
    '',
    '| scenario | result | recovery | quiet | events lost | client reloads | checks |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of report.scenarios) {
    const reloads = Object.entries(r.reloads)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const checks = r.checks.map((c) => `${c.ok ? 'ok' : 'FAIL'}: ${c.name} (${c.detail})`).join('<br>');
    lines.push(
      `| ${r.name} | ${r.ok ? 'pass' : `**FAIL**${r.error ? `: ${r.error.replace(/\|/g, '/')}` : ''}`} | ${fmtMs(r.recoveryMs)} | ${fmtMs(r.quietConvergeMs)} | ${r.eventsLost} | ${reloads || '-'} | ${checks.replace(/\|/g, '/') || '-'} |`,
    );
  }
  lines.push('', 'What each scenario injects:', '');
  for (const r of report.scenarios) {
    const notes = Object.entries(r.notes)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ');
    lines.push(`- **${r.name}**: ${r.description}${notes ? ` (${notes})` : ''}`);
    for (const c of r.clusters) for (const d of c.detail) lines.push(`  - ${c.cluster}: ${d}`);
  }
  const soak = report.soak;
  lines.push('', '## Soak', '');
  if (!soak) {
    lines.push('Not run.');
  } else {
    lines.push(
      `${soak.clients} Socket.IO clients of the client fleet (${soak.fleetProcesses} child processes, SDK resume protocol) spread over the clusters, churn ${soak.churnPerSecond}/s per cluster for ${(soak.durationMs / 60_000).toFixed(1)} min after a warm-up of ${fmtMs(soak.warmupMs)} (clients live ${fmtMs(soak.connectMs)} after start); memory sampled every ${soak.intervalMs / 1000} s after the warm-up. ${soak.envelopesApplied} envelopes applied by the clients; events lost ${soak.eventsLost}. ${soak.ok ? 'Pass.' : `**FAIL**${soak.error ? `: ${soak.error}` : ''}.`}`,
      '',
      '| cluster | clients | Redis = truth | clients differing | applied | gaps (reloaded) | reloads | resumes | errors |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...soak.clusters.map(
        (c) =>
          `| ${c.cluster} | ${c.clients} | ${c.redisEqualsTruth ? 'yes' : '**no**'} | ${c.clientsMismatched} | ${c.applied} | ${c.gaps} | ${c.reloads} | ${c.resumes} | ${c.errors} |`,
      ),
      '',
      soak.trendsJudged
        ? 'Memory trends judged.'
        : `**Memory trends reported, not judged**: the judged half of a ${(soak.durationMs / 60_000).toFixed(1)}-minute soak is shorter than the ${MIN_TREND_WINDOW_MS / 60_000} minutes the rule needs to tell a leak from a process still reaching its working size (the full run judges them).`,
      '',
      "Trend rule: the first half of the samples is ignored too; over the second half a least-squares line is fitted; growth = its rise (slope x duration) is at least 10% of the mean AND at least 8 MB. The verdict uses every series but the fleet processes' RSS: for the load generator it judges the heap after a forced full GC (V8 grows RSS in steps), and shows the RSS for reference.",
      '',
      '| process | samples | mean | slope | rise over 2nd half | growth | judged |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const m of soak.memory) {
      lines.push(
        `| ${m.name} | ${m.samples.length} | ${(m.trend.meanBytes / MB).toFixed(1)} MB | ${(m.trend.slopeBytesPerMin / MB).toFixed(2)} MB/min | ${(m.trend.riseBytes / MB).toFixed(1)} MB | ${m.trend.growing ? (m.judged && soak.trendsJudged ? '**yes**' : 'yes') : 'no'} | ${m.judged ? 'yes' : 'no (reference)'} |`,
      );
    }
    if (chartFile) lines.push('', `![memory per process during the soak](${chartFile})`);
  }
  lines.push('');
  return lines.join('\n');
}
