import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { DEFAULT_KUBERNETES_MINOR } from './api/discovery.js';
import { buildKubeconfig } from './kubeconfig.js';
import type { ApiContext } from './server/api-context.js';
import { DEV_TLS_CERT } from './server/dev-certificate.js';
import { KubeApiServer } from './server/kube-api-server.js';
import { silentLogger, type SimLogger } from './server/sim-logger.js';
import { WatchHub } from './server/watch-hub.js';
import { Churn } from './sim/churn.js';
import { systemClock, type Clock } from './sim/clock.js';
import { Cluster, type KubeletTimings } from './sim/cluster.js';
import { DisruptionController } from './sim/disruption-controller.js';
import { EventRecorder } from './sim/event-recorder.js';
import { Heartbeats } from './sim/heartbeats.js';
import { NodeLeases } from './sim/node-leases.js';
import { NodeLifecycleController, type NodeLifecycleOptions } from './sim/node-lifecycle-controller.js';
import { MetricsSnapshot } from './sim/metrics-snapshot.js';
import { PodControllers } from './sim/pod-controllers.js';
import { computeTruth, type Truth } from './sim/truth.js';
import { ListSnapshots } from './store/list-snapshots.js';
import { generateWorld } from './world/generate-world.js';
import { Rng } from './world/rng.js';

/** Options of {@link startKubeSim}. */
export interface KubeSimOptions {
  /** Number of nodes (control planes included). */
  nodes: number;
  /** Number of pods. */
  pods: number;
  /** Seed of the world and of the simulation. Default 1. */
  seed?: number;
  /** Port to listen on. Default 0 (the OS picks; read `url`/`port`). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Port of the HTTPS listener the kubeconfig names. Default 0. */
  tlsPort?: number;
  /** TLS certificate and key of the HTTPS listener. Default: the development certificate; false: none. */
  tls?: { cert: string; key: string } | false;
  /** Churn events per second. Default 0. */
  churn?: number;
  /** Seconds between two kubelet heartbeats of each node. Default 0 (off). */
  heartbeatSeconds?: number;
  /** Names the world's nodes and the kubeconfig's cluster/context. Default `kube-sim`. */
  clusterName?: string;
  /** Where to write the kubeconfig (JSON). Default: not written. */
  kubeconfigOut?: string;
  /** Kubernetes minor version served by `/version` and reported by kubelets (27..33). Default 32. */
  kubernetesMinor?: number;
  /** Bearer token clients must send. Default: 32 random bytes, hex. */
  token?: string;
  /** Simulation clock. Default: the wall clock. Pass a ManualClock (with `autoRun: false`) for determinism. */
  clock?: Clock;
  /** Run simulated time on a timer (every `tickMs`). Default true; false: call `kubeSim.advance()`. */
  autoRun?: boolean;
  /** Timer period of the simulation, ms. Default 10. */
  tickMs?: number;
  /** Change log size. Default 100,000. */
  changeLogSize?: number;
  /** Interval between watch BOOKMARKs, ms. Default 60,000 (about the API server's). */
  bookmarkIntervalMs?: number;
  /**
   * Bytes a live watcher may fall behind (unread) before it is cut, and bytes of live
   * events that may queue behind a backlog being written. Default 64 MiB each.
   */
  watchBufferBytes?: number;
  /** Lifetime of a paged list's snapshot after its last page, ms. Default 60,000. */
  continueTtlMs?: number;
  /**
   * How long a GET or list at a resourceVersion not reached yet waits for it before
   * answering 504, ms. Default 3,000 (the API server's watch cache).
   */
  resourceVersionWaitMs?: number;
  /** Server-side timeout of watches that ask for none, seconds. Default 1,800 (the API server's minimum). */
  watchTimeoutSeconds?: number;
  /**
   * Node heartbeat leases and the node lifecycle controller: `leaseRenewSeconds`
   * (default 10; 0 = no leases renewed, no node ever turns Unknown), `monitorPeriodMs`
   * (default 5,000), `gracePeriodMs` (a lease that old makes its node Unknown; default 40,000).
   */
  nodeLifecycle?: NodeLifecycleOptions & { leaseRenewSeconds?: number };
  /** How long Events are kept, ms of simulated time. Default 3,600,000 (the API server's `--event-ttl`). */
  eventTtlMs?: number;
  /** Kubelet and scheduler timings. */
  kubelet?: KubeletTimings;
  /** How long Job pods run, ms [min, max). Default [5,000, 60,000). */
  jobRunMs?: [number, number];
  /** Structured logger (pino-compatible). Default: silent. */
  logger?: SimLogger;
  /** Serve `metrics.k8s.io/v1beta1` as metrics-server does. Default true; false: no metrics API at all. */
  metrics?: boolean;
  /** Seconds of simulated time between two metrics snapshots (metrics-server's resolution). Default 15. */
  metricsResolutionSeconds?: number;
}

