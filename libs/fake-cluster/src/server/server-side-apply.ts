import type { ServerResponse } from 'node:http';
import { ApiStatusError, statusErrors } from '../api/api-status.js';
import type { JsonObject, JsonValue, KubeObject } from '../api/kube-object.js';
import {
  fieldName,
  key,
  leafFields,
  readManagedFields,
  recordUpdate,
  setAt,
  valueAt,
  writeManagedFields,
  type FieldPath,
  type ManagedEntry,
} from '../api/managed-fields.js';
import { parseQueryBool } from '../api/query-bool.js';
import { semanticallyEqual } from '../api/semantic-equal.js';
import { rfc3339 } from '../sim/clock.js';
import type { ApiContext } from './api-context.js';
import { checkFieldValidation } from './field-validation.js';
import { parseJsonBody, sendJson } from './http-io.js';
import type { ObjectRequest } from './object-handlers.js';

/** The kinds whose fields kube-sim tracks and lets clients apply (server-side apply). */
export const APPLY_KINDS: ReadonlySet<string> = new Set(['Node']);

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The manager of a write: `fieldManager`, else the User-Agent's product (`kubectl`), as upstream. */
export function managerOf(query: URLSearchParams, userAgent: string | undefined): string {
  return query.get('fieldManager') || (userAgent ?? '').split('/')[0] || 'unknown';
}

/**
 * The managedFields a non-apply write leaves on a tracked kind: the writer owns what
 * it changed (operation Update). Objects of other kinds are returned as they are.
 */
export function withUpdateOwnership(
  ctx: ApiContext,
  current: KubeObject,
  next: KubeObject,
  manager: string,
): KubeObject {
  if (!APPLY_KINDS.has(current.kind)) return next;
  const before = current as unknown as JsonObject;
  const entries = recordUpdate(
    readManagedFields(before),
    before,
    next as unknown as JsonObject,
    manager,
    current.apiVersion,
    rfc3339(ctx.cluster.now()),
  );
  const managedFields = writeManagedFields(entries);
  const metadata = { ...next.metadata };
  if (managedFields.length > 0) metadata['managedFields'] = managedFields;
  else delete metadata['managedFields'];
  return { ...next, metadata };
}

/** The apply configuration: JSON (what kubectl and kubeclient send; YAML beyond JSON is not read). */
function parseConfig(req: ObjectRequest): JsonObject {
  const config = parseJsonBody(req.body, 'apply configuration');
  if (!isObject(config)) throw statusErrors.badRequest('the apply configuration must be an object');
  const object = config;
  const metadata = object['metadata'];
  if (object['kind'] !== req.resource.kind || object['apiVersion'] !== req.resource.apiVersion) {
    throw statusErrors.badRequest(
      `the apply configuration must be a ${req.resource.apiVersion} ${req.resource.kind}, got ${String(object['apiVersion'])} ${String(object['kind'])}`,
    );
  }
  if (!isObject(metadata) || metadata['name'] !== req.name) {
    throw statusErrors.badRequest('metadata.name in the apply configuration must match the name in the URL');
  }
  return object;
}

