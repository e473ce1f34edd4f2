/**
 * A drain reaches control-plane nodes (`nodes`) and the request did not say
 * `params.includeControlPlane: true`: nothing is done.
 */
export class ControlPlaneNodesError extends Error {
  override readonly name = 'ControlPlaneNodesError';

  constructor(
    readonly cluster: string,
    readonly nodes: readonly string[],
  ) {
    const shown = nodes.slice(0, 10).join(', ') + (nodes.length > 10 ? `, ... (${nodes.length} in all)` : '');
    super(
      `the drain reaches ${nodes.length} control-plane node(s) of cluster "${cluster}" (${shown}): ` +
        'set params.includeControlPlane: true if that is meant, or leave them out',
    );
  }
}
