/**
 * kube-sim: a simulated Kubernetes API server (CLI wiring of @knm/fake-cluster).
 * `npm run sim -- --port 6443 --nodes 50 --pods 1500 [--churn 20] [--heartbeat 10]
 * [--seed 1] [--kubeconfig-out sim.kubeconfig] [--cluster-name dev]`.
 * Logs JSON lines (pino); prints one `kube-sim ready` line with its URLs; exits 2
 * on a bad command line; on SIGTERM/SIGINT closes watches, stops churn, exits 0.
 */
import { pino } from 'pino';
import { startKubeSim } from '@knm/fake-cluster';
import { CliUsageError, parseCli, USAGE } from './cli-options.js';

async function main(): Promise<void> {
  const logger = pino({ base: { app: 'kube-sim' } });
  let options;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (err) {
    if (err instanceof CliUsageError) {
      process.stderr.write(`kube-sim: ${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    throw err;
  }
  const started = Date.now();
  const sim = await startKubeSim({
    port: options.port,
    tlsPort: options.tlsPort,
    host: options.host,
    nodes: options.nodes,
    pods: options.pods,
    seed: options.seed,
    churn: options.churn,
    heartbeatSeconds: options.heartbeat,
    nodeLifecycle: { leaseRenewSeconds: options.leaseSeconds },
    clusterName: options.clusterName,
    kubeconfigOut: options.kubeconfigOut,
    kubernetesMinor: options.kubernetesMinor,
    bookmarkIntervalMs: options.bookmarkMs,
    metrics: options.metrics,
    metricsResolutionSeconds: options.metricsResolution,
    eventTtlMs: options.eventTtl * 1000,
    ...(options.token !== undefined ? { token: options.token } : {}),
    logger,
  });
  logger.info(
    {
      url: sim.url,
      httpsUrl: sim.httpsUrl,
      kubeconfig: sim.kubeconfigPath,
      cluster: options.clusterName,
      nodes: options.nodes,
      pods: options.pods,
      seed: options.seed,
      churn: options.churn,
      heartbeatSeconds: options.heartbeat,
      metrics: options.metrics,
      kubernetesVersion: `1.${options.kubernetesMinor}`,
      startupMs: Date.now() - started,
    },
    'kube-sim ready',
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, openWatches: sim.hub.size }, 'kube-sim stopping: closing watches, stopping churn');
    sim.close().then(
      () => {
        logger.info({}, 'kube-sim stopped');
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'kube-sim failed to stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `kube-sim failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
