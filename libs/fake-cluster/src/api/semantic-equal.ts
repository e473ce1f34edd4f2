import type { JsonValue } from './kube-object.js';

// RFC 3339 date-times as clients write metav1.Time (`Z` or an offset, optional fraction).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function sameInstant(a: string, b: string): boolean {
  if (!DATE_TIME.test(a) || !DATE_TIME.test(b)) return false;
  // metav1.Time keeps whole seconds: clients that add a fraction or an offset mean the same time.
  return Math.floor(Date.parse(a) / 1000) === Math.floor(Date.parse(b) / 1000);
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether two objects are the same once decoded, as the API server sees them when it
 * decides an update changes nothing (it compares the re-encoded bytes of the decoded
 * objects): key order does not matter, a `null` field is an absent one, and
 * timestamps are equal when they name the same second however they are written
 * (`2026-01-02T03:04:05Z` and `2026-01-02T03:04:05+00:00`, what the Python client sends).
 */
export function semanticallyEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a === 'string' && typeof b === 'string') return sameInstant(a, b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => semanticallyEqual(item, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (!semanticallyEqual(a[key], b[key])) return false;
  return true;
}
