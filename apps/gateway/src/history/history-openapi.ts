import {
  HistoryPageSchema,
  IncidentsResponseSchema,
  MAX_HISTORY_LIMIT,
  MttrResponseSchema,
} from '@knm/contracts';
import {
  clusterParam,
  errors as errorResponses,
  json,
  queryParam as q,
  schema,
  type JsonObject,
} from '../openapi/openapi-builders.js';

const ERROR_TEXT: Readonly<Record<number, string>> = {
  400: 'bad query: `message` and `details` say what is wrong',
  401: 'no token, or an expired or forged one',
  403: 'the token does not cover this cluster',
  404: 'no such cluster',
  503: 'Redis is not reachable',
};
const errors = (...codes: number[]): JsonObject => errorResponses(ERROR_TEXT, ...codes);
const time = { type: 'string', format: 'date-time' };

/** The history and incidents part of the OpenAPI document: its schemas and paths. */
export function historyOpenApi(): { schemas: JsonObject; paths: JsonObject } {
  return {
    schemas: {
      HistoryPage: schema(HistoryPageSchema),
      IncidentsResponse: schema(IncidentsResponseSchema),
      MttrResponse: schema(MttrResponseSchema),
    },
    paths: {
      '/api/v1/clusters/{cluster}/nodes/{node}/history': {
        get: {
          summary:
            "A node's timeline, newest first: condition transitions (custom ones included), cordon and uncordon " +
            '(reason and author from knm), taints added and removed, node added and removed; written by the ' +
            "leading watcher in the same step as the change, kept `KNM_HISTORY_DAYS`. `at` is the object's own " +
            'transition time when it has one (`timeSource: transition`), else when the watcher saw the change',
          parameters: [
            clusterParam,
            { name: 'node', in: 'path', required: true, schema: { type: 'string' } },
            q('limit', 'entries per page', {
              type: 'integer',
              minimum: 1,
              maximum: MAX_HISTORY_LIMIT,
              default: 100,
            }),
            q('before', "the previous page's `next`: entries written before that one"),
          ],
          responses: { 200: json('HistoryPage', 'one page'), ...errors(400, 401, 403, 404) },
        },
      },
      '/api/v1/incidents': {
        get: {
          summary:
            'Periods nodes were not Ready or under pressure (memory, disk, PID, network), newest start first, with ' +
            'start, end, duration, cause and whether the node was flapping',
          parameters: [
            q('cluster', 'one cluster (default: every cluster the token covers)'),
            q('open', '`true`: only open incidents, `false`: only closed ones', {
              type: 'string',
              enum: ['true', 'false'],
            }),
            q('since', 'only incidents open at or ending after this time', time),
            q('limit', 'at most this many', { type: 'integer', minimum: 1, maximum: 1000, default: 500 }),
          ],
          responses: { 200: json('IncidentsResponse', 'incidents'), ...errors(400, 401, 403, 404) },
        },
      },
      '/api/v1/incidents/mttr': {
        get: {
          summary: 'Mean time to recovery of the incidents closed in a period, per cluster and node pool',
          parameters: [
            q('cluster', 'one cluster (default: every cluster the token covers)'),
            q('since', 'start of the period (default: 7 days before `until`)', time),
            q('until', 'end of the period (default: now)', time),
          ],
          responses: { 200: json('MttrResponse', 'MTTR'), ...errors(400, 401, 403, 404) },
        },
      },
    },
  };
}
