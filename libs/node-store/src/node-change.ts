import type { NodeAspect, NodeSnapshot } from '@knm/contracts';

/**
 * One change of one node, as the watcher hands it to `NodeStoreWriter.applyNodeChanges`.
 * Each becomes one envelope of the same type. `node_update.changes` must be non-empty
 * (updates with nothing that matters are dropped by the watcher, never written).
 */
export type NodeChange =
  | { type: 'node_add'; node: NodeSnapshot }
  | { type: 'node_update'; node: NodeSnapshot; changes: readonly NodeAspect[] }
  | { type: 'node_delete'; name: string; uid: string };
