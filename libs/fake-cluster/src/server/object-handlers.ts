import type { ServerResponse } from 'node:http';
import { statusErrors, successStatus, PATCH_MEDIA_TYPES } from '../api/api-status.js';
import type { JsonObject, JsonValue, KubeObject } from '../api/kube-object.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError } from '../api/patch.js';
import { negotiateTable, parseIncludeObject, toTable } from '../api/table.js';
import type { ResourceDef } from '../resource-registry.js';
import type { DeleteOptions } from '../sim/cluster.js';
import { ObjectNotFoundError } from '../store/store-errors.js';
import type { ApiContext } from './api-context.js';
import { checkFieldValidation } from './field-validation.js';
import { handleApply, managerOf, withUpdateOwnership } from './server-side-apply.js';
import { parseJsonBody, sendJson } from './http-io.js';
import { parseResourceVersion } from './list-options.js';
import { waitForResourceVersion } from './resource-version-wait.js';

/** A request addressed at one object (or its subresource). */
export interface ObjectRequest {
  resource: ResourceDef;
  namespace: string | undefined;
  name: string;
  subresource: string | undefined;
  query: URLSearchParams;
  accept: string | undefined;
  contentType: string | undefined;
  /** The User-Agent: names the field manager of a write without `fieldManager`. */
  userAgent: string | undefined;
  body: string;
}

function keyOf(req: { resource: ResourceDef; namespace: string | undefined; name: string }): string {
  return req.resource.namespaced ? `${req.namespace ?? ''}/${req.name}` : req.name;
}

function requireObject(ctx: ApiContext, req: ObjectRequest): KubeObject {
  const object = ctx.cluster.store.get(req.resource.kind, keyOf(req));
  if (object === undefined) throw notFound(req.resource, req.name);
  return object;
}

/** 404 for `resource` `name`, worded as upstream (`daemonsets.apps "x" not found`). */
export function notFound(resource: ResourceDef, name: string) {
  return statusErrors.notFound(resource.plural, name, resource.group || undefined);
}

/** Sends a single object, as a one-row Table when the Accept header asks for one. */
export function sendObject(
  ctx: ApiContext,
  req: { accept: string | undefined; query: URLSearchParams; resource: ResourceDef },
  res: ServerResponse,
  code: number,
  object: KubeObject,
): void {
  const tableVersion = negotiateTable(req.accept);
  if (tableVersion !== undefined) {
    sendJson(
      res,
      code,
      toTable(req.resource.kind, [object], {
        resourceVersion: object.metadata.resourceVersion,
        includeObject: parseIncludeObject(req.query.get('includeObject') ?? undefined),
        now: new Date(ctx.cluster.now()),
        apiVersion: tableVersion,
      }),
    );
    return;
  }
  sendJson(res, code, object);
}

function asObjectBody(value: JsonValue, req: ObjectRequest | { resource: ResourceDef }): KubeObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw statusErrors.badRequest('the body of the request must be a JSON object');
  }
  const body = value as JsonObject;
  const metadata = body['metadata'];
  if (
    metadata !== undefined &&
    (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
  ) {
    throw statusErrors.badRequest('metadata must be an object');
  }
  const kind = body['kind'];
  if (kind !== undefined && kind !== req.resource.kind) {
    throw statusErrors.badRequest(
      `the API version in the data (${String(body['apiVersion'])}) does not match the expected API version (${req.resource.apiVersion})`,
    );
  }
  return {
    ...body,
    kind: req.resource.kind,
    apiVersion: req.resource.apiVersion,
    metadata: { ...((metadata as JsonObject | undefined) ?? {}) },
  } as KubeObject;
}

/**
 * GET one object (or its `status` subresource, which is the whole object). With a
 * `resourceVersion` (other than "0") the object must be at least that fresh: a
 * version the store has not reached is waited for, then answered 504 as upstream.
 */
export async function handleGet(ctx: ApiContext, req: ObjectRequest, res: ServerResponse): Promise<void> {
  if (req.subresource !== undefined && req.subresource !== 'status') throw notFound(req.resource, req.name);
  const rvParam = req.query.get('resourceVersion');
  if (rvParam !== null && rvParam !== '' && rvParam !== '0') {
    const rv = parseResourceVersion(rvParam);
    const store = ctx.cluster.store;
    if (!(await waitForResourceVersion(store, rv, ctx.resourceVersionWaitMs))) {
      throw statusErrors.resourceVersionTooLarge(rv, store.resourceVersion);
    }
  }
  sendObject(ctx, req, res, 200, requireObject(ctx, req));
}

