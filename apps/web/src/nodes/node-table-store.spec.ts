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

  it('keeps the sort order right as live changes move rows, applying only the last change of a node', () => {
    const table = new NodeTableStore({ refreshMs: 120 });
    table.replaceAll(['a', 'b', 'c', 'd'].map((n, i) => testNode(`node-${n}`, { podCount: 10 * (i + 1) })));
    table.setSort({ key: 'pods', descending: true });
    expect(names(table)).toEqual(['node-d', 'node-c', 'node-b', 'node-a']);
    table.upsert(testNode('node-a', { podCount: 100 }));
    table.upsert(testNode('node-a', { podCount: 35 }));
    table.upsert(testNode('node-e', { podCount: 1 }));
    table.remove('node-c');
    vi.advanceTimersByTime(120);
    expect(names(table)).toEqual(['node-d', 'node-a', 'node-b', 'node-e']);
    // Rows changed by something else than the node (pod counts): read when the refresh applies them.
    let pods = 0;
    table.changed(['node-e', 'node-gone'], (name) =>
      name === 'node-e' ? testNode('node-e', { podCount: pods }) : undefined,
    );
    pods = 99;
    vi.advanceTimersByTime(120);
    expect(names(table)).toEqual(['node-e', 'node-d', 'node-a', 'node-b']);
    expect(table.row('node-e')?.pods).toBe(99);
  });

  it('shows a first page with the cluster total until the whole cluster replaces it', async () => {
    const table = new NodeTableStore({ refreshMs: 120, rowsPerTask: 2 });
    table.showFirstPage([testNode('node-a'), testNode('node-b')], 5);
    expect(names(table)).toEqual(['node-a', 'node-b']);
    expect(table.totalRows).toBe(5);
    expect(table.expectedRows.value).toBe(5);
    const all = ['node-a', 'node-b', 'node-c', 'node-d', 'node-e'];
    const loaded = table.load(all, (name) => testNode(name));
    // Built a slice per task: the first page stays until the last slice.
    expect(names(table)).toEqual(['node-a', 'node-b']);
    // A change arriving while the rows are built is applied on top of them.
    table.upsert(testNode('node-f'));
    await vi.runAllTimersAsync();
    await loaded;
    expect(names(table)).toEqual([...all, 'node-f']);
    expect(table.expectedRows.value).toBeUndefined();
    expect(table.totalRows).toBe(6);
  });

  it('keeps a change to a row built in an earlier slice: queued until the last slice, then applied on top', async () => {
    const table = new NodeTableStore({ refreshMs: 0, rowsPerTask: 2 });
    table.showFirstPage([testNode('node-a')], 5);
    const view = new Map(['node-a', 'node-b', 'node-c', 'node-d', 'node-e'].map((n) => [n, testNode(n)]));
    const loaded = table.load([...view.keys()], (name) => view.get(name));
    // node-a's row is built (first slice); its change lands before the last slice.
    const changed = testNode('node-a', { podCount: 50 });
    view.set('node-a', changed);
    table.upsert(changed);
    table.remove('node-e');
    view.delete('node-e');
    await vi.runAllTimersAsync();
    await loaded;
    expect(names(table)).toEqual(['node-a', 'node-b', 'node-c', 'node-d']);
    expect(table.row('node-a')?.pods).toBe(50);
  });

  it('stops building a snapshot when the table is emptied (a cluster switch)', async () => {
    const table = new NodeTableStore({ rowsPerTask: 1 });
    const loaded = table.load(['node-a', 'node-b', 'node-c'], (name) => testNode(name));
    table.clear();
    await vi.runAllTimersAsync();
    await loaded;
    expect(table.totalRows).toBe(0);
  });

  it('rebuilds at most rowsPerTask rows per task when every row changes (a usage poll)', () => {
    const table = new NodeTableStore({ refreshMs: 120, rowsPerTask: 2 });
    const all = ['node-a', 'node-b', 'node-c', 'node-d', 'node-e'];
    table.replaceAll(all.map((n) => testNode(n)));
    const built: string[] = [];
    table.changed(all, (name) => {
      built.push(name);
      return testNode(name, { podCount: 1 });
    });
    vi.advanceTimersByTime(120);
    expect(built).toEqual(['node-a', 'node-b']);
    vi.advanceTimersToNextTimer();
    expect(built).toHaveLength(4);
    vi.advanceTimersToNextTimer();
    expect(built).toEqual(all);
    expect(table.visibleRows.value.every((r) => r.pods === 1)).toBe(true);
  });
});
