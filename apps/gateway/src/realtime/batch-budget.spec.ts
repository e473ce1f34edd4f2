import { describe, expect, it } from 'vitest';
import { BatchBudget, RESERVATION_LAPSE_MS } from './batch-budget.js';

interface Key {
  name: string;
}

const keys = (...names: string[]): Key[] => names.map((name) => ({ name }));
const names = (list: Key[]): string[] => list.map((k) => k.name);

/** A budget of `maxBytes` on a clock the test sets (`clock.t`, in ms), waking no one. */
function clocked(maxBytes: number): { budget: BatchBudget<Key>; clock: { t: number } } {
  const clock = { t: 0 };
  return {
    budget: new BatchBudget<Key>(
      maxBytes,
      () => undefined,
      () => clock.t,
    ),
    clock,
  };
}

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
    const { budget, clock } = clocked(10);
    const [a, b, c, d] = keys('a', 'b', 'c', 'd') as [Key, Key, Key, Key];
    budget.admit([a], 10);
    clock.t = 1;
    budget.admit([c], 10);
    clock.t = 2;
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

  it("reserves the oldest waiter's room: a batch larger than the budget goes alone once the held ones are taken", () => {
    const woken: string[][] = [];
    const budget = new BatchBudget<Key>(100, (w) => woken.push(names(w)));
    const [a, b, c] = keys('a', 'b', 'c') as [Key, Key, Key];
    budget.admit([a], 60);
    expect(names(budget.admit([b], 500))).toEqual([]);
    // c would fit in what is free, but not beside b's 500: it waits behind b.
    expect(names(budget.admit([c], 10))).toEqual([]);
    expect(budget.waitingCount).toBe(2);
    budget.release(a);
    expect(woken).toEqual([['b']]);
    expect(names(budget.admit([c], 10))).toEqual([]);
    expect(names(budget.admit([b], 500))).toEqual(['b']);
    expect(names(budget.admit([c], 10))).toEqual([]);
    budget.release(b);
    expect(woken.at(-1)).toEqual(['c']);
    expect(names(budget.admit([c], 10))).toEqual(['c']);
  });

  it('never starves a large batch while small ones keep coming', () => {
    const { budget, clock } = clocked(100);
    const far = { name: 'far' };
    const holders: Key[] = [];
    // Sockets close to the head keep taking 30-byte batches, one taken and one new
    // at each round; the socket far behind is owed 80.
    for (let i = 0; i < 3; i += 1) holders.push(...budget.admit(keys(`h${i}`), 30));
    let farAdmittedAt: number | undefined;
    for (let round = 0; round < 50 && farAdmittedAt === undefined; round += 1) {
      clock.t += 100;
      if (budget.admit([far], 80).length > 0) farAdmittedAt = round;
      const taken = holders.shift();
      if (taken) budget.release(taken);
      holders.push(...budget.admit(keys(`n${round}`), 30));
    }
    // Without the reservation every round refills what a release frees (90 held, never
    // room for 80): the far socket would wait forever.
    expect(farAdmittedAt).toBeDefined();
    expect(farAdmittedAt).toBeLessThanOrEqual(3);
  });

  it('drops the reservation of a waiter that stopped asking', () => {
    const { budget, clock } = clocked(100);
    const [a, b, c] = keys('a', 'b', 'c') as [Key, Key, Key];
    budget.admit([a], 60);
    budget.admit([b], 90);
    expect(budget.head()).toMatchObject({ key: b, waitedMs: 0, bytes: 90 });
    clock.t = 1_000;
    expect(budget.waiter(b)).toEqual({ waitedMs: 1_000, bytes: 90, place: 0 });
    expect(names(budget.admit([c], 30))).toEqual([]);
    // b is not refused again (it left, or wants nothing now) for longer than the lapse.
    clock.t += RESERVATION_LAPSE_MS + 1;
    expect(names(budget.admit([c], 30))).toEqual(['c']);
    expect(budget.waitingCount).toBe(0);
    expect(budget.head()).toBeUndefined();
    // b, and c's own refusal of before (c asks anew and goes).
    expect(budget.lapses).toBe(2);
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
