/**
 * `npm run bench [-- --quick] [--only a,b] [--runs N] [--out DIR]`: runs every
 * registered scenario in turn against kube-sim and a real Redis, writes
 * `<out>/<YYYY-MM-DD>-<scenario>[-quick].json` per scenario, `<out>/REPORT.md`
 * (`REPORT-quick.md`) with SVG charts under `<out>/charts/`, and prints every
 * comparison with its ratio. Exits 1 when a scenario failed (the report says which
 * and why), 2 on bad arguments.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { parseInteger, readFlags } from '@knm/cli';
import { WORKSPACE_ROOT } from '@knm/testing';
import { loadAverage, machineFacts } from './harness/machine.js';
import type { BenchContext, Scenario } from './harness/types.js';
import { renderReport, summaryRows, type ScenarioOutcome } from './report/markdown.js';
import { renderChart } from './report/svg.js';
import { SCENARIOS } from './scenarios/index.js';

const USAGE = `usage: npm run bench -- [--quick] [--only name,name] [--runs N] [--parallel N] [--out DIR]
  --quick     500 nodes / 15,000 pods, fewer runs, scenarios 3 at a time (CI smoke, under a minute); default 5,000 / 150,000
  --only      run only these scenarios (${SCENARIOS.map((s) => s.name).join(', ')})
  --runs      measured runs per figure (default 5, quick 2), after the warm-up
  --parallel  scenarios run at once (default 1; quick 3): figures of scenarios that shared the machine are not for comparing
  --out       output directory (default bench/results)`;

/** Scenarios a quick run runs at once: most of a scenario's time is process start-up and waiting. */
const QUICK_PARALLEL = 3;

interface Args {
  quick: boolean;
  only: string[] | undefined;
  runs: number | undefined;
  parallel: number | undefined;
  out: string;
}

class UsageError extends Error {
  override name = 'UsageError';
}

