/**
 * Runs a kube-sim for the watcher benchmark in its own process (so the clients'
 * memory and CPU are measured apart from the server's) and prints one JSON line:
 * `{"url":..,"token":..,"kubeconfigPath":..,"startMs":..}`. Stops on SIGTERM.
 *
 *   sim-process.ts <nodes> <pods> <kubeconfigPath>
 */
import { startKubeSim } from '@knm/fake-cluster';

const [nodes, pods, kubeconfigOut] = process.argv.slice(2);
const started = performance.now();
const sim = await startKubeSim({
  nodes: Number(nodes),
  pods: Number(pods),
  seed: 1,
  kubeconfigOut,
  // Pods complete and get replaced only through churn steps the benchmark asks for.
  jobRunMs: [3_600_000, 3_600_001],
});
process.stdout.write(
  `${JSON.stringify({ url: sim.url, token: sim.token, kubeconfigPath: kubeconfigOut, startMs: Math.round(performance.now() - started) })}\n`,
);
process.once('SIGTERM', () => {
  void sim.close().then(() => process.exit(0));
});
