/**
 * `metrics.k8s.io/v1beta1` as metrics-server serves it behind the API server's
 * aggregation layer: NodeMetrics and PodMetrics, get and list (labelSelector), no
 * watch (405, as metrics-server's storage implements no Watcher), objects shaped as
 * metrics-server writes them (name, namespace, labels of the node or pod,
 * creationTimestamp now; timestamp, window, usage as canonical quantities).
 */
import type { ServerResponse } from 'node:http';
import {
  matchesLabelSelector,
  parseLabelSelector,
  SelectorParseError,
  type LabelSelector,
} from '@knm/contracts';
import { statusErrors } from '../api/api-status.js';
import type { JsonObject, KubeObject } from '../api/kube-object.js';
import { formatBytes, formatNanocores } from '../api/metrics-format.js';
import { rfc3339 } from '../sim/clock.js';
import type { MetricsSnapshot } from '../sim/metrics-snapshot.js';
import type { ApiContext } from './api-context.js';
import { sendJson } from './http-io.js';

const GROUP = 'metrics.k8s.io';
const API_VERSION = `${GROUP}/v1beta1`;

/** `/apis/metrics.k8s.io/v1beta1`: nodes and pods, get and list, as metrics-server's APIService lists them. */
export function metricsV1beta1Resources(): JsonObject {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: API_VERSION,
    resources: [
      { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
      { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
    ],
  };
}

function labelSelectorOf(query: URLSearchParams): LabelSelector | undefined {
  const text = query.get('labelSelector');
  if (text === null || text.trim() === '') return undefined;
  try {
    return parseLabelSelector(text);
  } catch (err) {
    if (err instanceof SelectorParseError) throw statusErrors.badRequest(err.message);
    throw err;
  }
}

function nodeMetrics(metrics: MetricsSnapshot, name: string, now: string): JsonObject | undefined {
  const entry = metrics.node(name);
  if (entry === undefined) return undefined;
  return {
    kind: 'NodeMetrics',
    apiVersion: API_VERSION,
    metadata: {
      name,
      creationTimestamp: now,
      ...(entry.node.metadata.labels ? { labels: entry.node.metadata.labels } : {}),
    },
    timestamp: metrics.timestamp,
    window: metrics.window,
    usage: { cpu: formatNanocores(entry.usage.nanocores), memory: formatBytes(entry.usage.bytes) },
  };
}

function podMetrics(metrics: MetricsSnapshot, pod: KubeObject, now: string): JsonObject {
  return {
    kind: 'PodMetrics',
    apiVersion: API_VERSION,
    metadata: {
      name: pod.metadata.name,
      namespace: pod.metadata.namespace ?? 'default',
      creationTimestamp: now,
      ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
    },
    timestamp: metrics.timestamp,
    window: metrics.window,
    containers: metrics.containers(pod).map((c) => ({
      name: c.name,
      usage: { cpu: formatNanocores(c.nanocores), memory: formatBytes(c.bytes) },
    })),
  };
}

/**
 * Serves one request under `/apis/metrics.k8s.io/v1beta1` (`rest`: the segments
 * after it). Throws ApiStatusError for every failure.
 */
export function handleMetricsRequest(
  ctx: ApiContext,
  metrics: MetricsSnapshot,
  method: string,
  rest: string[],
  query: URLSearchParams,
  res: ServerResponse,
  notFoundPath: () => Error,
): void {
  if (rest.length === 0) {
    if (method !== 'GET') throw notFoundPath();
    return sendJson(res, 200, metricsV1beta1Resources());
  }
  let namespace: string | undefined;
  let segments = rest;
  if (segments[0] === 'namespaces' && segments.length >= 3) {
    namespace = segments[1];
    segments = segments.slice(2);
    if (segments[0] !== 'pods') throw notFoundPath();
  }
  const [plural, name, ...extra] = segments;
  if ((plural !== 'nodes' && plural !== 'pods') || extra.length > 0) throw notFoundPath();
  if (plural === 'pods' && name !== undefined && namespace === undefined) throw notFoundPath();
  if (method !== 'GET') throw statusErrors.methodNotSupported(plural, method.toLowerCase(), GROUP);
  const watch = query.get('watch');
  if (watch === 'true' || watch === '1') throw statusErrors.methodNotSupported(plural, 'watch', GROUP);
  const now = rfc3339(ctx.cluster.clock.now());
  const store = ctx.cluster.store;

  if (plural === 'nodes') {
    if (name !== undefined) {
      if (store.get('Node', name) === undefined) throw statusErrors.notFound('node', name);
      const item = nodeMetrics(metrics, name, now);
      if (item === undefined) throw statusErrors.notFound('nodes', name, GROUP);
      return sendJson(res, 200, item);
    }
    const selector = labelSelectorOf(query);
    const items: JsonObject[] = [];
    for (const nodeName of metrics.nodeNames()) {
      const node = store.get('Node', nodeName);
      if (node === undefined) continue;
      if (selector && !matchesLabelSelector(selector, node.metadata.labels)) continue;
      const item = nodeMetrics(metrics, nodeName, now);
      if (item) items.push(item);
    }
    return sendJson(res, 200, { kind: 'NodeMetricsList', apiVersion: API_VERSION, metadata: {}, items });
  }

  if (name !== undefined) {
    const key = `${namespace}/${name}`;
    if (store.get('Pod', key) === undefined) throw statusErrors.notFound('pod', name);
    const pod = metrics.pod(key);
    if (pod === undefined) throw statusErrors.notFound('pods', name, GROUP);
    return sendJson(res, 200, podMetrics(metrics, pod, now));
  }
  const selector = labelSelectorOf(query);
  const items: JsonObject[] = [];
  for (const pod of metrics.podList()) {
    if (namespace !== undefined && pod.metadata.namespace !== namespace) continue;
    if (selector && !matchesLabelSelector(selector, pod.metadata.labels)) continue;
    items.push(podMetrics(metrics, pod, now));
  }
  sendJson(res, 200, { kind: 'PodMetricsList', apiVersion: API_VERSION, metadata: {}, items });
}