function conflictError(
  req: ObjectRequest,
  conflicts: { manager: string; path: FieldPath }[],
): ApiStatusError {
  const causes = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${JSON.stringify(c.manager)} using ${req.resource.apiVersion}`,
    field: fieldName(c.path),
  }));
  const listed = causes.map((c) => `${c.message}: ${c.field}`);
  const message =
    conflicts.length === 1
      ? `Apply failed with 1 conflict: ${listed[0] ?? ''}`
      : `Apply failed with ${conflicts.length} conflicts: ${listed.join('\n')}`;
  return new ApiStatusError(409, 'Conflict', message, {
    name: req.name,
    kind: req.resource.plural,
    causes,
  });
}

const overlaps = (a: FieldPath, b: FieldPath) => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * PATCH `application/apply-patch+yaml` (server-side apply) of a tracked kind: the
 * configuration (JSON) names the fields `fieldManager` wants; changing a
 * field another manager owns is a 409 Conflict naming each field (`force=true` takes
 * them over); fields this manager applied before and left out now are removed
 * unless someone else owns them; the object is created when absent (201). Maps are
 * merged key by key, lists (taints, addresses) are owned whole.
 */
export function handleApply(ctx: ApiContext, req: ObjectRequest, res: ServerResponse): void {
  if (!APPLY_KINDS.has(req.resource.kind) || req.subresource !== undefined) {
    throw statusErrors.unsupportedMediaType(req.contentType ?? '');
  }
  const manager = req.query.get('fieldManager');
  if (!manager) {
    throw statusErrors.invalid(
      'PatchOptions',
      '',
      [
        {
          field: 'fieldManager',
          reason: 'FieldValueRequired',
          message: 'Required value: is required for apply patch',
        },
      ],
      'meta.k8s.io',
    );
  }
  const force = parseQueryBool(req.query.get('force')) ?? false;
  const config = parseConfig(req);
  checkFieldValidation(req.resource, req.query, config, res);
  const applied = leafFields(config);
  const time = rfc3339(ctx.cluster.now());
  const apiVersion = req.resource.apiVersion;
  const current = ctx.cluster.store.get(req.resource.kind, req.name);
  if (current === undefined) {
    const body = { ...config, metadata: { ...(config['metadata'] as JsonObject) } } as unknown as KubeObject;
    delete (body as unknown as JsonObject)['status'];
    body.metadata['managedFields'] = writeManagedFields([
      { manager, operation: 'Apply', apiVersion, time, fields: applied },
    ]);
    sendJson(res, 201, ctx.cluster.createObject(req.resource.kind, body));
    return;
  }
  const before = current as unknown as JsonObject;
  let entries: ManagedEntry[] = readManagedFields(before);
  const conflicts: { manager: string; path: FieldPath }[] = [];
  for (const path of applied) {
    if (semanticallyEqual(valueAt(config, path), valueAt(before, path))) continue;
    for (const entry of entries) {
      if (entry.manager === manager && entry.operation === 'Apply') continue;
      const owned = entry.fields.find((f) => overlaps(f, path));
      if (owned !== undefined) conflicts.push({ manager: entry.manager, path: owned });
    }
  }
  if (conflicts.length > 0 && !force) throw conflictError(req, conflicts);
  const taken = new Set(conflicts.map((c) => key(c.path)));
  entries = entries.map((e) =>
    e.manager === manager && e.operation === 'Apply'
      ? e
      : { ...e, fields: e.fields.filter((f) => !taken.has(key(f))) },
  );
  const next = structuredClone(before);
  for (const path of applied) setAt(next, path, valueAt(config, path));
  const appliedKeys = new Set(applied.map(key));
  const previous = entries.find((e) => e.manager === manager && e.operation === 'Apply')?.fields ?? [];
  for (const path of previous) {
    if (appliedKeys.has(key(path))) continue;
    const sharedWith = entries.some(
      (e) => !(e.manager === manager && e.operation === 'Apply') && e.fields.some((f) => overlaps(f, path)),
    );
    if (!sharedWith) setAt(next, path, undefined);
  }
  // A Go struct field is never omitted: an emptied spec stays as {}.
  if (isObject(before['spec']) && next['spec'] === undefined) next['spec'] = {};
  entries = [
    ...entries.filter((e) => !(e.manager === manager && e.operation === 'Apply')),
    { manager, operation: 'Apply', apiVersion, time, fields: applied },
  ];
  const metadata = next['metadata'] as JsonObject;
  metadata['managedFields'] = writeManagedFields(entries);
  metadata['resourceVersion'] = '';
  sendJson(res, 200, ctx.cluster.replaceObject(req.resource.kind, req.name, next as unknown as KubeObject));
}
