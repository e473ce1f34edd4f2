import {
  MAX_NODE_PODS,
  podResourceTotals,
  type NodePod,
  type NodePodsResponse,
  type NodeUsage,
} from '@knm/contracts';
import { podCounts, type KubeHttpClient, type MetricsClient } from '@knm/kube-reflector';
import type { NodePodsFetch } from '@knm/node-store';

interface RawPod {
  metadata?: {
    name?: unknown;
    namespace?: unknown;
    uid?: unknown;
    creationTimestamp?: unknown;
    ownerReferences?: { kind?: unknown; name?: unknown; controller?: unknown }[] | null;
  } | null;
  spec?: { nodeName?: unknown } | null;
  status?: { phase?: unknown } | null;
}

/** What {@link nodePodsFetcher} reads with. */
export interface NodePodsSources {
  client: Pick<KubeHttpClient, 'getJson'>;
  metrics: Pick<MetricsClient, 'podMetrics'>;
  /** Whether the watcher's node cache holds `node` (an unknown node is a 404, not a list). */
  knowsNode: (node: string) => boolean;
  /** False when the usage poller found no metrics API: pod usage is not even asked for. */
  usageAvailable: () => boolean | undefined;
  /** Default `() => new Date()`. */
  clock?: () => Date;
}

/** PodMetrics lists read at once for one node (one per namespace of its pods). */
const METRICS_CONCURRENCY = 4;

/**
 * The leading watcher's answer to "the pods behind node X's numbers": its pods as the
 * API server lists them (`spec.nodeName=X`, at most MAX_NODE_PODS), each with its
 * effective requests and limits (`podResourceTotals`, the same as the node's sums),
 * whether it counts on the node, its controller, and its usage from PodMetrics of the
 * namespaces involved when the metrics API serves them. A node the watcher does not
 * know is a 404; an API failure throws (the responder answers 502).
 */
export function nodePodsFetcher(sources: NodePodsSources): NodePodsFetch {
  const clock = sources.clock ?? (() => new Date());
  return async (node, signal) => {
    const fetchedAt = clock().toISOString();
    if (!sources.knowsNode(node)) {
      return { ok: false, node, fetchedAt, status: 404, message: `no node "${node}" in this cluster` };
    }
    const selector = encodeURIComponent(`spec.nodeName=${node}`);
    const list = (await sources.client.getJson(
      `/api/v1/pods?fieldSelector=${selector}&limit=${MAX_NODE_PODS}`,
      signal,
    )) as { items?: unknown; metadata?: { continue?: unknown; remainingItemCount?: unknown } } | null;
    const raws = Array.isArray(list?.items) ? (list.items as unknown[]) : [];
    const items = raws.map(toNodePod);
    const truncated =
      (typeof list?.metadata?.continue === 'string' && list.metadata.continue !== '') ||
      (typeof list?.metadata?.remainingItemCount === 'number' && list.metadata.remainingItemCount > 0);
    let usageAvailable = false;
    if (sources.usageAvailable() !== false && items.length > 0) {
      const usage = await podUsage(sources.metrics, [...new Set(items.map((p) => p.namespace))], signal);
      if (usage) {
        usageAvailable = true;
        for (const pod of items) {
          const u = usage.get(pod.namespace)?.get(pod.name);
          if (u) pod.usage = u;
        }
      }
    }
    const response: NodePodsResponse = { ok: true, node, fetchedAt, truncated, usageAvailable, items };
    return response;
  };
}

function toNodePod(raw: unknown): NodePod {
  const pod = (raw ?? {}) as RawPod;
  const meta = pod.metadata ?? {};
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const phase = text(pod.status?.phase) || 'Unknown';
  const nodeName = text(pod.spec?.nodeName) || undefined;
  const { requests, limits } = podResourceTotals(raw);
  const out: NodePod = {
    namespace: text(meta.namespace),
    name: text(meta.name),
    uid: text(meta.uid),
    phase,
    requests,
    limits,
    counted: podCounts({ uid: text(meta.uid), nodeName, phase }),
  };
  if (typeof meta.creationTimestamp === 'string') out.createdAt = meta.creationTimestamp;
  const owner = (meta.ownerReferences ?? []).find((o) => o?.controller === true);
  if (owner && typeof owner.kind === 'string' && typeof owner.name === 'string') {
    out.owner = { kind: owner.kind, name: owner.name };
  }
  return out;
}

/** namespace -> pod name -> usage; undefined when any namespace's PodMetrics could not be read. */
async function podUsage(
  metrics: Pick<MetricsClient, 'podMetrics'>,
  namespaces: readonly string[],
  signal: AbortSignal,
): Promise<Map<string, Map<string, NodeUsage>> | undefined> {
  const out = new Map<string, Map<string, NodeUsage>>();
  try {
    for (let i = 0; i < namespaces.length; i += METRICS_CONCURRENCY) {
      const batch = namespaces.slice(i, i + METRICS_CONCURRENCY);
      const lists = await Promise.all(batch.map((ns) => metrics.podMetrics(ns, signal)));
      batch.forEach((ns, k) => out.set(ns, lists[k] as Map<string, NodeUsage>));
    }
  } catch {
    // No metrics API, or it failed: the pods are listed without usage (usageAvailable false).
    if (signal.aborted) throw signal.reason;
    return undefined;
  }
  return out;
}
