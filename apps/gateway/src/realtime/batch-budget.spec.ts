import { describe, expect, it } from 'vitest';
import { BatchBudget } from './batch-budget.js';

interface Key {
  name: string;
}

const keys = (...names: string[]): Key[] => names.map((name) => ({ name }));
const names = (list: Key[]): string[] => list.map((k) => k.name);

describe('BatchBudget', () => {
  it('admits batches while they fit, and the others wait', () => {
    const woken: string[][] = [];
    const budget = new BatchBudget<Key>(100, (w) => woken.push(names(w)));
    const [a, b, c] = keys('a', 'b', 'c') as [Key, Key, Key];
    expect(names(budget.admit([a, b, c], 40))).toEqual(['a', 'b']);
    expect(budget.held).toBe(80);
    expect(budget.waitingCount).toBe(1);
    budget.release(a);
    expect(budget.held).toBe(40);
    expect(woken).toEqual([['c']]);
    expect(names(budget.admit([c], 40))).toEqual(['c']);
    expect(budget.waitingCount).toBe(0);
  });

  it('lets a batch larger than the budget go alone when nothing is held', () => {
    const budget = new BatchBudget<Key>(10, () => undefined);
    const [a, b] = keys('a', 'b') as [Key, Key];
    expect(names(budget.admit([a, b], 1_000))).toEqual(['a']);
    expect(names(budget.admit([b], 1_000))).toEqual([]);
    budget.release(a);
    expect(names(budget.admit([b], 1_000))).toEqual(['b']);
  });

  it('serves the oldest waiter first', () => {
    let t = 0;
    const budget = new BatchBudget<Key>(
      10,
      () => undefined,
      () => t,
    );
    const [a, b, c, d] = keys('a', 'b', 'c', 'd') as [Key, Key, Key, Key];
    budget.admit([a], 10);
    t = 1;
    budget.admit([c], 10);
    t = 2;
    budget.admit([b], 10);
    budget.release(a);
    // d never waited; c waited before b.
    expect(names(budget.admit([d, b, c], 5))).toEqual(['c', 'b']);
  });

  it('wakes the oldest waiter and the others whose batches fit in what a release frees', () => {
    const woken: string[][] = [];
    const budget = new BatchBudget<Key>(100, (w) => woken.push(names(w)));
    const [a, b, c, d, e] = keys('a', 'b', 'c', 'd', 'e') as [Key, Key, Key, Key, Key];
    budget.admit([a, b], 50);
    expect(names(budget.admit([c, d], 30))).toEqual([]);
    expect(names(budget.admit([e], 10))).toEqual([]);
    budget.release(a);
    // 50 free: c (30), not d (30 more), but e (10).
    expect(woken).toEqual([['c', 'e']]);
    expect(names(budget.admit([c, e], 30))).toEqual(['c']);
    budget.release(b);
    // 70 free: d and e.
    expect(woken.at(-1)).toEqual(['d', 'e']);
  });

  it('wakes the oldest waiter even when its batch fits nowhere: it goes alone once nothing is held', () => {
    const woken: string[][] = [];
    const budget = new BatchBudget<Key>(100, (w) => woken.push(names(w)));
    const [a, b, c] = keys('a', 'b', 'c') as [Key, Key, Key];
    budget.admit([a], 60);
    budget.admit([b], 500);
    budget.admit([c], 10);
    expect(budget.waitingCount).toBe(1);
    budget.release(a);
    expect(woken).toEqual([['b']]);
    expect(names(budget.admit([b], 500))).toEqual([]);
    budget.release(c);
    expect(woken).toEqual([['b'], ['b']]);
    expect(names(budget.admit([b], 500))).toEqual(['b']);
  });

  it('forgets a key that is gone: its bytes return and it no longer waits', () => {
    const woken: string[][] = [];
    const budget = new BatchBudget<Key>(10, (w) => woken.push(names(w)));
    const [a, b, c] = keys('a', 'b', 'c') as [Key, Key, Key];
    budget.admit([a, b, c], 10);
    budget.forget(b);
    expect(budget.waitingCount).toBe(1);
    budget.forget(a);
    expect(budget.held).toBe(0);
    expect(woken).toEqual([['c']]);
    budget.release(a);
    expect(budget.held).toBe(0);
  });
});