/** POST to a collection: create (201). */
export function handleCreate(
  ctx: ApiContext,
  req: {
    resource: ResourceDef;
    namespace: string | undefined;
    body: string;
    accept: string | undefined;
    query: URLSearchParams;
  },
  res: ServerResponse,
): void {
  const parsed = parseJsonBody(req.body);
  checkFieldValidation(req.resource, req.query, parsed, res);
  const body = asObjectBody(parsed, req);
  if (req.resource.namespaced) {
    const given = body.metadata.namespace;
    if (given !== undefined && req.namespace !== undefined && given !== req.namespace) {
      throw statusErrors.badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    body.metadata.namespace = req.namespace ?? given ?? 'default';
  }
  const created = ctx.cluster.createObject(req.resource.kind, body);
  sendObject(ctx, req, res, 201, created);
}

/** PUT an object or its `status`: 200, 409 on a stale resourceVersion. */
export function handleReplace(ctx: ApiContext, req: ObjectRequest, res: ServerResponse): void {
  const subresource = subresourceForWrite(req);
  const parsed = parseJsonBody(req.body);
  checkFieldValidation(req.resource, req.query, parsed, res);
  let body = asObjectBody(parsed, req);
  const current = ctx.cluster.store.get(req.resource.kind, keyOf(req));
  if (current !== undefined && subresource === undefined) {
    // The managedFields a client sends back are the server's bookkeeping: keep the stored ones.
    const stored = current.metadata['managedFields'];
    body.metadata = { ...body.metadata };
    if (stored !== undefined) body.metadata['managedFields'] = stored;
    else delete body.metadata['managedFields'];
    body = withUpdateOwnership(ctx, current, body, managerOf(req.query, req.userAgent));
  }
  try {
    const stored = ctx.cluster.replaceObject(req.resource.kind, keyOf(req), body, subresource);
    sendObject(ctx, req, res, 200, stored);
  } catch (err) {
    throw mapNotFound(err, req);
  }
}

/**
 * PATCH an object or its `status`: merge patch, strategic merge patch (with the
 * Go types' list semantics: taints replace as a whole, `null` deletes) or JSON
 * patch, chosen by Content-Type; anything else is 415. A `metadata.resourceVersion`
 * in the patched result that differs from the stored one is a 409.
 */
export function handlePatch(ctx: ApiContext, req: ObjectRequest, res: ServerResponse): void {
  const subresource = subresourceForWrite(req);
  const mediaType = (req.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  // Apply may create: it runs before the object is required.
  if (mediaType === 'application/apply-patch+yaml') return handleApply(ctx, req, res);
  const current = requireObject(ctx, req);
  if (!PATCH_MEDIA_TYPES.includes(mediaType)) throw statusErrors.unsupportedMediaType(req.contentType ?? '');
  const patch = parseJsonBody(req.body, 'patch');
  if (mediaType !== 'application/json-patch+json') checkFieldValidation(req.resource, req.query, patch, res);
  let patched: JsonValue;
  try {
    const target = current as unknown as JsonObject;
    if (mediaType === 'application/json-patch+json') patched = applyJsonPatch(target, patch);
    else if (mediaType === 'application/merge-patch+json') patched = applyMergePatch(target, patch);
    else {
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
        throw new PatchError('a strategic merge patch must be a JSON object', 'decode');
      }
      patched = applyStrategicMergePatch(target, patch, req.resource.kind);
    }
  } catch (err) {
    if (err instanceof PatchError) {
      if (err.phase === 'decode') throw statusErrors.badRequest(err.message);
      throw statusErrors.invalid(
        req.resource.kind,
        req.name,
        [{ message: err.message }],
        req.resource.group || undefined,
      );
    }
    throw err;
  }
  // A patch that does not mention resourceVersion is unconditional; one that sets it is a precondition.
  const body = withUpdateOwnership(
    ctx,
    current,
    asObjectBody(patched, req),
    managerOf(req.query, req.userAgent),
  );
  const patchRv = patchedResourceVersion(patch);
  body.metadata.resourceVersion = patchRv ?? '';
  try {
    const stored = ctx.cluster.replaceObject(req.resource.kind, keyOf(req), body, subresource);
    sendObject(ctx, req, res, 200, stored);
  } catch (err) {
    throw mapNotFound(err, req);
  }
}

function patchedResourceVersion(patch: JsonValue): string | undefined {
  if (typeof patch !== 'object' || patch === null) return undefined;
  if (Array.isArray(patch)) {
    for (const op of patch) {
      if (
        typeof op === 'object' &&
        op !== null &&
        !Array.isArray(op) &&
        op['path'] === '/metadata/resourceVersion'
      ) {
        const value = op['value'];
        if (typeof value === 'string' && (op['op'] === 'replace' || op['op'] === 'add')) return value;
      }
    }
    return undefined;
  }
  const meta = patch['metadata'];
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return undefined;
  const rv = meta['resourceVersion'];
  return typeof rv === 'string' ? rv : undefined;
}

function subresourceForWrite(req: ObjectRequest): 'status' | undefined {
  if (req.subresource === undefined) return undefined;
  if (req.subresource === 'status') return 'status';
  throw statusErrors.methodNotSupported(
    `${req.resource.plural}/${req.subresource}`,
    'update',
    req.resource.group || undefined,
  );
}

function mapNotFound(err: unknown, req: ObjectRequest): unknown {
  return err instanceof ObjectNotFoundError ? notFound(req.resource, req.name) : err;
}

/** Reads DeleteOptions from the query (`gracePeriodSeconds`) and an optional JSON body. */
export function parseDeleteOptions(query: URLSearchParams, body: string): DeleteOptions {
  const options: DeleteOptions = {};
  if (body.trim() !== '') {
    const parsed = parseJsonBody(body, 'DeleteOptions');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw statusErrors.badRequest('DeleteOptions must be a JSON object');
    }
    const grace = parsed['gracePeriodSeconds'];
    if (typeof grace === 'number') options.gracePeriodSeconds = grace;
    const pre = parsed['preconditions'];
    if (typeof pre === 'object' && pre !== null && !Array.isArray(pre)) {
      options.preconditions = {};
      if (typeof pre['uid'] === 'string') options.preconditions.uid = pre['uid'];
      if (typeof pre['resourceVersion'] === 'string')
        options.preconditions.resourceVersion = pre['resourceVersion'];
    }
  }
  const q = query.get('gracePeriodSeconds');
  if (q !== null && q !== '') {
    if (!/^-?\d+$/.test(q))
      throw statusErrors.badRequest(`invalid value for gracePeriodSeconds: ${JSON.stringify(q)}`);
    options.gracePeriodSeconds = Number(q);
  }
  return options;
}

