/** A simulated action due at a point in simulated time. */
export interface Task {
  /** When it is due (ms since the epoch). */
  readonly due: number;
  /** Insertion order: ties on `due` run in the order they were scheduled. */
  readonly seq: number;
  readonly run: () => void;
}

/**
 * A min-heap of tasks ordered by (due, seq). Running tasks strictly in this order,
 * whatever the timer granularity, is what makes the simulation deterministic: the
 * same seed and the same clock readings produce the same sequence of changes.
 */
export class TaskQueue {
  private readonly heap: Task[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `run` at `due`. */
  schedule(due: number, run: () => void): Task {
    const task: Task = { due, seq: this.nextSeq++, run };
    this.heap.push(task);
    this.up(this.heap.length - 1);
    return task;
  }

  /** The earliest due time, or undefined when empty. */
  peekDue(): number | undefined {
    return this.heap[0]?.due;
  }

  /** Removes and returns the earliest task when it is due at or before `now`. */
  popDue(now: number): Task | undefined {
    const top = this.heap[0];
    if (top === undefined || top.due > now) return undefined;
    const last = this.heap.pop() as Task;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  /** Drops every task. */
  clear(): void {
    this.heap.length = 0;
  }

  private less(a: Task, b: Task): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private up(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i] as Task, heap[parent] as Task)) break;
      [heap[i], heap[parent]] = [heap[parent] as Task, heap[i] as Task];
      i = parent;
    }
  }

  private down(i: number): void {
    const heap = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < heap.length && this.less(heap[l] as Task, heap[smallest] as Task)) smallest = l;
      if (r < heap.length && this.less(heap[r] as Task, heap[smallest] as Task)) smallest = r;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest] as Task, heap[i] as Task];
      i = smallest;
    }
  }
}
