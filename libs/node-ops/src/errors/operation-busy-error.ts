/**
 * Another runner is still working on some of the operation's nodes (`nodes`): this
 * run cannot finish the operation yet. The job fails this attempt and BullMQ
 * retries it with backoff; by then the other runner has finished the operation (or
 * died, and the retry claims its `running` nodes and runs them again).
 */
export class OperationBusyError extends Error {
  override readonly name = 'OperationBusyError';

  constructor(
    readonly operationId: string,
    readonly nodes: readonly string[],
  ) {
    super(
      `operation "${operationId}" still has ${nodes.length} node(s) in progress elsewhere: ${nodes.slice(0, 10).join(', ')}`,
    );
  }
}
