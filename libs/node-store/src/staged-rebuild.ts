import type { NodeSnapshot } from '@knm/contracts';

/**
 * Nodes staged ahead of a rebuild (`NodeStoreWriter.stageRebuild`), so that the rebuild
 * writes only what changed since: the staging keys' suffix and the node snapshots
 * staged under it, by name (compared by identity: a node cache replaces a snapshot
 * whenever it changes). Usable by one rebuild of the writer that made it; its keys are
 * invisible to readers and expire on their own, so a staging that is never used (a
 * crash, a lost lease, a reconcile that diffed instead) leaves nothing visible.
 */
export class StagedRebuild {
  /** Set once a rebuild took it (its keys were renamed or deleted then). */
  used = false;

  constructor(
    /** Appended to the live keys' names: same slot, distinct keys. */
    readonly suffix: string,
    /** The writer's epoch when it was staged: only that writer may use it. */
    readonly epoch: number,
    readonly nodes: ReadonlyMap<string, NodeSnapshot>,
  ) {}

  /** How many nodes are staged. */
  get size(): number {
    return this.nodes.size;
  }
}
