import type { Cluster } from '../sim/cluster.js';
import type { MetricsSnapshot } from '../sim/metrics-snapshot.js';
import type { ListSnapshots } from '../store/list-snapshots.js';
import type { WatchHub } from './watch-hub.js';

/** What the API handlers share: the cluster, open watches, list snapshots and a few settings. */
export interface ApiContext {
  readonly cluster: Cluster;
  readonly hub: WatchHub;
  readonly snapshots: ListSnapshots;
  /** Interval between watch BOOKMARKs, in ms. */
  readonly bookmarkIntervalMs: number;
  /** Server-side watch timeout when the client asks for none, in ms. */
  readonly defaultWatchTimeoutMs: number;
  /** The Kubernetes minor version the server claims (the OpenAPI documents name it). */
  readonly kubernetesMinor: number;
  /** How long a read at a resourceVersion the store has not reached waits for it before a 504, in ms. */
  readonly resourceVersionWaitMs: number;
  /** A watch's bound on unread live bytes and on live bytes queued behind a backlog (WatchStream). */
  readonly watchBufferBytes: number;
  /** What `metrics.k8s.io` serves; undefined when the metrics API is off (its paths 404, discovery omits it). */
  readonly metrics: MetricsSnapshot | undefined;
}
