/**
 * A node's step stopped because its operation was cancelled (a drain between eviction
 * rounds). The message says where the node was left; the runner records it as the
 * node's `cancelled` result.
 */
export class OperationCancelledError extends Error {
  override readonly name = 'OperationCancelledError';
}