function parseArgs(argv: readonly string[]): Args {
  const flags = readFlags(
    argv,
    {
      quick: 'boolean',
      only: 'string',
      runs: 'string',
      parallel: 'string',
      out: 'string',
    },
    (message) => new UsageError(message),
  );
  const positive = (flag: 'runs' | 'parallel'): number | undefined => {
    const raw = flags[flag];
    if (raw === undefined) return undefined;
    const n = parseInteger(raw, 1, Number.MAX_SAFE_INTEGER);
    if (n === undefined) throw new UsageError(`--${flag} must be a positive integer`);
    return n;
  };
  let only: string[] | undefined;
  if (flags.only !== undefined) {
    only = flags.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = only.filter((n) => !SCENARIOS.some((s) => s.name === n));
    if (unknown.length > 0) throw new UsageError(`unknown scenario(s): ${unknown.join(', ')}`);
  }
  return {
    quick: flags.quick === true,
    only,
    runs: positive('runs'),
    parallel: positive('parallel'),
    out: flags.out === undefined ? join(WORKSPACE_ROOT, 'bench', 'results') : resolve(flags.out),
  };
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3_000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis at ${url} does not answer (${String(err)}); set REDIS_URL to a Redis >= 7`, {
      cause: err,
    });
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  const started = new Date();
  const date = started.toISOString();
  const suffix = args.quick ? '-quick' : '';
  const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  await checkRedis(redisUrl);
  const machine = machineFacts();
  const load = loadAverage();
  const scenarios = SCENARIOS.filter((s) => !args.only || args.only.includes(s.name));
  const base = {
    quick: args.quick,
    scale: args.quick ? { nodes: 500, pods: 15_000 } : { nodes: 5_000, pods: 150_000 },
    runs: args.runs ?? (args.quick ? 2 : 5),
    // Quick runs prove the harness works; warm-ups only make the full run's figures steadier.
    warmup: args.quick ? 0 : 1,
    redisUrl,
    root: WORKSPACE_ROOT,
  };
  // Lanes: scenarios run at once (never more than there are scenarios).
  const parallel = Math.min(args.parallel ?? (args.quick ? QUICK_PARALLEL : 1), scenarios.length);
  await mkdir(join(args.out, 'charts'), { recursive: true });
  console.log(
    `bench${args.quick ? ' (quick)' : ''}: ${base.scale.nodes} nodes / ${base.scale.pods} pods, ${base.runs} runs` +
      `${parallel > 1 ? `, ${parallel} scenarios at once` : ''}; ` +
      `${machine.cpus} cores, Node ${machine.node}, load ${load.join(' ')}; scenarios: ${scenarios.map((s) => s.name).join(', ')}`,
  );

  const runScenario = async (scenario: Scenario): Promise<ScenarioOutcome> => {
    const t0 = performance.now();
    const scenarioLoad = loadAverage();
    const ctx: BenchContext = {
      ...base,
      log: (m) => console.log(`[${scenario.name} +${((performance.now() - t0) / 1000).toFixed(1)} s] ${m}`),
    };
    try {
      const result = await scenario.run(ctx);
      const durationMs = Math.round(performance.now() - t0);
      if (parallel > 1)
        result.notes.push(
          `Measured with up to ${parallel} scenarios running at once (\`--parallel\`): these figures shared the machine and are not for comparing.`,
        );
      for (const chart of result.charts)
        await writeFile(join(args.out, 'charts', `${chart.id}${suffix}.svg`), renderChart(chart));
      const file = join(args.out, `${date.slice(0, 10)}-${scenario.name}${suffix}.json`);
      const record = {
        ...result,
        date,
        mode: args.quick ? 'quick' : 'full',
        durationMs,
        machine,
        // 1, 5 and 15 minute load averages when this scenario started.
        loadAverage: scenarioLoad,
        scale: base.scale,
      };
      await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
      console.log(`[${scenario.name}] done in ${(durationMs / 1000).toFixed(1)} s -> ${file}`);
      return { name: scenario.name, title: scenario.title, durationMs, result };
    } catch (err) {
      const durationMs = Math.round(performance.now() - t0);
      const error = err instanceof Error ? err.message : String(err);
      console.error(
        `[${scenario.name}] FAILED after ${(durationMs / 1000).toFixed(1)} s: ${err instanceof Error ? (err.stack ?? error) : error}`,
      );
      return { name: scenario.name, title: scenario.title, durationMs, error };
    }
  };
  // In the scenarios' order; with --parallel N, each of N lanes takes the next scenario when free.
  const outcomes: ScenarioOutcome[] = new Array<ScenarioOutcome>(scenarios.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < scenarios.length; i = next++) {
      const scenario = scenarios[i] as Scenario;
      outcomes[i] = await runScenario(scenario);
    }
  };
  await Promise.all(Array.from({ length: parallel }, () => lane()));

  const report = renderReport({
    date,
    quick: args.quick,
    machine,
    loadAverage: load,
    scale: base.scale,
    runs: base.runs,
    warmup: base.warmup,
    outcomes,
    chartPath: (id) => `charts/${id}${suffix}.svg`,
  });
  const reportFile = join(args.out, `REPORT${suffix}.md`);
  await writeFile(reportFile, report);
  const rows = summaryRows(outcomes);
  if (rows.length > 0)
    console.table(
      rows.map(([scenario, metric, ours, baseline, ratio]) => ({
        scenario,
        metric,
        knm: ours,
        baseline,
        ratio,
      })),
    );
  const failed = outcomes.filter((o) => o.error !== undefined);
  console.log(
    `report: ${reportFile}; ${outcomes.length - failed.length} of ${outcomes.length} scenarios ok in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s` +
      (failed.length > 0 ? `; FAILED: ${failed.map((f) => f.name).join(', ')}` : ''),
  );
  return failed.length > 0 ? 1 : 0;
}

// Interrupted: exit through process.exit, whose 'exit' handlers (libs/testing's
// processes and client fleet) SIGKILL every child the scenarios started. A signal's
// default action would end this process alone and leave kube-sims, gateways and fleets
// running. The throw-away Redis namespaces stay (`knmbench-*`).
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}: stopping every process it started`);
    process.exit(code);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
