import { diffNodeSnapshots, type NodeAspect, type NodeSnapshot } from '@knm/contracts';
import type { ObjectEvent } from './lister-watcher.js';

/**
 * A change to write for one node. Same shape as `NodeChange` of `@knm/node-store`,
 * declared here so this library does not depend on the store.
 */
export type NodeCacheChange =
  | { type: 'node_add'; node: NodeSnapshot }
  | { type: 'node_update'; node: NodeSnapshot; changes: readonly NodeAspect[] }
  | { type: 'node_delete'; name: string; uid: string };

/**
 * name -> {@link NodeSnapshot}: the nodes as last written. Turns watch events and
 * relists into the changes worth writing:
 * - ADDED / MODIFIED of an unknown node -> `node_add`; of a known one -> `node_update`
 *   with the aspects that differ, or nothing when none does (a heartbeat-only update:
 *   counted in {@link NodeCache.suppressed} and not stored, so the cache keeps
 *   matching what was written);
 * - the same name with another uid (deleted and re-created while we were not
 *   looking) -> `node_delete` of the old one, then `node_add`;
 * - DELETED -> `node_delete` (nothing for an unknown node);
 * - `replace(list)` -> the changes that turn the cached set into the list
 *   (deletes for what vanished first, then adds and updates in list order).
 */
export class NodeCache {
  private readonly nodes = new Map<string, NodeSnapshot>();
  private suppressedCount = 0;

  /** Number of updates dropped because nothing that matters changed. */
  get suppressed(): number {
    return this.suppressedCount;
  }

  get size(): number {
    return this.nodes.size;
  }

  get(name: string): NodeSnapshot | undefined {
    return this.nodes.get(name);
  }

  /** Every cached node, in insertion order. */
  list(): NodeSnapshot[] {
    return [...this.nodes.values()];
  }

  /** Applies one watch event; returns the changes to write (empty when nothing matters). */
  apply(event: ObjectEvent<NodeSnapshot>): NodeCacheChange[] {
    const next = event.object;
    if (event.type === 'DELETED') {
      const known = this.nodes.get(next.name);
      if (!known) return [];
      this.nodes.delete(next.name);
      return [{ type: 'node_delete', name: known.name, uid: known.uid }];
    }
    const changes = this.upsert(next);
    if (changes.length === 0 && event.type === 'MODIFIED') this.suppressedCount += 1;
    return changes;
  }

  /** Replaces the cache with a complete list; returns the changes from the old set to the new one. */
  replace(list: readonly NodeSnapshot[]): NodeCacheChange[] {
    const incoming = new Set(list.map((n) => n.name));
    const changes: NodeCacheChange[] = [];
    for (const [name, known] of this.nodes) {
      if (!incoming.has(name)) {
        this.nodes.delete(name);
        changes.push({ type: 'node_delete', name, uid: known.uid });
      }
    }
    for (const node of list) changes.push(...this.upsert(node));
    return changes;
  }

  private upsert(next: NodeSnapshot): NodeCacheChange[] {
    const known = this.nodes.get(next.name);
    if (!known) {
      this.nodes.set(next.name, next);
      return [{ type: 'node_add', node: next }];
    }
    if (known.uid !== next.uid) {
      this.nodes.set(next.name, next);
      return [
        { type: 'node_delete', name: known.name, uid: known.uid },
        { type: 'node_add', node: next },
      ];
    }
    const aspects = diffNodeSnapshots(known, next);
    if (aspects.length === 0) return [];
    this.nodes.set(next.name, next);
    return [{ type: 'node_update', node: next, changes: aspects }];
  }
}
