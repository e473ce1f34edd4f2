/**
 * The three PATCH flavours the API server accepts for built-in types, with the
 * semantics kubectl relies on: JSON merge patch (RFC 7386), JSON patch (RFC 6902)
 * and strategic merge patch (lists merged by the patch merge keys of the Go types).
 * Pure functions: inputs are never mutated, the result shares nothing with them.
 */
import type { JsonObject, JsonValue } from './kube-object.js';
import { strategicListStrategy, type StrategicKind } from './strategic-merge-schema.js';

/**
 * A patch that cannot be decoded (`phase: 'decode'`, the API server answers 400) or
 * cannot be applied to the object (`phase: 'apply'`, the API server answers 422).
 */
export class PatchError extends Error {
  override readonly name = 'PatchError';

  constructor(
    message: string,
    /** `decode`: the patch document itself is malformed (400); `apply`: it does not fit the object (422). */
    readonly phase: 'decode' | 'apply' = 'apply',
  ) {
    super(message);
  }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}

/** Structural equality of two JSON values (key order ignored). */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
    );
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// RFC 7386 JSON merge patch

function mergeInto(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergeInto(result[key], value);
  }
  return result;
}

/**
 * RFC 7386: objects merge recursively, `null` deletes a member, anything else
 * (arrays included) replaces. A non-object patch replaces the whole target.
 */
export function applyMergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  return mergeInto(clone(target), patch);
}

// ---------------------------------------------------------------------------------------------
// RFC 6902 JSON patch

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/'))
    throw new PatchError(`invalid JSON pointer ${JSON.stringify(pointer)}`, 'decode');
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, allowEnd: boolean, pointer: string): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token))
    throw new PatchError(`invalid array index ${JSON.stringify(token)} in ${pointer}`);
  const index = Number(token);
  if (index > length || (!allowEnd && index === length)) {
    throw new PatchError(`array index ${index} out of bounds in ${pointer}`);
  }
  return index;
}

/** The container holding the last token of `pointer`, and that token. */
function resolveParent(
  doc: JsonValue,
  tokens: string[],
  pointer: string,
): { parent: JsonValue; last: string } {
  let current: JsonValue = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) {
      current = current[arrayIndex(token, current.length, false, pointer)] ?? null;
    } else if (isObject(current) && Object.hasOwn(current, token)) {
      current = current[token] ?? null;
    } else {
      throw new PatchError(`path ${pointer} does not exist`);
    }
  }
  return { parent: current, last: tokens[tokens.length - 1] ?? '' };
}

function getAt(doc: JsonValue, pointer: string): JsonValue {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, last } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) return parent[arrayIndex(last, parent.length, false, pointer)] ?? null;
  if (isObject(parent) && Object.hasOwn(parent, last)) return parent[last] ?? null;
  throw new PatchError(`path ${pointer} does not exist`);
}

function addAt(doc: JsonValue, pointer: string, value: JsonValue): JsonValue {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, last } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true, pointer), 0, value);
  else if (isObject(parent)) parent[last] = value;
  else throw new PatchError(`path ${pointer} does not exist`);
  return doc;
}

function removeAt(doc: JsonValue, pointer: string): JsonValue {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const { parent, last } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, false, pointer), 1);
  else if (isObject(parent) && Object.hasOwn(parent, last)) delete parent[last];
  else throw new PatchError(`path ${pointer} does not exist`);
  return doc;
}

function operationField(op: JsonObject, field: string, index: number): string {
  const value = op[field];
  if (typeof value !== 'string') {
    throw new PatchError(`operation ${index}: missing or non-string ${JSON.stringify(field)}`, 'decode');
  }
  return value;
}

/**
 * RFC 6902: `add`, `remove`, `replace`, `move`, `copy`, `test`, applied in order to a
 * copy of `target`; `~0`/`~1` pointer escapes and `-` (append) are honoured. A
 * malformed document is a decode PatchError; a missing path or a failed `test` is an
 * apply PatchError (the whole patch fails, nothing is half-applied).
 */
