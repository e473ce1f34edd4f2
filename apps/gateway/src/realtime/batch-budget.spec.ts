import { describe, expect, it } from 'vitest';
import { BatchBudget } from './batch-budget.js';

interface Key {
  name: string;
}
interface Batch {
  id: string;
}

const keys = (...names: string[]): Key[] => names.map((name) => ({ name }));
const names = (list: Key[]): string[] => list.map((k) => k.name);
const batch = (id: string): Batch => ({ id });

describe('BatchBudget', () => {
  it('counts a batch once however many keys hold it, until the last one took it', () => {
    const budget = new BatchBudget<Key, Batch>(100, () => undefined);
    const [a, b, c] = keys('a', 'b', 'c') as [Key, Key, Key];
    const x = batch('x');
    expect(names(budget.admit([a, b, c], x, 40))).toEqual(['a', 'b', 'c']);
    expect(budget.held).toBe(40);
    budget.release(a);
    budget.release(b);
    expect(budget.held).toBe(40);
    budget.release(c);
    expect(budget.held).toBe(0);
  });

  it('admits a new batch while it fits; when it does not, all its keys wait until bytes are freed', () => {
    const woken: string[][] = [];
    const budget = new BatchBudget<Key, Batch>(100, (w) => woken.push(names(w)));
    const [a, b, c, d] = keys('a', 'b', 'c', 'd') as [Key, Key, Key, Key];
    const x = batch('x');
    expect(names(budget.admit([a, d], x, 60))).toEqual(['a', 'd']);
    expect(names(budget.admit([b, c], batch('y'), 50))).toEqual([]);
    expect(budget.waitingCount).toBe(2);
    // More keys may take a batch already held, whatever is free.
    expect(names(budget.admit([b], x, 60))).toEqual(['b']);
    expect(budget.held).toBe(60);
    budget.release(a);
    budget.release(d);
    expect(woken).toEqual([]);
    budget.release(b);
    expect(woken).toEqual([['c']]);
    expect(budget.held).toBe(0);
  });

  it('lets a batch larger than the budget go alone when nothing is held', () => {
    const budget = new BatchBudget<Key, Batch>(10, () => undefined);
    const [a, b] = keys('a', 'b') as [Key, Key];
    expect(names(budget.admit([a], batch('x'), 1_000))).toEqual(['a']);
    const y = batch('y');
    expect(names(budget.admit([b], y, 1_000))).toEqual([]);
    budget.release(a);
    expect(names(budget.admit([b], y, 1_000))).toEqual(['b']);
  });

  it('serves the oldest waiter first', () => {
    let t = 0;
    const budget = new BatchBudget<Key, Batch>(
      10,
      () => undefined,
      () => t,
    );
    const [a, b, c, d] = keys('a', 'b', 'c', 'd') as [Key, Key, Key, Key];
    budget.admit([a], batch('x'), 10);
    t = 1;
    budget.admit([c], batch('y'), 10);
    t = 2;
    budget.admit([b], batch('z'), 10);
    budget.release(a);
    // d never waited; c waited before b.
    expect(names(budget.admit([d, b, c], batch('w'), 5))).toEqual(['c', 'b', 'd']);
  });

  it('wakes the oldest waiter and the others whose batches fit in what a release frees', () => {
    const woken: string[][] = [];
    const budget = new BatchBudget<Key, Batch>(100, (w) => woken.push(names(w)));
    const [a, b, c, d, e] = keys('a', 'b', 'c', 'd', 'e') as [Key, Key, Key, Key, Key];
    budget.admit([a], batch('a'), 50);
    budget.admit([b], batch('b'), 50);
    expect(names(budget.admit([c], batch('c'), 30))).toEqual([]);
    expect(names(budget.admit([d], batch('d'), 30))).toEqual([]);
    expect(names(budget.admit([e], batch('e'), 10))).toEqual([]);
    budget.release(a);
    // 50 free: c (30), not d (30 more), but e (10).
    expect(woken).toEqual([['c', 'e']]);
    expect(names(budget.admit([c], batch('c'), 30))).toEqual(['c']);
    budget.release(b);
    // 70 free: d and e.
    expect(woken.at(-1)).toEqual(['d', 'e']);
  });

  it('wakes the oldest waiter even when its batch fits nowhere: it goes alone once nothing is held', () => {
    const woken: string[][] = [];
    const budget = new BatchBudget<Key, Batch>(100, (w) => woken.push(names(w)));
    const [a, b, c] = keys('a', 'b', 'c') as [Key, Key, Key];
    const big = batch('big');
    budget.admit([a], batch('a'), 60);
    budget.admit([b], big, 500);
    budget.admit([c], batch('c'), 10);
    expect(budget.waitingCount).toBe(1);
    budget.release(a);
    expect(woken).toEqual([['b']]);
    expect(names(budget.admit([b], big, 500))).toEqual([]);
    budget.release(c);
    expect(woken).toEqual([['b'], ['b']]);
    expect(names(budget.admit([b], big, 500))).toEqual(['b']);
  });

  it('forgets a key that is gone: it no longer waits, and the last holder gives the bytes back', () => {
    const woken: string[][] = [];
    const budget = new BatchBudget<Key, Batch>(10, (w) => woken.push(names(w)));
    const [a, b, c] = keys('a', 'b', 'c') as [Key, Key, Key];
    budget.admit([a, b], batch('x'), 10);
    budget.admit([c], batch('y'), 10);
    expect(budget.waitingCount).toBe(1);
    budget.forget(b);
    expect(budget.held).toBe(10);
    budget.forget(c);
    expect(budget.waitingCount).toBe(0);
    budget.admit([c], batch('y'), 10);
    budget.forget(a);
    expect(budget.held).toBe(0);
    expect(woken).toEqual([['c']]);
    budget.release(a);
    expect(budget.held).toBe(0);
  });
});
