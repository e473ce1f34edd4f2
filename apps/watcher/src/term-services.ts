import type { Logger } from 'pino';
import type { ClusterName, Keyspace } from '@knm/contracts';
import type { ClusterSync, KubeHttpClient, MetricsClient } from '@knm/kube-reflector';
import { NodePodsResponder, type NodeStoreWriter, type PubSubMode, type RedisClient } from '@knm/node-store';
import type { LeaderService } from './leader-services.js';
import { nodePodsFetcher } from './node-pods-fetcher.js';
import { UsagePoller } from './usage-poller.js';
import type { ClusterMetrics } from './watcher-metrics.js';

/** What the leader-only services of a watcher are built from. */
export interface TermServicesDeps {
  cluster: ClusterName;
  keyspace: Keyspace;
  pubsub: PubSubMode;
  /** The connection pod-list requests arrive on (subscriber mode). */
  subscriber: RedisClient;
  client: KubeHttpClient;
  metricsApi: MetricsClient;
  /** 0: no usage poller. */
  metricsIntervalMs: number;
  sync: ClusterSync;
  metrics: ClusterMetrics;
  logger: Logger;
  /** Hands the cluster's incident outbox to the webhook queue while leading; absent: no notifications. */
  notifications?: () => LeaderService;
}

/**
 * The services one term runs beside the sync, writing through the term's writer: the
 * usage poller (unless `metricsIntervalMs` is 0), the responder to the gateways'
 * node pod requests (which skips pod usage while the poller finds no metrics API),
 * and the incident notification dispatcher (when the process has notifications).
 */
export function termServices(deps: TermServicesDeps): (writer: NodeStoreWriter) => LeaderService[] {
  const { logger, metrics } = deps;
  return (writer) => {
    const services: LeaderService[] = [];
    let poller: UsagePoller | undefined;
    if (deps.metricsIntervalMs > 0) {
      const usage = new UsagePoller({
        metrics: deps.metricsApi,
        intervalMs: deps.metricsIntervalMs,
        write: (snapshot) => writer.setUsage(snapshot),
        onTransition: (snapshot) =>
          snapshot.available
            ? logger.info({ nodes: Object.keys(snapshot.nodes).length }, 'usage available')
            : logger.warn({ reason: snapshot.reason }, 'usage unavailable'),
        onWriteError: (err) => logger.warn({ err: err.message }, 'usage write failed'),
        onPoll: (snapshot) => metrics.usagePolled(snapshot.available),
      });
      poller = usage;
      services.push({ start: () => usage.start(), stop: () => usage.stop() });
    }
    const fetchNodePods = nodePodsFetcher({
      client: deps.client,
      metrics: deps.metricsApi,
      knowsNode: (node) => deps.sync.nodeCache.get(node) !== undefined,
      usageAvailable: () => poller?.available,
    });
    services.push(
      new NodePodsResponder(
        deps.subscriber,
        deps.keyspace,
        deps.cluster,
        writer,
        async (node, signal) => {
          try {
            const answer = await fetchNodePods(node, signal);
            metrics.nodePodsFetched(answer.ok ? 'ok' : 'not_found');
            return answer;
          } catch (err) {
            metrics.nodePodsFetched('error');
            throw err;
          }
        },
        {
          pubsub: deps.pubsub,
          onError: (err, node) => logger.warn({ err: err.message, node }, 'node pods request failed'),
          onInvalid: (raw) => logger.debug({ raw: raw.slice(0, 200) }, 'bad node pods request'),
        },
      ),
    );
    if (deps.notifications) services.push(deps.notifications());
    return services;
  };
}
