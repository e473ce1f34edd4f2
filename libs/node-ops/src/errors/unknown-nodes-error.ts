/** An operation names nodes the cluster does not have (knm's node hash); `nodes` lists them. */
export class UnknownNodesError extends Error {
  override readonly name = 'UnknownNodesError';

  constructor(
    readonly cluster: string,
    readonly nodes: readonly string[],
  ) {
    const shown =
      nodes
        .slice(0, 20)
        .map((n) => `"${n}"`)
        .join(', ') + (nodes.length > 20 ? `, ... (${nodes.length} in all)` : '');
    super(`cluster "${cluster}" has no node ${shown}`);
  }
}
