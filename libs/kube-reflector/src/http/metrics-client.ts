import { quantityToBaseUnits, type NodeUsage } from '@knm/contracts';
import type { KubeHttpClient } from './kube-http-client.js';

/** One poll of `metrics.k8s.io/v1beta1` NodeMetrics. */
export interface NodeMetricsPoll {
  /** Node name -> usage (cpu in millicores, memory in bytes); nodes without valid figures left out. */
  nodes: Record<string, NodeUsage>;
  /** The newest `timestamp` of the items (the end of the window they were measured over). */
  timestamp?: string;
  /** The `window` of the newest item (`15s`, `20.004s`). */
  window?: string;
}

interface RawMetricsItem {
  metadata?: { name?: unknown; namespace?: unknown } | null;
  timestamp?: unknown;
  window?: unknown;
  usage?: Record<string, unknown> | null;
  containers?: { usage?: Record<string, unknown> | null }[] | null;
}

/**
 * Reads the resource metrics API (`metrics.k8s.io/v1beta1`, served by metrics-server
 * through an APIService) with the watcher's credentials. Errors are the client's
 * typed errors: a cluster without the API answers 404, an APIService whose backend
 * is down answers 503 ({@link ApiError}).
 */
export class MetricsClient {
  constructor(private readonly client: KubeHttpClient) {}

  /** Every node's usage (`GET /apis/metrics.k8s.io/v1beta1/nodes`). */
  async nodeMetrics(signal: AbortSignal): Promise<NodeMetricsPoll> {
    const items = await this.items('/apis/metrics.k8s.io/v1beta1/nodes', signal);
    const poll: NodeMetricsPoll = { nodes: {} };
    for (const item of items) {
      const name = item.metadata?.name;
      const usage = usageOf(item.usage);
      if (typeof name !== 'string' || !usage) continue;
      poll.nodes[name] = usage;
      if (
        typeof item.timestamp === 'string' &&
        (poll.timestamp === undefined || item.timestamp > poll.timestamp)
      ) {
        poll.timestamp = item.timestamp;
        if (typeof item.window === 'string') poll.window = item.window;
      }
    }
    return poll;
  }

  /**
   * The usage of the pods of `namespace` (`GET .../namespaces/<ns>/pods`): pod name ->
   * the sum of its containers' usage.
   */
  async podMetrics(namespace: string, signal: AbortSignal): Promise<Map<string, NodeUsage>> {
    const items = await this.items(
      `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`,
      signal,
    );
    const out = new Map<string, NodeUsage>();
    for (const item of items) {
      const name = item.metadata?.name;
      if (typeof name !== 'string') continue;
      const sum: NodeUsage = { cpu: 0, memory: 0 };
      for (const container of item.containers ?? []) {
        const usage = usageOf(container?.usage);
        if (!usage) continue;
        sum.cpu += usage.cpu;
        sum.memory += usage.memory;
      }
      out.set(name, sum);
    }
    return out;
  }

  private async items(path: string, signal: AbortSignal): Promise<RawMetricsItem[]> {
    const body = (await this.client.getJson(path, signal)) as { items?: unknown } | null;
    return Array.isArray(body?.items) ? (body.items as RawMetricsItem[]) : [];
  }
}

/** cpu and memory of a metrics `usage` map in base units; undefined when either is missing or not a quantity. */
function usageOf(usage: Record<string, unknown> | null | undefined): NodeUsage | undefined {
  const cpu = typeof usage?.['cpu'] === 'string' ? quantityToBaseUnits('cpu', usage['cpu']) : undefined;
  const memory =
    typeof usage?.['memory'] === 'string' ? quantityToBaseUnits('memory', usage['memory']) : undefined;
  if (cpu === undefined || memory === undefined || cpu < 0 || memory < 0) return undefined;
  return { cpu, memory };
}
