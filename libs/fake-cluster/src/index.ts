/**
 * @knm/fake-cluster: the in-memory Kubernetes cluster behind kube-sim and its HTTP
 * API. Start one in-process with {@link startKubeSim}; decode `/_sim/truth` with
 * {@link TruthSchema}.
 */
export * from './kube-sim.js';
export * from './kubeconfig.js';
export * from './resource-registry.js';
export * from './sim/truth.js';
export * from './sim/clock.js';
export * from './sim/cluster.js';
export * from './sim/churn.js';
export * from './sim/heartbeats.js';
export * from './sim/node-leases.js';
export * from './sim/node-lifecycle-controller.js';
export * from './sim/event-recorder.js';
export * from './sim/pod-controllers.js';
export * from './sim/disruption-budget.js';
export * from './sim/disruption-controller.js';
export * from './sim/blocked-evictions.js';
export * from './sim/metrics-snapshot.js';
export * from './store/cluster-store.js';
export * from './store/change-log.js';
export * from './store/kind-store.js';
export * from './store/list-snapshots.js';
export * from './store/pods-per-node-count.js';
export * from './store/pod-allocation-index.js';
export * from './store/node-snapshot-index.js';
export * from './store/store-errors.js';
export * from './server/kube-api-server.js';
export * from './server/sim-control-schemas.js';
export * from './server/sim-logger.js';
export * from './server/watch-hub.js';
export * from './api/kube-object.js';
export * from './api/api-status.js';
export * from './world/index.js';
export * from './server/dev-certificate.js';
