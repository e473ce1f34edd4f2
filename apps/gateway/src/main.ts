import { takeSecretEnv } from '@knm/secrets';
import { createGatewayApp } from './app/gateway-app.js';
import { ConfigError, loadGatewayConfig } from './config/gateway-config.js';
import { createGatewayLogger } from './security/gateway-logger.js';

/**
 * The gateway process (`npm run gateway`; `dist/main.js` when built): reads the configuration (flags over env), builds the app,
 * listens, and closes it on SIGTERM/SIGINT (in-flight requests finish, sockets are
 * disconnected so clients reconnect to another replica, Redis connections close).
 */
async function main(): Promise<void> {
  // Before anything can start a child process (an exec credential plugin of a
  // registered cluster's connection test): see takeSecretEnv.
  const env = takeSecretEnv(process.env);
  let config;
  try {
    config = loadGatewayConfig(process.argv.slice(2), env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createGatewayLogger(config.logLevel);
  const app = await createGatewayApp(config, { logger });
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port, host: config.host }, `gateway listening on port ${port}`);

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(
    `gateway failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
