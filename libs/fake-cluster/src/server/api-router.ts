import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiStatusError, statusErrors } from '../api/api-status.js';
import {
  apiGroupList,
  apiVersions,
  appsV1Resources,
  authenticationResources,
  authorizationV1Resources,
  coordinationV1Resources,
  coreV1Resources,
  policyV1Resources,
  versionInfo,
} from '../api/discovery.js';
import { authorize, impersonatedUser, verbOf } from '../rbac/impersonation.js';
import { handleRbacRequest, RBAC_GROUP } from '../rbac/rbac-api.js';
import { rbacOf } from '../rbac/rbac-model.js';
import { findResource, type ResourceDef } from '../resource-registry.js';
import type { ApiContext } from './api-context.js';
import { handleCollectionGet } from './collection-handler.js';
import { handleMetricsRequest } from './metrics-api.js';
import { serveOpenApiV2, serveOpenApiV3Document, serveOpenApiV3Index } from './openapi-endpoints.js';
import { readBodyBytes, sendJson } from './http-io.js';
import { decodeProtobufNamespace } from './protobuf-namespace.js';
import { decodeProtobufSelfReview } from './protobuf-self-review.js';
import { handleSelfReview, selfReviewKind } from './self-reviews.js';
import {
  handleCreate,
  handleDelete,
  handleEviction,
  handleGet,
  handlePatch,
  handleReplace,
  notFound,
} from './object-handlers.js';

/** A parsed Kubernetes API path. */
interface ApiPath {
  group: string;
  version: string;
  /** Everything after `/api/v1` or `/apis/<group>/<version>`. */
  rest: string[];
}

function parseApiPath(segments: string[]): ApiPath | undefined {
  if (segments[0] === 'api' && segments.length >= 2) {
    return { group: '', version: segments[1] as string, rest: segments.slice(2) };
  }
  if (segments[0] === 'apis' && segments.length >= 3) {
    return { group: segments[1] as string, version: segments[2] as string, rest: segments.slice(3) };
  }
  return undefined;
}

const DISCOVERY: Record<string, () => object> = {
  '/v1': coreV1Resources,
  'apps/v1': appsV1Resources,
  'policy/v1': policyV1Resources,
  'coordination.k8s.io/v1': coordinationV1Resources,
  'authorization.k8s.io/v1': authorizationV1Resources,
  'authentication.k8s.io/v1': () => authenticationResources('v1'),
  'authentication.k8s.io/v1beta1': () => authenticationResources('v1beta1'),
};

/**
 * Routes one Kubernetes API request (`/api/...`, `/apis/...`) to its handler.
 * Throws ApiStatusError for every failure; the server writes it as a Status.
 */
