/**
 * Some of an operation's nodes are held by another operation that has not finished
 * (`holder`): one operation per node at a time, so the new one is refused (409)
 * rather than queued behind it (a queued drain behind a stuck one would wait for an
 * unknown time, and the caller can cancel the holder or retry).
 */
export class NodesBusyError extends Error {
  override readonly name = 'NodesBusyError';

  constructor(
    readonly cluster: string,
    /** The operation holding the nodes. */
    readonly holder: string,
    /** The requested nodes it holds. */
    readonly nodes: readonly string[],
  ) {
    const shown = nodes.slice(0, 10).join(', ') + (nodes.length > 10 ? `, ... (${nodes.length} in all)` : '');
    super(
      `node(s) ${shown} of cluster "${cluster}" are held by operation "${holder}", which has not finished: ` +
        'wait for it, or cancel it (POST /api/v1/operations/<id>/cancel)',
    );
  }
}
