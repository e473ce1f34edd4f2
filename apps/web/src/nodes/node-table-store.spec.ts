import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NodeTableStore } from './node-table-store.js';
import { testNode } from '../../test/support/test-node.js';

const names = (table: NodeTableStore) => table.visibleRows.value.map((r) => r.name);

describe('NodeTableStore', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('shows a snapshot at once, sorted and filtered', () => {
    const table = new NodeTableStore();
    table.replaceAll([testNode('node-b'), testNode('node-a', { ready: 'False' }), testNode('node-c')]);
    expect(names(table)).toEqual(['node-a', 'node-b', 'node-c']);
    expect(table.totalRows).toBe(3);
    table.setSort({ key: 'name', descending: true });
    expect(names(table)).toEqual(['node-c', 'node-b', 'node-a']);
    table.setCriteria({ search: '', quick: new Set(['notReady']) });
    expect(names(table)).toEqual(['node-a']);
    expect(table.totalRows).toBe(3);
  });

  it('coalesces single changes into one refresh per window', () => {
    const table = new NodeTableStore({ refreshMs: 120 });
    table.replaceAll([testNode('node-a')]);
    const version = table.rowsVersion.value;
    table.upsert(testNode('node-b'));
    table.upsert(testNode('node-a', { podCount: 99 }));
    table.remove('node-x');
    expect(table.rowsVersion.value).toBe(version);
    vi.advanceTimersByTime(120);
    expect(table.rowsVersion.value).toBe(version + 1);
    expect(names(table)).toEqual(['node-a', 'node-b']);
    expect(table.row('node-a')?.pods).toBe(99);
    table.remove('node-b');
    vi.advanceTimersByTime(120);
    expect(names(table)).toEqual(['node-a']);
    expect(table.row('node-b')).toBeUndefined();
  });

  it('flashes a changed row from the next refresh until flashMs has passed', () => {
    const table = new NodeTableStore({ refreshMs: 120, flashMs: 1_000 });
    table.replaceAll([testNode('node-a'), testNode('node-b')]);
    table.flash('node-a');
    expect([...table.flashing.value]).toEqual([]);
    vi.advanceTimersByTime(120);
    expect([...table.flashing.value]).toEqual(['node-a']);
    vi.advanceTimersByTime(500);
    table.flash('node-b');
    vi.advanceTimersByTime(500);
    expect([...table.flashing.value]).toEqual(['node-b']);
    vi.advanceTimersByTime(1_000);
    expect([...table.flashing.value]).toEqual([]);
  });

  it('empties the table at once, and keeps the selection until told', () => {
    const table = new NodeTableStore();
    table.replaceAll([testNode('node-a')]);
    table.setSelected(['node-a']);
    table.clear();
    expect(table.totalRows).toBe(0);
    expect(names(table)).toEqual([]);
    expect([...table.selected.value]).toEqual(['node-a']);
    table.setSelected([]);
    expect(table.selected.value.size).toBe(0);
  });
});