/** A running kube-sim. */
export interface KubeSim {
  /** `http://host:port`: plain HTTP, same API, token required (for tests and tools using fetch). */
  readonly url: string;
  readonly port: number;
  /**
   * `https://host:port`: what the kubeconfig names (kubectl sends bearer tokens
   * only over TLS); undefined with `tls: false`.
   */
  readonly httpsUrl: string | undefined;
  /** The bearer token API requests need. */
  readonly token: string;
  /** Where the kubeconfig was written, if asked. */
  readonly kubeconfigPath: string | undefined;
  /** The kubeconfig as JSON text (usable by kubectl and client-node as is). */
  kubeconfig(): string;
  /** The ground truth now (see {@link Truth}). */
  truth(): Truth;
  /** The simulated cluster (store, API semantics, simulated time). */
  readonly cluster: Cluster;
  readonly controllers: PodControllers;
  /** Keeps PodDisruptionBudget status current. */
  readonly disruption: DisruptionController;
  readonly churn: Churn;
  readonly heartbeats: Heartbeats;
  /** The kubelets' node leases; `leases.setReachable(node, false)` cuts a kubelet off. */
  readonly leases: NodeLeases;
  readonly server: KubeApiServer;
  readonly hub: WatchHub;
  /** The usage `metrics.k8s.io` serves; undefined with `metrics: false`. */
  readonly metrics: MetricsSnapshot | undefined;
  /** Runs simulated tasks due by the clock (what the timer does; call it with `autoRun: false`). */
  advance(): number;
  /** Stops the simulation, closes every watch and the listener. */
  close(): Promise<void>;
}

/**
 * Starts a kube-sim in this process: generates the world for the seed, loads it
 * into a new cluster, starts the simulated controllers, churn and heartbeats, and
 * listens. Resolves once it answers requests.
 */
