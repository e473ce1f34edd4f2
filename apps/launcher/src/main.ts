import { pino } from 'pino';
import { RedisUnavailableError } from './redis-locator.js';
import { Launcher, type RunningSystem } from './launcher.js';
import {
  LauncherConfigError,
  LauncherHelpRequested,
  loadLauncherConfig,
  type LauncherConfig,
} from './launcher-config.js';
import { LogLineFormatter } from './log-line-formatter.js';
import { ChildProcessFailedError } from './process-supervisor.js';

/**
 * `npm start`: runs the whole system on this machine (see {@link Launcher}) with one
 * merged, prefixed log on stdout, prints the dashboard URL and an admin token, and on
 * SIGINT/SIGTERM stops every child and exits 0. Exit codes: 0 after a requested stop,
 * 1 when a child failed or start-up failed (the error and the child's last lines are
 * shown), 2 for a bad command line.
 */
async function main(): Promise<void> {
  process.stdout.on('error', () => undefined);
  let config: LauncherConfig;
  try {
    config = loadLauncherConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof LauncherHelpRequested) {
      process.stdout.write(err.message);
      process.exit(0);
    }
    if (err instanceof LauncherConfigError) {
      process.stderr.write(`npm start: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  const formatter = new LogLineFormatter({ color: process.stdout.isTTY === true, nameWidth: 16 });
  const out = (name: string, line: string): void => {
    process.stdout.write(`${formatter.format(name, line)}\n`);
  };
  const logger = pino(
    { level: config.logLevel, base: {} },
    { write: (chunk: string) => chunk.split('\n').forEach((l) => l && out('launcher', l)) },
  );

  let exitCode = 0;
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (code: number): Promise<void> => {
    exitCode = Math.max(exitCode, code);
    shuttingDown ??= launcher
      .stop()
      .catch((err: unknown) => {
        logger.error({ err }, 'stopping failed');
        exitCode = 1;
      })
      .then(() => {
        logger.info({ code: exitCode }, `exiting with code ${exitCode}`);
        process.exit(exitCode);
      });
    return shuttingDown;
  };
  const reportFatal = (err: Error): void => {
    if (err instanceof ChildProcessFailedError) {
      logger.error({ child: err.child, code: err.exit.code, signal: err.exit.signal }, err.message);
      process.stdout.write(
        `\n${err.child} failed; its last lines:\n${err.lastLines.map((l) => `  ${l}`).join('\n')}\n\n`,
      );
    } else if (err instanceof LauncherConfigError || err instanceof RedisUnavailableError) {
      logger.error({}, err.message);
    } else {
      logger.error({ err }, `start-up failed: ${err.message}`);
    }
  };

  const launcher = new Launcher(config, {
    logger,
    onChildLine: out,
    onFatal: (err) => {
      reportFatal(err);
      void shutdown(1);
    },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!shuttingDown) logger.info({ signal }, `${signal}: stopping every process`);
      void shutdown(0);
    });
  }

  let system: RunningSystem;
  try {
    system = await launcher.start();
  } catch (err) {
    if (shuttingDown) return;
    reportFatal(err instanceof Error ? err : new Error(String(err)));
    await shutdown(1);
    return;
  }
  if (shuttingDown) return;
  logger.info(
    { url: system.baseUrl, children: launcher.children().map((c) => `${c.name}:${c.pid}`) },
    'knm ready',
  );
  process.stdout.write(banner(system, config));
}

function banner(system: RunningSystem, config: LauncherConfig): string {
  const clusters = system.clusters
    .map((c) => `${c.name} (${c.nodeCount ?? '?'} nodes, ${c.podCount ?? '?'} pods, ${c.status})`)
    .join(', ');
  return [
    '',
    '  Kube Node Manager is running.',
    '',
    `  Dashboard  ${system.dashboardUrl}`,
    ...(system.dashboardBuilt
      ? []
      : ['             (not built: the API works; build it with npm run web:build)']),
    `  API        ${system.baseUrl}/api/v1/clusters   (OpenAPI: ${system.baseUrl}/api/docs)`,
    `  Token      ${system.token}`,
    `             admin, every cluster, valid ${config.tokenTtl}: curl -H "Authorization: Bearer <token>" ...`,
    `  Clusters   ${clusters}`,
    `  Redis      ${system.redis.source === 'started' ? 'redis-server started for this run' : 'existing server'}, namespace ${config.redisNamespace}`,
    '',
    '  Ctrl-C stops everything.',
    '',
    '',
  ].join('\n');
}

void main();
