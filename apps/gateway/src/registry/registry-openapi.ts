import {
  ConnectionTestFailedBodySchema,
  ConnectionTestResultSchema,
  RegisterClusterRequestSchema,
  RegisterClusterResponseSchema,
  ReplaceClusterCredentialsRequestSchema,
  TestClusterConnectionRequestSchema,
} from '@knm/contracts';
import {
  clusterParam as cluster,
  errors as errorResponses,
  json,
  ref,
  schema,
  type JsonObject,
} from '../openapi/openapi-builders.js';

const ERRORS: Readonly<Record<number, string>> = {
  400: 'bad input (name, body fields); a kubeconfig that cannot be used answers 400 with the test instead',
  401: 'no token, or an expired or forged one',
  403: 'the role is below admin, or the token does not cover the cluster',
  404: 'the cluster is not registered at runtime',
  409: 'a cluster of that name is registered: PUT replaces its credentials',
  413: 'the kubeconfig is larger than 256 KiB',
  503: 'the gateway has no KNM_SECRETS_KEY: registering clusters needs it',
};
const errors = (...codes: number[]): JsonObject => errorResponses(ERRORS, ...codes);

const failed: JsonObject = {
  400: json(
    'ConnectionTestFailedBody',
    'the kubeconfig cannot be used (syntax, context, file references, exec plugin not allowed)',
  ),
  422: json(
    'ConnectionTestFailedBody',
    'the connection test failed: `test.failure` says which check and why (unreachable, tls, authentication, permission)',
  ),
};

const credentialsBody = (name: string): JsonObject => ({
  required: true,
  content: { 'application/json': { schema: ref(name) } },
});

/** The cluster registry's part of the OpenAPI document: component schemas and paths. */
export function registryOpenApi(): { schemas: JsonObject; clustersPost: JsonObject; paths: JsonObject } {
  return {
    schemas: {
      RegisterClusterRequest: schema(RegisterClusterRequestSchema, 'input'),
      ReplaceClusterCredentialsRequest: schema(ReplaceClusterCredentialsRequestSchema, 'input'),
      TestClusterConnectionRequest: schema(TestClusterConnectionRequestSchema, 'input'),
      RegisterClusterResponse: schema(RegisterClusterResponseSchema),
      ConnectionTestResult: schema(ConnectionTestResultSchema),
      ConnectionTestFailedBody: schema(ConnectionTestFailedBodySchema),
    },
    clustersPost: {
      summary:
        'Admin: register a cluster from a self-contained kubeconfig (YAML or JSON, at most 256 KiB; exec plugins only ' +
        'when KNM_EXEC_ALLOWLIST names their command). Tested first: reach the API, authenticate, list one node, and ' +
        'the permissions the watcher needs (nodes list/watch/patch, pods list/watch, pods/eviction create); stored ' +
        'sealed (AES-256-GCM) only when every check passes. No answer ever repeats the credentials',
      requestBody: credentialsBody('RegisterClusterRequest'),
      responses: {
        201: json('RegisterClusterResponse', 'registered: the cluster (no credentials) and the checks'),
        ...failed,
        ...errors(401, 403, 409, 413, 503),
      },
    },
    paths: {
      '/api/v1/clusters/test': {
        post: {
          summary:
            'Admin: test a kubeconfig as a registration would, storing nothing; the result says each check',
          requestBody: credentialsBody('TestClusterConnectionRequest'),
          responses: {
            200: json('ConnectionTestResult', 'the test, passed or not (`ok`, `checks`, `failure`)'),
            ...errors(400, 401, 403, 413, 503),
          },
        },
      },
      '/api/v1/clusters/{cluster}': {
        put: {
          summary: "Admin: replace a registered cluster's credentials, tested as on registration",
          parameters: [cluster],
          requestBody: credentialsBody('ReplaceClusterCredentialsRequest'),
          responses: {
            200: json('RegisterClusterResponse', 'replaced'),
            ...failed,
            ...errors(401, 403, 404, 413, 503),
          },
        },
        delete: {
          summary:
            "Admin: remove a registered cluster: its connection (its watcher stops), then, once the cluster's lease " +
            'is gone (or after KNM_CLUSTER_DELETE_WAIT_MS), every key it had in Redis; the audit stream stays',
          parameters: [cluster],
          responses: { 204: { description: 'removed, no key left' }, ...errors(401, 403, 404, 503) },
        },
      },
    },
  };
}
