import {
  ClusterListResponseSchema,
  ClusterResourcesResponseSchema,
  ErrorBodySchema,
  FLEET_DEFAULT_LIMIT,
  FleetNodeListResponseSchema,
  NODE_SORT_FIELDS,
  NodeListResponseSchema,
  NodePodsListSchema,
  NodeResponseSchema,
  PodCountsResponseSchema,
  WsPingResponseSchema,
  WsStatsResponseSchema,
  WsTestRequestSchema,
  WsTestResponseSchema,
} from '@knm/contracts';
import { historyOpenApi } from '../history/history-openapi.js';
import { operationsOpenApi } from '../operations/operations-openapi.js';
import { webhooksOpenApi } from '../webhooks/webhooks-openapi.js';
import { registryOpenApi } from '../registry/registry-openapi.js';
import {
  cachedAnswer,
  cachedAnswerParams,
  clusterParam,
  errors as errorResponses,
  json,
  ref,
  queryParam as q,
  schema,
  type JsonObject,
} from './openapi-builders.js';

const ERROR_TEXT: Readonly<Record<number, string>> = {
  400: 'bad input: `message` and `details` say what is wrong',
  401: 'no token, or an expired or forged one',
  403: 'the token does not cover this cluster',
  404: 'no such cluster or node',
  406: '`Accept-Encoding` refuses identity and accepts neither br nor gzip',
  410: 'the continue token is stale (the cluster was resynced): list again without it',
  503: 'Redis is not reachable',
};
const PODS_ERROR_TEXT: Readonly<Record<number, string>> = {
  ...ERROR_TEXT,
  404: 'no such cluster or node (the API server does not know the node)',
  502: "the watcher could not list the node's pods from the API server",
  503: 'no watcher leads the cluster now (nobody can read its pods); try again shortly',
  504: 'the watcher did not answer in time',
};

/**
 * What each resource figure means, said once for the node list, the node, the
 * resources rollup and the pods endpoint.
 */
const RESOURCE_FIGURES =
  'Every node carries `resources`: resource name (`cpu`, `memory`, `pods`, `ephemeral-storage`, `nvidia.com/gpu`, ' +
  '`hugepages-2Mi`, ...) -> `{allocatable, requests, limits, usage?}` in base units (cpu in millicores, memory and ' +
  'storage in bytes, the rest counts). `allocatable`: what the node offers pods (`status.allocatable`, capacity ' +
  'minus system reservations): every percent is of it, never of capacity. `requests`: the sum of the effective ' +
  'requests of the pods that count on the node (bound, not Succeeded or Failed), as the scheduler computes them ' +
  '(containers, sidecars, the largest init container, pod overhead, in-place resizes): what the scheduler places ' +
  'against allocatable. `limits`: the same sum of limits (pods without a limit add 0, so it may understate; above ' +
  '100% the node is overcommitted). `usage`: what the metrics API (metrics-server) measured at its last poll, cpu ' +
  'and memory only (working set); absent when there is no metrics API or the poll did not measure the node. ' +
  '`pods.requests` = `pods.limits` = the pod count.';
const errors = (...codes: number[]): JsonObject => errorResponses(ERROR_TEXT, ...codes);

const nodeFilters = [
  q('labelSelector', 'Kubernetes label selector, e.g. `zone=a,tier in (web,api),!canary`'),
  q('ready', 'Ready condition', { type: 'string', enum: ['true', 'false', 'unknown'] }),
  q('schedulable', 'not cordoned', { type: 'string', enum: ['true', 'false'] }),
  q('role', 'has this role (node-role.kubernetes.io/<role>)'),
  q('q', 'case-insensitive substring of the name'),
  q('taint', 'comma-separated, each `key`, `key=value`, `key:Effect` or `key=value:Effect`; all must match'),
  q(
    'resource',
    'comma-separated, each `<resource>.<requests|limits|usage>Percent<op><number>` with `op` one of `>`, `>=`, `<`, ' +
      '`<=` (percent of allocatable), all must hold, e.g. `cpu.requestsPercent>80,memory.usagePercent<50`; a node ' +
      'whose percent cannot be said (nothing allocatable, usage not measured) matches no item',
  ),
  q(
    'sort',
    `a field (${NODE_SORT_FIELDS.join(', ')}) or \`<resource>.<requests|limits|usage>Percent\` (split on the last ` +
      'dot: `nvidia.com/gpu.requestsPercent`; nodes whose percent cannot be said last in either order); a leading ' +
      '`-` sorts descending; ties by name',
    { type: 'string', default: 'name', examples: ['-cpu.requestsPercent', 'memory.usagePercent', 'pods'] },
  ),
  q('order', 'sort order (`desc` is the same as a leading `-`)', {
    type: 'string',
    enum: ['asc', 'desc'],
    default: 'asc',
  }),
  q('limit', 'page size (1..10000); default every match', { type: 'integer', minimum: 1, maximum: 10000 }),
  q('continue', "the previous page's `continue`"),
];

