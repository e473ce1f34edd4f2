import {
  AuditResponseSchema,
  CreateOperationRequestSchema,
  CreateOperationResponseSchema,
  DryRunResponseSchema,
  OperationListResponseSchema,
  OperationSchema,
  OPERATION_ACTIONS,
} from '@knm/contracts';
import {
  clusterParam as cluster,
  errors as errorResponses,
  json,
  ref,
  queryParam as q,
  schema,
  type JsonObject,
} from '../openapi/openapi-builders.js';

const ERRORS: Readonly<Record<number, string>> = {
  400: 'bad input: `details[].path` names each bad field (at most 20 listed, then how many more)',
  401: 'no token, or an expired or forged one',
  403: 'the token does not cover this cluster, or its role is below operator',
  404: 'no such cluster, node (the message names them) or operation',
  409: 'a node is held by another unfinished operation (the message names it: one operation per node at a time), or a cancelled operation had already finished',
};
const errors = (...codes: number[]): JsonObject => errorResponses(ERRORS, ...codes);

/** The operations feature's part of the OpenAPI document: component schemas and paths. */
export function operationsOpenApi(): { schemas: JsonObject; paths: JsonObject } {
  return {
    schemas: {
      CreateOperationRequest: schema(CreateOperationRequestSchema, 'input'),
      CreateOperationResponse: schema(CreateOperationResponseSchema),
      DryRunResponse: schema(DryRunResponseSchema),
      Operation: schema(OperationSchema),
      OperationListResponse: schema(OperationListResponseSchema),
      AuditResponse: schema(AuditResponseSchema),
    },
    paths: {
      '/api/v1/clusters/{cluster}/operations': {
        post: {
          summary:
            'Start a node operation (label, unlabel, taint, untaint, cordon, uncordon, drain) on listed nodes, a non-empty selector or `all: true`; a drain of control-plane nodes needs `params.includeControlPlane: true`; role operator or admin',
          parameters: [cluster],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: ref('CreateOperationRequest') } },
          },
          responses: {
            202: json(
              'CreateOperationResponse',
              'queued; follow it with GET /api/v1/operations/{id} or `operation_progress`',
            ),
            200: json('DryRunResponse', '`dryRun: true`: what would change; nothing changed'),
            ...errors(400, 401, 403, 404, 409),
          },
        },
        get: {
          summary: 'Recent operations of a cluster, newest first',
          parameters: [
            cluster,
            q('limit', '1..200, default 50', { type: 'integer', minimum: 1, maximum: 200 }),
          ],
          responses: { 200: json('OperationListResponse', 'operations'), ...errors(400, 401, 403, 404) },
        },
      },
      '/api/v1/operations/{id}': {
        get: {
          summary: 'One operation: state, progress, per-node results',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: json('Operation', 'the operation'), ...errors(401, 403, 404) },
        },
      },
      '/api/v1/operations/{id}/cancel': {
        post: {
          summary:
            'Cancel an operation; role operator or admin on its cluster. Queued: cancelled at once. Running: its runner stops before the next node and aborts a drain between eviction rounds (nodes not started and an aborted drain end `cancelled`, the message says where each was left). Audited with `cancelledBy`',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            200: json(
              'Operation',
              'the operation as it now stands: `cancelled`, or `running` with `cancelRequestedAt`',
            ),
            ...errors(401, 403, 404, 409),
          },
        },
      },
      '/api/v1/audit': {
        get: {
          summary: 'Audit trail of finished operations, newest first, of the clusters the token covers',
          parameters: [
            q('cluster', 'cluster name'),
            q('user', 'token subject who started it'),
            q('action', 'action', { type: 'string', enum: [...OPERATION_ACTIONS] }),
            q('since', 'RFC 3339, inclusive'),
            q('until', 'RFC 3339, inclusive'),
            q('limit', '1..1000, default 100', { type: 'integer', minimum: 1, maximum: 1000 }),
          ],
          responses: { 200: json('AuditResponse', 'records'), ...errors(400, 401, 403) },
        },
      },
    },
  };
}
