import { describe, expect, it } from 'vitest';
import { toNodeRow, type NodeRow } from './node-row.js';
import { OrderedRows } from './ordered-rows.js';
import type { NodeSort } from './node-filter.js';
import { testNode } from '../../test/support/test-node.js';

const row = (name: string, podCount: number): NodeRow => toNodeRow(testNode(name, { podCount }));
const names = (ordered: OrderedRows): string[] => ordered.rows.map((r) => r.name);

/** The same rows sorted from scratch: what every incremental change must equal. */
function sortedFromScratch(rows: Iterable<NodeRow>, sort: NodeSort): string[] {
  const fresh = new OrderedRows(sort);
  fresh.reset(rows);
  return names(fresh);
}

describe('OrderedRows', () => {
  it('sorts by value, ties by name ascending in either direction', () => {
    const ordered = new OrderedRows({ key: 'pods', descending: true });
    ordered.reset([row('node-c', 5), row('node-a', 50), row('node-b', 5), row('node-d', 20)]);
    expect(names(ordered)).toEqual(['node-a', 'node-d', 'node-b', 'node-c']);
    ordered.resort({ key: 'pods', descending: false });
    expect(names(ordered)).toEqual(['node-b', 'node-c', 'node-d', 'node-a']);
  });

  it('moves a changed row into place and ends where a full sort would, over many changes', () => {
    const sort: NodeSort = { key: 'pods', descending: true };
    const current = new Map<string, NodeRow>();
    for (let i = 0; i < 200; i++) current.set(`node-${i}`, row(`node-${i}`, (i * 37) % 110));
    const ordered = new OrderedRows(sort);
    ordered.reset(current.values());
    // A deterministic walk of updates, removals and additions, as live envelopes bring them.
    for (let step = 0; step < 500; step++) {
      const name = `node-${(step * 53) % 230}`;
      const before = current.get(name);
      if (before) ordered.remove(before);
      if (step % 7 === 0) {
        current.delete(name);
      } else {
        const next = row(name, (step * 13) % 110);
        current.set(name, next);
        ordered.insert(next);
      }
    }
    expect(names(ordered)).toEqual(sortedFromScratch(current.values(), sort));
    expect(ordered.rows).toHaveLength(current.size);
  });

  it('ignores the removal of a row it does not hold (an older copy of a node)', () => {
    const ordered = new OrderedRows({ key: 'name', descending: false });
    const held = row('node-a', 1);
    ordered.reset([held, row('node-b', 1)]);
    ordered.remove(row('node-a', 1));
    expect(names(ordered)).toEqual(['node-a', 'node-b']);
    ordered.remove(held);
    expect(names(ordered)).toEqual(['node-b']);
  });
});