export function applyJsonPatch(target: JsonValue, operations: JsonValue): JsonValue {
  if (!Array.isArray(operations))
    throw new PatchError('a JSON patch must be an array of operations', 'decode');
  let doc = clone(target);
  operations.forEach((op, index) => {
    if (!isObject(op)) throw new PatchError(`operation ${index} is not an object`, 'decode');
    const kind = operationField(op, 'op', index);
    const path = operationField(op, 'path', index);
    const value = (): JsonValue => {
      if (!Object.hasOwn(op, 'value'))
        throw new PatchError(`operation ${index} (${kind}): missing "value"`, 'decode');
      return clone(op['value'] ?? null);
    };
    switch (kind) {
      case 'add':
        doc = addAt(doc, path, value());
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'replace':
        getAt(doc, path);
        doc = path === '' ? value() : addAt(removeAt(doc, path), path, value());
        break;
      case 'move': {
        const from = operationField(op, 'from', index);
        if (path.startsWith(`${from}/`))
          throw new PatchError(`cannot move ${from} into its own child ${path}`);
        const moved = getAt(doc, from);
        doc = addAt(removeAt(doc, from), path, moved);
        break;
      }
      case 'copy':
        doc = addAt(doc, path, clone(getAt(doc, operationField(op, 'from', index))));
        break;
      case 'test':
        if (!jsonEqual(getAt(doc, path), value())) throw new PatchError(`testing value ${path} failed`);
        break;
      default:
        throw new PatchError(`operation ${index}: unsupported op ${JSON.stringify(kind)}`, 'decode');
    }
  });
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch

const PATCH_DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

class StrategicMerger {
  constructor(private readonly kind: StrategicKind) {}

  /** Merges `patch` into `target` (mutated; a private copy). Returns undefined when the map is deleted. */
  mergeMap(target: JsonObject, patch: JsonObject, path: string): JsonObject | undefined {
    const directive = patch[PATCH_DIRECTIVE];
    if (directive === 'delete') return undefined;
    if (directive === 'replace') {
      const rest = { ...patch };
      delete rest[PATCH_DIRECTIVE];
      return this.mergeMap({}, rest, path);
    }
    if (directive !== undefined)
      throw new PatchError(`unknown patch type: ${JSON.stringify(directive)}`, 'decode');

    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$')) continue;
      const childPath = path === '' ? key : `${path}.${key}`;
      if (value === null) {
        delete target[key];
      } else if (isObject(value)) {
        const current = target[key];
        const merged = this.mergeMap(isObject(current) ? current : {}, value, childPath);
        if (merged === undefined) delete target[key];
        else target[key] = merged;
      } else if (Array.isArray(value)) {
        const current = target[key];
        target[key] = this.mergeList(Array.isArray(current) ? current : [], value, childPath);
      } else {
        target[key] = value;
      }
    }

    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
        const field = key.slice(DELETE_FROM_PRIMITIVE_LIST.length);
        const list = target[field];
        if (!Array.isArray(value)) throw new PatchError(`${key} must be a list`, 'decode');
        if (Array.isArray(list))
          target[field] = list.filter((item) => !value.some((v) => jsonEqual(v, item)));
      }
    }
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith(SET_ELEMENT_ORDER)) {
        const field = key.slice(SET_ELEMENT_ORDER.length);
        const list = target[field];
        if (!Array.isArray(value)) throw new PatchError(`${key} must be a list`, 'decode');
        if (Array.isArray(list))
          target[field] = this.order(list, value, `${path === '' ? field : `${path}.${field}`}`);
      }
    }
    const retain = patch[RETAIN_KEYS];
    if (retain !== undefined) {
      if (!Array.isArray(retain)) throw new PatchError(`${RETAIN_KEYS} must be a list`, 'decode');
      for (const key of Object.keys(target)) if (!retain.includes(key)) delete target[key];
    }
    return target;
  }

  private mergeList(target: JsonValue[], patch: JsonValue[], path: string): JsonValue[] {
    const strategy = strategicListStrategy(this.kind, path);
    const replaceAll = patch.some((item) => isObject(item) && item[PATCH_DIRECTIVE] === 'replace');
    if (strategy === undefined || replaceAll) {
      // Atomic lists (taints, tolerations, ...) and `$patch: replace` lists take the patch as is.
      return patch
        .filter((item) => !(isObject(item) && item[PATCH_DIRECTIVE] === 'replace'))
        .map((item) => (isObject(item) ? (this.mergeMap({}, item, `${path}[]`) ?? {}) : clone(item)));
    }
    if (strategy === 'primitive') {
      const result = [...target];
      for (const item of patch)
        if (!result.some((existing) => jsonEqual(existing, item))) result.push(clone(item));
      return result;
    }
    const key = strategy.mergeKey;
    let result = [...target];
    for (const item of patch) {
      if (!isObject(item))
        throw new PatchError(`a list merged by ${key} must contain objects, got ${JSON.stringify(item)}`);
      const id = item[key];
      if (item[PATCH_DIRECTIVE] === 'delete') {
        result = result.filter((existing) => !(isObject(existing) && jsonEqual(existing[key], id)));
        continue;
      }
      if (id === undefined) {
        throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
      }
      const index = result.findIndex((existing) => isObject(existing) && jsonEqual(existing[key], id));
      const existing = index >= 0 ? result[index] : undefined;
      const merged = this.mergeMap(isObject(existing) ? existing : {}, item, `${path}[]`);
      if (index < 0) {
        if (merged !== undefined) result.push(merged);
      } else if (merged === undefined) {
        result.splice(index, 1);
      } else {
        result[index] = merged;
      }
    }
    return result;
  }

  /**
   * `$setElementOrder`: the listed elements come first in the listed order; elements
   * the order does not mention keep their relative order after them (a simplification
   * of upstream, which interleaves them; the set of elements is the same).
   */
  private order(list: JsonValue[], order: JsonValue[], path: string): JsonValue[] {
    const strategy = strategicListStrategy(this.kind, path);
    const keyOf = (item: JsonValue | undefined): JsonValue | undefined =>
      typeof strategy === 'object' && isObject(item) ? item[strategy.mergeKey] : item;
    const rank = (item: JsonValue): number => {
      const index = order.findIndex((o) => jsonEqual(keyOf(o), keyOf(item)));
      return index < 0 ? order.length : index;
    };
    return list
      .map((item, i) => ({ item, i, r: rank(item) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map(({ item }) => item);
  }
}

/**
 * Strategic merge patch as the API server applies it to built-in types: maps merge,
 * `null` deletes, lists with a patch merge key in the Go types merge element by
 * element (Node `status.conditions`/`status.addresses` by `type`; Pod containers,
 * initContainers, volumes, env by `name`, ports by `containerPort`; `ownerReferences`
 * by `uid`; ...), primitive lists with patchStrategy merge (`metadata.finalizers`,
 * Node `spec.podCIDRs`) take the union, and every other list (notably Node
 * `spec.taints`) is replaced atomically. Honours `$patch: replace|delete`,
 * `$retainKeys`, `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>`.
 */
export function applyStrategicMergePatch(
  target: JsonObject,
  patch: JsonObject,
  kind: StrategicKind,
): JsonObject {
  if (!isObject(patch)) throw new PatchError('a strategic merge patch must be a JSON object', 'decode');
  return new StrategicMerger(kind).mergeMap(clone(target), patch, '') ?? {};
}
