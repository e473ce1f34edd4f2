/**
 * `npm run chaos [-- --quick] [--only a,b] [--soak-minutes N] [--clients N] [--out DIR]`:
 * starts the whole system as processes, injects faults one at a time and then
 * together while SDK clients watch, verifies after each that nothing was lost,
 * runs a memory soak, and writes `<out>/<date>[-quick].json`, `<out>/REPORT[-quick].md`
 * and `<out>/memory[-quick].svg`. Exit 0 only when everything passed; 1 on any loss
 * or failure; 2 on a bad command line; 130/143 when interrupted (everything is
 * torn down first).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { ChaosSystem } from './chaos-system.js';
import { renderMarkdown, type ChaosReport } from './chaos-report.js';
import { CHAOS_USAGE, ChaosUsageError, parseChaosOptions, type ChaosOptions } from './cli-options.js';
import { ClientPool } from './client-pool.js';
import { renderMemoryChart } from './memory-chart.js';
import { runScenario, type ScenarioResult } from './scenario-runner.js';
import { SCENARIOS } from './scenarios.js';
import { runSoak, type SoakResult } from './soak.js';

const log = pino({ name: 'chaos', base: undefined });

async function run(options: ChaosOptions): Promise<ChaosReport> {
  const startedAt = new Date().toISOString();
  const workDir = await mkdtemp(join(tmpdir(), 'knm-chaos-'));
  let system: ChaosSystem | undefined;
  let pool: ClientPool | undefined;
  const teardown = async (): Promise<void> => {
    pool?.close();
    await system?.stop();
    await rm(workDir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.warn({ signal }, 'interrupted: tearing everything down');
      void teardown().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  try {
    log.info(
      { clusters: options.clusters, nodes: options.nodes, pods: options.pods, churn: options.churn },
      'starting Redis, kube-sims, watchers and gateways',
    );
    system = await ChaosSystem.start({
      clusters: options.clusters,
      nodes: options.nodes,
      pods: options.pods,
      churn: options.churn,
      gateways: 2,
      workDir,
      logger: log,
    });
    log.info({ gateways: system.gateways.map((g) => g.url), redis: system.redis.url }, 'system ready');
    const scenarios: ScenarioResult[] = [];
    if (options.scenarios.length > 0) {
      pool = await ClientPool.open({
        urls: system.gateways.map((g) => g.url),
        token: await system.token(),
        clusters: system.clusters.map((c) => c.name),
        count: options.scenarioClients,
      });
      log.info({ clients: pool.size, byGateway: pool.byGateway() }, 'scenario clients live');
      for (const name of options.scenarios) {
        const scenario = SCENARIOS.find((s) => s.name === name);
        if (!scenario) continue;
        scenarios.push(
          await runScenario(scenario, {
            system,
            pool,
            log,
            outageSeconds: options.outageSeconds,
            recoveryTimeoutMs: 60_000 + options.outageSeconds * 1000,
            quietTimeoutMs: 30_000,
          }),
        );
      }
      pool.close();
      pool = undefined;
    }
    let soak: SoakResult | null = null;
    if (options.soak) {
      soak = await runSoak({
        system,
        log,
        clients: options.soakClients,
        churn: options.soakChurn,
        durationMs: Math.round(options.soakMinutes * 60_000),
        warmupMs: options.quick ? 15_000 : 60_000,
        intervalMs: options.quick ? 2_000 : 5_000,
        quietTimeoutMs: options.quick ? 30_000 : 120_000,
      });
    }
    const eventsLost = scenarios.reduce((s, r) => s + r.eventsLost, 0) + (soak?.eventsLost ?? 0);
    return {
      mode: options.quick ? 'quick' : 'full',
      startedAt,
      finishedAt: new Date().toISOString(),
      system: {
        clusters: options.clusters,
        nodesPerCluster: options.nodes,
        podsPerCluster: options.pods,
        churnPerSecond: options.churn,
        gateways: 2,
        watchersPerCluster: 2,
        scenarioClients: options.scenarioClients,
        outageSeconds: options.outageSeconds,
      },
      scenarios,
      soak,
      eventsLost,
      ok: eventsLost === 0 && scenarios.every((s) => s.ok) && (soak?.ok ?? true),
    };
  } finally {
    await teardown();
  }
}

async function main(): Promise<void> {
  let options: ChaosOptions | 'help';
  try {
    options = parseChaosOptions(process.argv.slice(2), resolve(import.meta.dirname, '..', 'results'));
  } catch (err) {
    if (err instanceof ChaosUsageError) {
      process.stderr.write(`${err.message}\n${CHAOS_USAGE}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (options === 'help') {
    process.stdout.write(`${CHAOS_USAGE}\n`);
    return;
  }
  const report = await run(options);
  const suffix = options.quick ? '-quick' : '';
  await mkdir(options.outDir, { recursive: true });
  const jsonFile = join(options.outDir, `${report.startedAt.slice(0, 10)}${suffix}.json`);
  const chartName = `memory${suffix}.svg`;
  await writeFile(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  if (report.soak && report.soak.memory.length > 0) {
    await writeFile(join(options.outDir, chartName), renderMemoryChart(report.soak.memory));
  }
  const reportFile = join(options.outDir, `REPORT${suffix}.md`);
  await writeFile(reportFile, renderMarkdown(report, report.soak?.memory.length ? chartName : undefined));
  log.info(
    { ok: report.ok, eventsLost: report.eventsLost, json: jsonFile, report: reportFile },
    'chaos done',
  );
  process.exitCode = report.ok ? 0 : 1;
}

main().catch((err: unknown) => {
  log.fatal({ err: (err as Error).message }, 'chaos run failed');
  process.exitCode = 1;
});
