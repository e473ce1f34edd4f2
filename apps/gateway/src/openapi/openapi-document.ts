import {
  ClusterListResponseSchema,
  ErrorBodySchema,
  NodeListResponseSchema,
  NodeResponseSchema,
  NodeSortFieldSchema,
  PodCountsResponseSchema,
  WsPingResponseSchema,
  WsStatsResponseSchema,
  WsTestRequestSchema,
  WsTestResponseSchema,
} from '@knm/contracts';
import { operationsOpenApi } from '../operations/operations-openapi.js';
import {
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
  410: 'the continue token is stale (the cluster was resynced): list again without it',
  503: 'Redis is not reachable',
};
const errors = (...codes: number[]): JsonObject => errorResponses(ERROR_TEXT, ...codes);

const nodeFilters = [
  q('labelSelector', 'Kubernetes label selector, e.g. `zone=a,tier in (web,api),!canary`'),
  q('ready', 'Ready condition', { type: 'string', enum: ['true', 'false', 'unknown'] }),
  q('schedulable', 'not cordoned', { type: 'string', enum: ['true', 'false'] }),
  q('role', 'has this role (node-role.kubernetes.io/<role>)'),
  q('q', 'case-insensitive substring of the name'),
  q('taint', 'comma-separated, each `key`, `key=value`, `key:Effect` or `key=value:Effect`; all must match'),
  q('sort', 'sort field (ties by name)', schema(NodeSortFieldSchema)),
  q('order', 'sort order', { type: 'string', enum: ['asc', 'desc'], default: 'asc' }),
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
  return {
    openapi: '3.1.0',
    info: {
      title: 'Kube Node Manager gateway',
      version: '0.1.0',
      description:
        'Nodes of many Kubernetes clusters, served from Redis. Realtime changes: Socket.IO namespace `/nodes` ' +
        '(protocol 2: `subscribe { cluster, sinceSeq?, maxRate? }`, `ack { cluster, seq }`; events named by ' +
        'envelope type, and `batch`). Every endpoint but health needs a bearer token.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        ErrorBody: schema(ErrorBodySchema),
        ClusterListResponse: schema(ClusterListResponseSchema),
        NodeListResponse: schema(NodeListResponseSchema),
        NodeResponse: schema(NodeResponseSchema),
        PodCountsResponse: schema(PodCountsResponseSchema),
        WsStatsResponse: schema(WsStatsResponseSchema),
        WsPingResponse: schema(WsPingResponseSchema),
        WsTestRequest: schema(WsTestRequestSchema),
        WsTestResponse: schema(WsTestResponseSchema),
        ...operations.schemas,
      },
    },
    security: [{ bearer: [] }],
    paths: {
      ...operations.paths,
      '/api/v1/clusters': {
        get: {
          summary: 'Registered clusters the token covers, with status, totals and seq',
          responses: { 200: json('ClusterListResponse', 'clusters'), ...errors(401) },
        },
      },
      '/api/v1/clusters/{cluster}/nodes': {
        get: {
          summary: 'Nodes of a cluster: filtered, sorted, paged; each with podCount and podCapacity',
          parameters: [clusterParam, ...nodeFilters],
          responses: { 200: json('NodeListResponse', 'one page'), ...errors(400, 401, 403, 404, 410) },
        },
      },
      '/api/v1/clusters/{cluster}/nodes/{node}': {
        get: {
          summary: 'One node',
          parameters: [
            clusterParam,
            { name: 'node', in: 'path', required: true, schema: { type: 'string' } },
          ],
          responses: { 200: json('NodeResponse', 'the node'), ...errors(400, 401, 403, 404) },
        },
      },
      '/api/v1/clusters/{cluster}/pod-counts': {
        get: {
          summary: "Every node's count of non-terminated pods",
          parameters: [clusterParam],
          responses: { 200: json('PodCountsResponse', 'counts'), ...errors(400, 401, 403, 404) },
        },
      },
      '/api/v1/nodes': {
        get: {
          summary: "The original API's node list (same as /clusters/{cluster}/nodes)",
          parameters: [
            { name: 'cluster_name', in: 'query', required: true, schema: { type: 'string' } },
            ...nodeFilters,
          ],
          responses: { 200: json('NodeListResponse', 'one page'), ...errors(400, 401, 403, 404, 410) },
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
