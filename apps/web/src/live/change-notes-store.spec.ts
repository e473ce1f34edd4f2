import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChangeNotesStore } from './change-notes-store.js';

const note = (node: string, text: string) => ({ node, text, kinds: ['labels'] });

describe('ChangeNotesStore', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000 }));
  afterEach(() => vi.useRealTimers());

  it("keeps each node's last changes for its drawer, newest first", () => {
    const notes = new ChangeNotesStore({ recentPerNode: 2 });
    notes.add(note('node-a', 'one'));
    vi.advanceTimersByTime(10);
    notes.add(note('node-a', 'two'));
    notes.add(note('node-b', 'other'));
    vi.advanceTimersByTime(10);
    notes.add(note('node-a', 'three'));
    expect(notes.recentChanges('node-a')).toEqual([
      { at: 1_020, text: 'three' },
      { at: 1_010, text: 'two' },
    ]);
    expect(notes.recentVersion.value).toBe(4);
  });

  it('toasts the changes after the batching window, and forgets everything on clear', () => {
    const notes = new ChangeNotesStore();
    notes.add(note('node-a', 'labels updated on node-a'));
    vi.advanceTimersByTime(400);
    expect(notes.toasts.value.map((t) => t.text)).toEqual(['labels updated on node-a']);
    const [toast] = notes.toasts.value;
    if (toast) notes.dismissToast(toast.id);
    expect(notes.toasts.value).toEqual([]);
    notes.add(note('node-a', 'taints updated on node-a'));
    notes.clear();
    vi.advanceTimersByTime(400);
    expect(notes.toasts.value).toEqual([]);
    expect(notes.recentChanges('node-a')).toEqual([]);
  });
});
