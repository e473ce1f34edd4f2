/**
 * A node query that cannot be run as written (bad selector, bad taint filter, a
 * continue token that does not belong to this query). Maps to 400; `details` names
 * each offending parameter.
 */
export class InvalidQueryError extends Error {
  override readonly name = 'InvalidQueryError';

  constructor(readonly details: readonly { path: string; message: string }[]) {
    super(details.map((d) => `${d.path}: ${d.message}`).join('; '));
  }
}

/**
 * A continue token made from a state that no longer exists (the cluster was rebuilt
 * by a new leader or a relist, or Redis lost its data). Maps to 410 Gone: start the
 * listing again without `continue`, as with an expired Kubernetes continue token.
 */
export class StaleContinueError extends Error {
  override readonly name = 'StaleContinueError';
}
