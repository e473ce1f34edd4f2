import pino from 'pino';
import { takeSecretEnv } from '@knm/secrets';
import { HelpRequested, loadWatcherConfig, WatcherConfigError } from './watcher-config.js';
import { WatcherApp } from './watcher-app.js';
import { WatcherPoolApp } from './pool-app.js';

/**
 * `npm run watcher -- --cluster dev --kubeconfig sim.kubeconfig [...]`: bootstraps
 * one watcher replica of one cluster (see `WatcherApp`); `npm run watcher -- --pool`:
 * a member of the watcher pool, running its share of the registered clusters (see
 * `WatcherPoolApp`). Exit codes: 0 after a graceful stop
 * (SIGTERM/SIGINT), 2 for bad configuration, 1 for anything else.
 */
async function main(): Promise<void> {
  // Before anything can start a child process (an exec credential plugin): see takeSecretEnv.
  const env = takeSecretEnv(process.env);
  let config;
  try {
    config = loadWatcherConfig(process.argv.slice(2), env);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(err.message);
      process.exit(0);
    }
    if (err instanceof WatcherConfigError) {
      process.stderr.write(`watcher: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({
    level: config.logLevel,
    base: config.pool
      ? { app: 'watcher', member: config.identity }
      : { app: 'watcher', cluster: config.cluster },
  });
  let app: WatcherApp | WatcherPoolApp;
  try {
    app = config.pool
      ? await WatcherPoolApp.start(config, logger, env)
      : await WatcherApp.start(config, logger, env);
  } catch (err) {
    if (err instanceof WatcherConfigError) {
      logger.fatal({ err: err.message }, 'bad configuration');
      process.stderr.write(`watcher: ${err.message}\n`);
      process.exit(2);
    }
    logger.fatal({ err }, 'watcher failed to start');
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    app
      .stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

void main();
