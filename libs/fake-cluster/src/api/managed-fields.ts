import type { JsonObject, JsonValue } from './kube-object.js';
import { semanticallyEqual } from './semantic-equal.js';

/**
 * Field ownership for server-side apply (metav1.ManagedFieldsEntry, `FieldsV1`):
 * which manager set which fields. A field is a path of keys; maps are granular (each
 * key its own field), lists are atomic (owned whole, as Node's taints and addresses
 * are), values are leaves.
 */

/** A field path, e.g. `['metadata', 'labels', 'env']`. */
export type FieldPath = readonly string[];

/** One managedFields entry, decoded. */
export interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fields: FieldPath[];
}

// Set by the server on every write: nobody owns them.
const SERVER_FIELDS = new Set([
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'metadata.resourceVersion',
  'metadata.generation',
  'metadata.creationTimestamp',
  'metadata.deletionTimestamp',
  'metadata.deletionGracePeriodSeconds',
  'metadata.managedFields',
  'metadata.selfLink',
]);

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The leaf fields of an object's main resource (no apiVersion, kind, status or server-set metadata). */
export function leafFields(object: JsonObject): FieldPath[] {
  const out: FieldPath[] = [];
  const walk = (value: JsonValue, path: string[]): void => {
    if (SERVER_FIELDS.has(path.join('.'))) return;
    if (isObject(value) && Object.keys(value).length > 0) {
      for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
      return;
    }
    out.push(path);
  };
  for (const [key, value] of Object.entries(object)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'status') continue;
    walk(value, [key]);
  }
  return out;
}

/** The value at `path`, undefined when absent. */
export function valueAt(object: JsonValue, path: FieldPath): JsonValue | undefined {
  let current: JsonValue | undefined = object;
  for (const key of path) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** Sets `path` to `value` (creating maps on the way); `undefined` deletes it and prunes emptied maps. */
export function setAt(object: JsonObject, path: FieldPath, value: JsonValue | undefined): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    if (value === undefined) delete object[head];
    else object[head] = value;
    return;
  }
  const child = object[head];
  const next: JsonObject = isObject(child) ? { ...child } : {};
  setAt(next, rest, value);
  if (Object.keys(next).length === 0 && value === undefined) delete object[head];
  else object[head] = next;
}

export const key = (path: FieldPath): string => path.join('\u0000');

/** `.metadata.labels.env`: a field as the API server names it in conflict messages. */
export function fieldName(path: FieldPath): string {
  return `.${path.join('.')}`;
}

/** Encodes fields as FieldsV1 (`{"f:metadata":{"f:labels":{"f:env":{}}}}`). */
export function encodeFieldsV1(fields: readonly FieldPath[]): JsonObject {
  const root: JsonObject = {};
  for (const path of fields) {
    let node = root;
    for (const k of path) {
      const child = node[`f:${k}`];
      const next: JsonObject = isObject(child) ? child : {};
      node[`f:${k}`] = next;
      node = next;
    }
  }
  return root;
}

/** Decodes FieldsV1 into its leaf fields. */
export function decodeFieldsV1(fields: JsonValue | undefined): FieldPath[] {
  const out: FieldPath[] = [];
  const walk = (node: JsonValue | undefined, path: string[]): void => {
    if (!isObject(node)) return;
    const children = Object.entries(node).filter(([k]) => k.startsWith('f:'));
    if (children.length === 0 && path.length > 0) out.push(path);
    for (const [k, child] of children) walk(child, [...path, k.slice(2)]);
  };
  walk(fields, []);
  return out;
}

/** The managedFields of an object, decoded (entries kube-sim cannot read are dropped). */
export function readManagedFields(object: JsonObject): ManagedEntry[] {
  const metadata = object['metadata'];
  const entries = isObject(metadata) ? metadata['managedFields'] : undefined;
  if (!Array.isArray(entries)) return [];
  return entries.filter(isObject).map((e) => ({
    manager: String(e['manager'] ?? ''),
    operation: e['operation'] === 'Apply' ? 'Apply' : 'Update',
    apiVersion: String(e['apiVersion'] ?? ''),
    time: String(e['time'] ?? ''),
    fields: decodeFieldsV1(e['fieldsV1']),
  }));
}

/** Encodes entries back into metadata.managedFields (entries owning nothing are dropped, as upstream). */
export function writeManagedFields(entries: readonly ManagedEntry[]): JsonValue[] {
  return entries
    .filter((e) => e.fields.length > 0)
    .map((e) => ({
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion,
      time: e.time,
      fieldsType: 'FieldsV1',
      fieldsV1: encodeFieldsV1(e.fields),
    }));
}

/**
 * Records an update (PUT, or a patch other than apply) by `manager`: the fields it
 * added or changed become its own (operation Update) and nobody else's; fields it
 * removed are nobody's.
 */
export function recordUpdate(
  entries: readonly ManagedEntry[],
  before: JsonObject,
  after: JsonObject,
  manager: string,
  apiVersion: string,
  time: string,
): ManagedEntry[] {
  const beforeFields = leafFields(before);
  const afterFields = leafFields(after);
  const afterKeys = new Set(afterFields.map(key));
  const changed = afterFields.filter(
    (path) => !semanticallyEqual(valueAt(before, path), valueAt(after, path)),
  );
  const changedKeys = new Set(changed.map(key));
  const removed = new Set(beforeFields.filter((p) => !afterKeys.has(key(p))).map(key));
  const next = entries.map((e) => ({
    ...e,
    fields: e.fields.filter(
      (p) => !changedKeys.has(key(p)) && !removed.has(key(p)) && !coveredBy(p, changed),
    ),
  }));
  if (changed.length === 0) return next;
  const own = next.find((e) => e.manager === manager && e.operation === 'Update');
  if (own !== undefined) {
    own.fields = [...own.fields, ...changed];
    own.time = time;
    return next;
  }
  return [...next, { manager, operation: 'Update', apiVersion, time, fields: changed }];
}

/** Whether `path` lies inside one of `fields` (a map replaced by a value, or a leaf inside an owned list). */
function coveredBy(path: FieldPath, fields: readonly FieldPath[]): boolean {
  return fields.some((f) => f.length < path.length && f.every((k, i) => path[i] === k));
}