export async function routeApiRequest(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  serverAddress: string,
): Promise<void> {
  const segments = url.pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  const method = req.method ?? 'GET';
  if (segments.length === 1 && segments[0] === 'api') return sendJson(res, 200, apiVersions(serverAddress));
  if (segments.length === 1 && segments[0] === 'apis')
    return sendJson(res, 200, apiGroupList({ metrics: ctx.metrics !== undefined }));
  if (
    segments[0] === 'apis' &&
    segments[1] === 'metrics.k8s.io' &&
    segments[2] === 'v1beta1' &&
    ctx.metrics
  ) {
    const notFoundHere = () => pathNotFound(url.pathname);
    return handleMetricsRequest(
      ctx,
      ctx.metrics,
      method,
      segments.slice(3),
      url.searchParams,
      res,
      notFoundHere,
    );
  }
  if (segments[0] === 'openapi') return serveOpenApi(ctx, req, url, segments, res);
  const path = parseApiPath(segments);
  if (path === undefined) throw pathNotFound(url.pathname);
  // Impersonation (Impersonate-User/-Group): the cluster's RBAC decides each resource request.
  const impersonated = impersonatedUser(req.headers);
  if (path.group === RBAC_GROUP) {
    if (impersonated)
      throw statusErrors.badRequest('kube-sim serves its RBAC API to its own credential only');
    return handleRbacRequest(rbacOf(ctx.cluster), method, path.version, path.rest, req, res, url.pathname);
  }
  if (path.rest.length === 0) {
    const discovery = DISCOVERY[`${path.group}/${path.version}`];
    if (discovery === undefined || method !== 'GET') throw pathNotFound(url.pathname);
    return sendJson(res, 200, discovery());
  }
  const reviewKind =
    path.rest.length === 1 ? selfReviewKind(path.group, path.version, path.rest[0] as string) : undefined;
  if (reviewKind !== undefined) {
    const raw = method === 'GET' ? Buffer.alloc(0) : await readBodyBytes(req);
    const contentType = req.headers['content-type'];
    const body =
      raw.length > 0 && isProtobuf(contentType)
        ? JSON.stringify(decodeProtobufSelfReview(raw, contentType ?? '', reviewKind))
        : raw.toString('utf8');
    return handleSelfReview(path.group, path.version, path.rest[0] as string, method, body, res, {
      impersonated,
      rbac: rbacOf(ctx.cluster),
    });
  }
  let rest = path.rest;
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  // /namespaces/<ns>/<plural>[/<name>[/<sub>]] for namespaced resources.
  let namespace: string | undefined;
  let resource: ResourceDef | undefined;
  let name: string | undefined;
  let subresource: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    resource = findResource(path.group, path.version, rest[2] as string);
    if (resource === undefined || !resource.namespaced) throw pathNotFound(url.pathname);
    name = rest[3];
    subresource = rest[4];
    if (rest.length > 5) throw pathNotFound(url.pathname);
  } else {
    resource = findResource(path.group, path.version, rest[0] as string);
    if (resource === undefined) throw pathNotFound(url.pathname);
    name = rest[1];
    subresource = rest[2];
    if (rest.length > 3) throw pathNotFound(url.pathname);
    if (resource.namespaced && name !== undefined) throw pathNotFound(url.pathname);
  }

  const query = url.searchParams;
  if (legacyWatch) query.set('watch', 'true');
  if (impersonated) {
    authorize(rbacOf(ctx.cluster), impersonated, {
      verb: verbOf(method, name !== undefined, query.get('watch') === 'true' || query.get('watch') === '1'),
      group: resource.group,
      resource: resource.plural,
      ...(subresource !== undefined ? { subresource } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
      ...(name !== undefined ? { name } : {}),
    });
  }
  const accept = req.headers.accept;
  const hasBody = method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
  const raw = hasBody ? await readBodyBytes(req) : Buffer.alloc(0);
  let body = raw.toString('utf8');
  const contentType = req.headers['content-type'];
  if (raw.length > 0 && method !== 'PATCH' && !isJson(contentType)) {
    if (method === 'POST' && name === undefined && resource.kind === 'Namespace' && isProtobuf(contentType)) {
      body = JSON.stringify(decodeProtobufNamespace(raw, contentType ?? ''));
    } else {
      throw statusErrors.unsupportedMediaType(contentType ?? '', ['application/json', 'application/yaml']);
    }
  }

  if (name === undefined) {
    const collection = { resource, namespace, query, accept, body };
    if (method === 'GET') return handleCollectionGet(ctx, collection, res);
    if (method === 'POST') return handleCreate(ctx, collection, res);
    throw statusErrors.methodNotSupported(resource.plural, method.toLowerCase(), resource.group || undefined);
  }
  if (namespace !== undefined && resource.namespaced && !ctx.cluster.store.get('Namespace', namespace)) {
    if (method !== 'GET' && method !== 'DELETE') throw statusErrors.notFound('namespaces', namespace);
  }
  if (legacyWatch) {
    query.set('fieldSelector', `metadata.name=${name}`);
    return handleCollectionGet(ctx, { resource, namespace, query, accept }, res);
  }
  const objectReq = {
    resource,
    namespace,
    name,
    subresource,
    query,
    accept,
    contentType: req.headers['content-type'],
    userAgent: req.headers['user-agent'],
    body,
  };
  if (subresource === 'eviction') {
    if (resource.kind !== 'Pod' || method !== 'POST') throw notFound(resource, name);
    return handleEviction(ctx, objectReq, res);
  }
  if (subresource !== undefined && subresource !== 'status') throw pathNotFound(url.pathname);
  switch (method) {
    case 'GET':
      return handleGet(ctx, objectReq, res);
    case 'PUT':
      return handleReplace(ctx, objectReq, res);
    case 'PATCH':
      return handlePatch(ctx, objectReq, res);
    case 'DELETE':
      return handleDelete(ctx, objectReq, res);
    default:
      throw statusErrors.methodNotSupported(
        resource.plural,
        method.toLowerCase(),
        resource.group || undefined,
      );
  }
}

/** `/openapi/v2` (JSON or protobuf), `/openapi/v3` (the index) and `/openapi/v3/<group-version>`. */
function serveOpenApi(
  ctx: ApiContext,
  req: IncomingMessage,
  url: URL,
  segments: string[],
  res: ServerResponse,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw pathNotFound(url.pathname);
  const gitVersion = String(versionInfo({ kubernetesMinor: ctx.kubernetesMinor })['gitVersion']);
  if (segments[1] === 'v2' && segments.length === 2) return serveOpenApiV2(req.headers, res, gitVersion);
  if (segments[1] !== 'v3') throw pathNotFound(url.pathname);
  if (segments.length === 2) return serveOpenApiV3Index(req.headers, res, gitVersion);
  const path = segments.slice(2).join('/');
  if (!serveOpenApiV3Document(req.headers, url.searchParams, res, gitVersion, path)) {
    throw pathNotFound(url.pathname);
  }
}

/** 404 for a path kube-sim does not serve, worded as the API server's. */
export function pathNotFound(path: string): ApiStatusError {
  return new ApiStatusError(404, 'NotFound', 'the server could not find the requested resource', {
    causes: [{ reason: 'UnexpectedServerResponse', message: `404 page not found: ${path}` }],
  });
}

/**
 * POST/PUT/DELETE bodies must be JSON: kube-sim has no general protobuf or CBOR
 * codec (only a protobuf Namespace is understood, for `kubectl create namespace`).
 * Anything else answers 415, as an API server does for a media type it cannot decode.
 */
function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
}

function isJson(contentType: string | undefined): boolean {
  const mediaType = mediaTypeOf(contentType);
  return mediaType === 'application/json' || mediaType === '' || mediaType === '*/*';
}

function isProtobuf(contentType: string | undefined): boolean {
  return mediaTypeOf(contentType) === 'application/vnd.kubernetes.protobuf';
}
