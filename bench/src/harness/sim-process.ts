/**
 * kube-sim in its own process for the benchmark scenarios (so the clients measured
 * against it have their heap and their CPU time to themselves). Prints one line
 * `{"event":"sim-ready","url":..,"token":..,"startMs":..}` once it listens; stops on SIGTERM.
 *
 *   sim-process.ts '{"nodes":N,"pods":N,"kubeconfigPath":"..","heartbeatSeconds":N}'
 */
import { startKubeSim } from '@knm/fake-cluster';

const options = JSON.parse(process.argv[2] ?? '{}') as {
  nodes: number;
  pods: number;
  kubeconfigPath: string;
  heartbeatSeconds?: number;
};
const started = performance.now();
const sim = await startKubeSim({
  nodes: options.nodes,
  pods: options.pods,
  seed: 1,
  clusterName: 'bench',
  kubeconfigOut: options.kubeconfigPath,
  heartbeatSeconds: options.heartbeatSeconds ?? 0,
  // Job pods finish and get replaced only when a scenario asks for churn.
  jobRunMs: [3_600_000, 3_600_001],
});
process.stdout.write(
  `${JSON.stringify({ event: 'sim-ready', url: sim.url, token: sim.token, startMs: Math.round(performance.now() - started) })}\n`,
);
process.once('SIGTERM', () => {
  void sim.close().then(() => process.exit(0));
});
