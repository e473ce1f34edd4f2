import { startKubeSim } from '@knm/fake-cluster';
const sim = await startKubeSim({
  nodes: 20,
  pods: 600,
  kubeconfigOut: '/tmp/w1/sim.kubeconfig',
  churn: Number(process.env.CHURN ?? 0),
  heartbeatSeconds: Number(process.env.HB ?? 0),
});
console.log('sim at', sim.url);
process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