/**
 * DELETE one object. A pod that terminates gracefully is answered with the pod
 * (200, deletionTimestamp set); anything deleted at once with a Success Status
 * naming it, as the API server does.
 */
export function handleDelete(ctx: ApiContext, req: ObjectRequest, res: ServerResponse): void {
  if (req.subresource !== undefined) {
    throw statusErrors.methodNotSupported(
      `${req.resource.plural}/${req.subresource}`,
      'delete',
      req.resource.group || undefined,
    );
  }
  const options = parseDeleteOptions(req.query, req.body);
  let result;
  try {
    result = ctx.cluster.deleteObject(req.resource.kind, keyOf(req), options);
  } catch (err) {
    throw mapNotFound(err, req);
  }
  if (!result.gone || req.resource.kind === 'Pod') {
    sendObject(ctx, req, res, 200, result.object);
    return;
  }
  const details: JsonObject = { name: req.name, kind: req.resource.plural, uid: result.object.metadata.uid };
  if (req.resource.group) details['group'] = req.resource.group;
  sendJson(res, 200, successStatus(details));
}

/**
 * POST pods/<name>/eviction (policy/v1 Eviction): 201 Success Status, or 429 when
 * a disruption budget forbids it (kubectl drain retries every 5 s).
 */
export function handleEviction(ctx: ApiContext, req: ObjectRequest, res: ServerResponse): void {
  const parsed = req.body.trim() === '' ? {} : parseJsonBody(req.body, 'Eviction');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw statusErrors.badRequest('the Eviction must be a JSON object');
  }
  const deleteOptions = parsed['deleteOptions'];
  const options =
    typeof deleteOptions === 'object' && deleteOptions !== null && !Array.isArray(deleteOptions)
      ? parseDeleteOptions(new URLSearchParams(), JSON.stringify(deleteOptions))
      : {};
  const meta = parsed['metadata'];
  if (
    typeof meta === 'object' &&
    meta !== null &&
    !Array.isArray(meta) &&
    typeof meta['name'] === 'string' &&
    meta['name'] !== req.name
  ) {
    throw statusErrors.badRequest(`name in URL does not match name in Eviction object`);
  }
  ctx.cluster.evictPod(req.namespace ?? 'default', req.name, options);
  sendJson(res, 201, successStatus());
}
