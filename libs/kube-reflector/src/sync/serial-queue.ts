/**
 * Runs async tasks one at a time, in the order they were enqueued. A failing task
 * rejects its own promise and does not stop the queue.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  /** Number of tasks enqueued and not finished. */
  get size(): number {
    return this.pending;
  }

  /** Runs `task` after every task enqueued before it has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.pending += 1;
    const result = this.tail.then(task).finally(() => {
      this.pending -= 1;
    });
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once every task enqueued so far has settled. */
  idle(): Promise<void> {
    return this.tail;
  }
}