/**
 * The OpenAPI 3.1 document of the REST API, written by hand with its schemas
 * generated from the zod contracts (`z.toJSONSchema`): Nest's swagger plugin needs
 * decorator metadata, which this workspace does not emit.
 */
export function openApiDocument(): JsonObject {
  const operations = operationsOpenApi();
  const webhooks = webhooksOpenApi();
  const history = historyOpenApi();
  const registry = registryOpenApi();
  return {
    openapi: '3.1.0',
    info: {
      title: 'Kube Node Manager gateway',
      version: '0.1.0',
      description:
        'Nodes of many Kubernetes clusters, served from Redis. Realtime changes: Socket.IO namespace `/nodes` ' +
        '(protocol 5: `subscribe { cluster, sinceSeq?, maxRate?, encoding?, parts? }`, `ack { cluster, seq, part? }`; events named by ' +
        'envelope type (`node_add`, `node_update`, `node_delete`, `pod_counts`, `allocation`, `usage`, ' +
        '`cluster_status`, `resync`), and `batch`, compressed when large for `encoding: deflate`, in parts when larger than ' +
        'a few seconds of the link for `parts: true`). Every endpoint but health needs a bearer token. ' +
        RESOURCE_FIGURES,
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        ErrorBody: schema(ErrorBodySchema),
        ClusterListResponse: schema(ClusterListResponseSchema),
        NodeListResponse: schema(NodeListResponseSchema),
        FleetNodeListResponse: schema(FleetNodeListResponseSchema),
        NodeResponse: schema(NodeResponseSchema),
        ClusterResourcesResponse: schema(ClusterResourcesResponseSchema),
        NodePodsList: schema(NodePodsListSchema),
        PodCountsResponse: schema(PodCountsResponseSchema),
        WsStatsResponse: schema(WsStatsResponseSchema),
        WsPingResponse: schema(WsPingResponseSchema),
        WsTestRequest: schema(WsTestRequestSchema),
        WsTestResponse: schema(WsTestResponseSchema),
        ...operations.schemas,
        ...webhooks.schemas,
        ...history.schemas,
        ...registry.schemas,
      },
    },
    security: [{ bearer: [] }],
    paths: {
      ...operations.paths,
      ...webhooks.paths,
      ...history.paths,
      ...registry.paths,
      '/api/v1/clusters': {
        get: {
          summary:
            'Clusters the token covers, with status, totals and seq: those watchers write and those registered at ' +
            'runtime (`registered: true`, `createdAt`), listed from registration on (`syncing` until a watcher is ready)',
          responses: { 200: json('ClusterListResponse', 'clusters'), ...errors(401) },
        },
        post: registry.clustersPost,
      },
      '/api/v1/clusters/{cluster}/nodes': {
        get: {
          summary:
            'Nodes of a cluster: filtered (labels, ready, schedulable, role, name, taints, resource percents), ' +
            'sorted (fields or resource percents), paged; each with podCount, podCapacity and resources',
          parameters: [clusterParam, ...nodeFilters, ...cachedAnswerParams],
          responses: {
            ...cachedAnswer(json('NodeListResponse', 'one page')),
            ...errors(400, 401, 403, 404, 406, 410),
          },
        },
      },
      '/api/v1/clusters/{cluster}/nodes/{node}': {
        get: {
          summary: 'One node',
          parameters: [
            clusterParam,
            { name: 'node', in: 'path', required: true, schema: { type: 'string' } },
            ...cachedAnswerParams,
          ],
          responses: {
            ...cachedAnswer(json('NodeResponse', 'the node')),
            ...errors(400, 401, 403, 404, 406),
          },
        },
      },
      '/api/v1/clusters/{cluster}/nodes/{node}/pods': {
        get: {
          summary:
            "The pods behind a node's numbers (namespace, name, phase, owner, effective requests and limits, usage " +
            'when the metrics API serves pod metrics), read from the API server by the watcher that leads the ' +
            'cluster (the gateway holds no credentials), at most 1,000, cached a few seconds',
          parameters: [
            clusterParam,
            { name: 'node', in: 'path', required: true, schema: { type: 'string' } },
          ],
          responses: {
            200: json('NodePodsList', 'the pods; `counted` says which are in the node sums'),
            ...errorResponses(PODS_ERROR_TEXT, 400, 401, 403, 404, 502, 503, 504),
          },
        },
      },
      '/api/v1/clusters/{cluster}/resources': {
        get: {
          summary:
            "The cluster's resources summed over every node, and by zone (`topology.kubernetes.io/zone`) and node " +
            'pool (the first of `cloud.google.com/gke-nodepool`, `eks.amazonaws.com/nodegroup`, ' +
            '`karpenter.sh/nodepool`, `kubernetes.azure.com/agentpool`, `node.kubernetes.io/pool`; else `none`); ' +
            'usage sums are over the nodes the last poll measured (`measured`), with the poll in `usage`',
          parameters: [clusterParam, ...cachedAnswerParams],
          responses: {
            ...cachedAnswer(json('ClusterResourcesResponse', 'totals and rollups')),
            ...errors(400, 401, 403, 404, 406),
          },
        },
      },
      '/api/v1/clusters/{cluster}/pod-counts': {
        get: {
          summary: "Every node's count of non-terminated pods",
          parameters: [clusterParam, ...cachedAnswerParams],
          responses: {
            ...cachedAnswer(json('PodCountsResponse', 'counts')),
            ...errors(400, 401, 403, 404, 406),
          },
        },
      },
      '/api/v1/nodes': {
        get: {
          summary:
            "With `cluster_name`: the original API's node list (same as /clusters/{cluster}/nodes). Without it: the " +
            'fleet list, one page of the nodes of every cluster the token covers, each with its `cluster`, merged in ' +
            'the sort order (ties by cluster, then name, in the sort direction); `clusters` gives each covered cluster its status and counts ' +
            '(one that is not ready still lists its last known nodes; one that cannot be read has `error`), `totals` ' +
            `the fleet's resources summed over every node. The fleet list's \`limit\` defaults to ${FLEET_DEFAULT_LIMIT}; its ` +
            '`continue` spans clusters and is 410 when one of them was resynced since',
          parameters: [
            q('cluster_name', 'one cluster (the original API); absent: every cluster the token covers'),
            ...nodeFilters,
            ...cachedAnswerParams,
          ],
          responses: {
            ...cachedAnswer({
              description: 'one page (NodeListResponse with `cluster_name`, else FleetNodeListResponse)',
              content: {
                'application/json': {
                  schema: { oneOf: [ref('NodeListResponse'), ref('FleetNodeListResponse')] },
                },
              },
            }),
            ...errors(400, 401, 403, 404, 406, 410),
          },
        },
      },
      '/api/v1/ws/stats': {
        get: {
          summary: 'Socket.IO clients and subscriptions across every gateway replica',
          responses: { 200: json('WsStatsResponse', 'stats'), ...errors(401) },
        },
      },
      '/api/v1/ws/ping': {
        get: {
          summary: "This replica's realtime layer: changes connection, Redis round trip, clients",
          responses: { 200: json('WsPingResponse', 'health'), ...errors(401) },
        },
      },
      '/api/v1/ws/test': {
        post: {
          summary:
            "Admin: push a test message to a cluster's subscribers on every replica; counts the sockets that acknowledged it",
          requestBody: { required: true, content: { 'application/json': { schema: ref('WsTestRequest') } } },
          responses: { 200: json('WsTestResponse', 'delivery'), ...errors(400, 401, 403) },
        },
      },
      '/healthz': {
        get: { summary: 'Liveness', security: [], responses: { 200: { description: 'alive' } } },
      },
      '/readyz': {
        get: {
          summary: 'Readiness (Redis answers)',
          security: [],
          responses: { 200: { description: 'ready' }, ...errors(503) },
        },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics', security: [], responses: { 200: { description: 'text' } } },
      },
    },
  };
}
