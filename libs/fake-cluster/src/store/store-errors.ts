import type { StoredKind } from '../api/kube-object.js';

/**
 * Thrown by the store when an object it was asked to change or read does not exist.
 * The HTTP layer turns it into a 404 NotFound Status.
 */
export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  constructor(
    readonly kind: StoredKind,
    readonly key: string,
  ) {
    super(`${kind} ${key} not found`);
  }
}

/** Thrown by the store on a create whose key is taken (409 AlreadyExists). */
export class ObjectExistsError extends Error {
  override readonly name = 'ObjectExistsError';
  constructor(
    readonly kind: StoredKind,
    readonly key: string,
  ) {
    super(`${kind} ${key} already exists`);
  }
}

/**
 * Thrown by the store on an update that named a resourceVersion other than the
 * stored one (optimistic concurrency; 409 Conflict).
 */
export class ResourceVersionConflictError extends Error {
  override readonly name = 'ResourceVersionConflictError';
  constructor(
    readonly kind: StoredKind,
    readonly key: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${kind} ${key}: resourceVersion ${expected} is not the current ${actual}`);
  }
}
