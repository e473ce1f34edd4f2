import { describe, expect, it } from 'vitest';
import { ToastBatcher, type Toast, type ToastTimers } from './toast-batcher.js';

/** A manual clock: timers fire only when `advance` passes their time. */
class ManualTimers implements ToastTimers {
  now = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const next = [...this.pending.entries()]
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.pending.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = until;
  }
}

const note = (node: string, kind = 'labels') => ({ node, text: `${kind} updated on ${node}`, kinds: [kind] });

function setup() {
  const timers = new ManualTimers();
  let seen: readonly Toast[] = [];
  const batcher = new ToastBatcher((t) => (seen = t), { timers, windowMs: 400, ttlMs: 6_000, maxVisible: 4 });
  return { timers, batcher, texts: () => seen.map((t) => t.text) };
}

describe('ToastBatcher', () => {
  it('shows a few changes one toast each, after the window, and expires them', () => {
    const { timers, batcher, texts } = setup();
    batcher.push(note('node-12'));
    batcher.push(note('node-3', 'taints'));
    expect(texts()).toEqual([]);
    timers.advance(400);
    expect(texts()).toEqual(['labels updated on node-12', 'taints updated on node-3']);
    timers.advance(6_000);
    expect(texts()).toEqual([]);
  });

  it('turns many changes at once into ONE summary toast, and folds the next burst into it', () => {
    const { timers, batcher, texts } = setup();
    for (let i = 0; i < 50; i++) batcher.push(note(`node-${i % 20}`, i % 5 === 0 ? 'status' : 'labels'));
    timers.advance(400);
    expect(texts()).toEqual(['50 changes on 20 nodes: labels 40, status 10']);
    timers.advance(3_000);
    for (let i = 0; i < 10; i++) batcher.push(note(`node-${30 + i}`));
    timers.advance(400);
    expect(texts()).toEqual(['60 changes on 30 nodes: labels 50, status 10']);
    // The fold restarted its time: still there 5 s after the second burst.
    timers.advance(5_000);
    expect(texts()).toHaveLength(1);
    timers.advance(1_000);
    expect(texts()).toEqual([]);
  });

  it('never shows more than maxVisible toasts', () => {
    const { timers, batcher, texts } = setup();
    for (let round = 0; round < 5; round++) {
      batcher.push(note(`node-${round}`));
      timers.advance(400);
    }
    expect(texts()).toEqual([1, 2, 3, 4].map((i) => `labels updated on node-${i}`));
  });

  it('dismisses on request and clears everything', () => {
    const { timers, batcher, texts } = setup();
    batcher.push(note('a'));
    batcher.push(note('b'));
    timers.advance(400);
    const first = batcher.toasts[0];
    if (first) batcher.dismiss(first.id);
    expect(texts()).toEqual(['labels updated on b']);
    batcher.push(note('c'));
    batcher.clear();
    timers.advance(1_000);
    expect(texts()).toEqual([]);
  });
});
