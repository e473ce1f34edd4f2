import {
  WebhookSinkInputSchema,
  WebhookSinkListResponseSchema,
  WebhookSinkSummarySchema,
  WebhookTestResponseSchema,
} from '@knm/contracts';
import { errors as errorResponses, json, ref, schema, type JsonObject } from '../openapi/openapi-builders.js';

const ERRORS: Readonly<Record<number, string>> = {
  400: 'bad input: `details[].path` names each bad field',
  401: 'no token, or an expired or forged one',
  403: 'the role is below admin',
  404: 'no such sink',
  502: 'the test message was not delivered: the message says what the receiver did (its host, never the URL)',
  503: 'the gateway has no KNM_SECRETS_KEY: sink URLs are kept encrypted and cannot be kept without it',
};
const errors = (...codes: number[]): JsonObject => errorResponses(ERRORS, ...codes);
const idParam: JsonObject = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

/** The webhook sinks' part of the OpenAPI document: component schemas and paths. */
export function webhooksOpenApi(): { schemas: JsonObject; paths: JsonObject } {
  return {
    schemas: {
      WebhookSinkInput: schema(WebhookSinkInputSchema, 'input'),
      WebhookSink: schema(WebhookSinkSummarySchema),
      WebhookSinkListResponse: schema(WebhookSinkListResponseSchema),
      WebhookTestResponse: schema(WebhookTestResponseSchema),
    },
    paths: {
      '/api/v1/webhooks': {
        get: {
          summary: 'Admin: where incidents are notified (URLs never shown: `target` is scheme and host)',
          responses: { 200: json('WebhookSinkListResponse', 'sinks'), ...errors(401, 403, 503) },
        },
        post: {
          summary:
            'Admin: add a sink (`json`, `slack` or `feishu`) for clusters, a node selector and events; ' +
            'one message per incident opened or resolved, grouped when many nodes fail at once, rate-limited, retried',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: ref('WebhookSinkInput') } },
          },
          responses: { 201: json('WebhookSink', 'the sink'), ...errors(400, 401, 403, 503) },
        },
      },
      '/api/v1/webhooks/{id}': {
        delete: {
          summary: 'Admin: remove a sink (messages queued for it are dropped)',
          parameters: [idParam],
          responses: { 204: { description: 'removed' }, ...errors(401, 403, 404, 503) },
        },
      },
      '/api/v1/webhooks/{id}/test': {
        post: {
          summary: 'Admin: send a test message to the sink now',
          parameters: [idParam],
          responses: { 200: json('WebhookTestResponse', 'delivered'), ...errors(401, 403, 404, 502, 503) },
        },
      },
    },
  };
}