export async function startKubeSim(options: KubeSimOptions): Promise<KubeSim> {
  const seed = options.seed ?? 1;
  const clock = options.clock ?? systemClock;
  const clusterName = options.clusterName ?? 'kube-sim';
  const kubernetesMinor = options.kubernetesMinor ?? DEFAULT_KUBERNETES_MINOR;
  const logger = options.logger ?? silentLogger;
  const token = options.token ?? randomBytes(32).toString('hex');

  const world = generateWorld({
    nodes: options.nodes,
    pods: options.pods,
    seed,
    clusterName,
    now: new Date(clock.now()),
    kubernetesMinor,
  });
  const cluster = new Cluster({
    random: new Rng(seed * 7919 + 17),
    clock,
    changeLogSize: options.changeLogSize,
    kubelet: options.kubelet,
    onError: (err) => logger.error({ err }, 'simulated controller failed'),
  });
  cluster.load('Namespace', world.namespaces);
  cluster.load('Node', world.nodes);
  cluster.load('DaemonSet', world.daemonSets);
  cluster.load('ReplicaSet', world.replicaSets);
  cluster.load('Job', world.jobs);
  cluster.load('Pod', world.pods);
  const leases = new NodeLeases(cluster, { renewSeconds: options.nodeLifecycle?.leaseRenewSeconds });
  cluster.load('Lease', leases.initialLeases(cluster.store.kind('Node').values()));
  const events = new EventRecorder(cluster, { ttlMs: options.eventTtlMs });
  const nodeLifecycle = new NodeLifecycleController(cluster, leases, events, {
    monitorPeriodMs: options.nodeLifecycle?.monitorPeriodMs,
    gracePeriodMs: options.nodeLifecycle?.gracePeriodMs,
  });

  const controllers = new PodControllers(cluster, { jobRunMs: options.jobRunMs });
  const disruption = new DisruptionController(cluster);
  const churn = new Churn(cluster, controllers, { clusterName, kubernetesMinor });
  const heartbeats = new Heartbeats(cluster);
  const metrics =
    (options.metrics ?? true)
      ? new MetricsSnapshot(cluster, { seed, resolutionSeconds: options.metricsResolutionSeconds })
      : undefined;
  const hub = new WatchHub(cluster.store);
  const snapshots = new ListSnapshots({ ttlMs: options.continueTtlMs });
  const ctx: ApiContext = {
    cluster,
    hub,
    snapshots,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    defaultWatchTimeoutMs: (options.watchTimeoutSeconds ?? 1_800) * 1000,
    watchBufferBytes: options.watchBufferBytes ?? 64 * 1024 * 1024,
    resourceVersionWaitMs: options.resourceVersionWaitMs ?? 3_000,
    kubernetesMinor,
    metrics,
  };
  const truth = () => computeTruth(cluster, metrics);
  const server = new KubeApiServer({
    ctx,
    token,
    host: options.host,
    port: options.port,
    tlsPort: options.tlsPort,
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    kubernetesMinor,
    logger,
    control: {
      truth,
      get churnRate() {
        return churn.rate;
      },
      get churnEvents() {
        return churn.events;
      },
      get churnDropped() {
        return churn.droppedEvents;
      },
      setChurnRate: (rate) => churn.setRate(rate),
      setHeartbeatSeconds: (seconds) => heartbeats.setInterval(seconds),
      setKubeletReachable: (node, reachable) => leases.setReachable(node, reachable),
      step: (events) => churn.step(events),
      pause: () => cluster.pause(),
      resume: () => cluster.resume(),
      get paused() {
        return cluster.paused;
      },
    },
  });
  await server.listen();
  if (options.autoRun ?? true) cluster.start(options.tickMs ?? 10);
  if (options.churn) churn.setRate(options.churn);
  if (options.heartbeatSeconds) heartbeats.setInterval(options.heartbeatSeconds);
  leases.start();
  nodeLifecycle.startMonitor();

  const tlsCert =
    options.tls === undefined ? DEV_TLS_CERT : options.tls === false ? undefined : options.tls.cert;
  const kubeconfigText = buildKubeconfig({
    server: server.httpsUrl ?? server.url,
    token,
    name: clusterName,
    ...(tlsCert !== undefined ? { caCert: tlsCert } : {}),
  });
  if (options.kubeconfigOut !== undefined)
    await writeFile(options.kubeconfigOut, kubeconfigText, { mode: 0o600 });

  let closed = false;
  return {
    url: server.url,
    port: server.port,
    httpsUrl: server.httpsUrl,
    token,
    kubeconfigPath: options.kubeconfigOut,
    kubeconfig: () => kubeconfigText,
    truth,
    cluster,
    controllers,
    disruption,
    churn,
    heartbeats,
    leases,
    server,
    hub,
    metrics,
    advance: () => cluster.runDue(),
    async close() {
      if (closed) return;
      closed = true;
      churn.setRate(0);
      heartbeats.setInterval(0);
      cluster.stop();
      await server.close(); // ends every watch cleanly first
      hub.close();
    },
  };
}
