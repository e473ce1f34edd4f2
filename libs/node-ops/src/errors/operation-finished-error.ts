/** A cancel asked of an operation that has already finished (409): there is nothing to stop. */
export class OperationFinishedError extends Error {
  override readonly name = 'OperationFinishedError';

  constructor(
    readonly operationId: string,
    readonly state: string,
  ) {
    super(`operation "${operationId}" has already finished (${state}): there is nothing to cancel`);
  }
}
