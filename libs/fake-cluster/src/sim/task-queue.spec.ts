import { describe, expect, it } from 'vitest';
import { TaskQueue } from './task-queue.js';

describe('TaskQueue', () => {
  it('pops due tasks by due time, ties in scheduling order, and nothing before it is due', () => {
    const q = new TaskQueue();
    const ran: string[] = [];
    for (const [due, name] of [
      [30, 'c'],
      [10, 'a1'],
      [20, 'b'],
      [10, 'a2'],
      [50, 'late'],
    ] as const) {
      q.schedule(due, () => ran.push(name));
    }
    for (let t = q.popDue(40); t; t = q.popDue(40)) t.run();
    expect(ran).toEqual(['a1', 'a2', 'b', 'c']);
    expect(q.size).toBe(1);
    expect(q.peekDue()).toBe(50);
  });
});
