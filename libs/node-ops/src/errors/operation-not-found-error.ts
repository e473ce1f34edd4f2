/** No operation with this id (never created, or expired from the store). */
export class OperationNotFoundError extends Error {
  override readonly name = 'OperationNotFoundError';

  constructor(readonly operationId: string) {
    super(`operation "${operationId}" does not exist (or has expired)`);
  }
}
