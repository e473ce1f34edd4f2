import { describe, expect, it } from 'vitest';
import { NextReads } from './next-reads.js';

/** A read whose answers the test gives: each call is recorded and waits for `answer`. */
function controlledRead() {
  const calls: { key: string; answer: (value: number) => void; fail: (err: Error) => void }[] = [];
  const read = (key: string) =>
    new Promise<number>((resolve, reject) => calls.push({ key, answer: resolve, fail: reject }));
  return { calls, read };
}

/** Resolves once the event loop has run its current turn's immediates. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('NextReads', () => {
  it('one read per key for the requests of one turn, sent after all of them arrived', async () => {
    const { calls, read } = controlledRead();
    const reads = new NextReads(read);
    const a = [reads.get('a'), reads.get('a'), reads.get('a')];
    const b = reads.get('b');
    expect(calls).toHaveLength(0);
    await nextTurn();
    expect(calls.map((c) => c.key)).toEqual(['a', 'b']);
    calls[0]?.answer(1);
    calls[1]?.answer(2);
    expect(await Promise.all(a)).toEqual([1, 1, 1]);
    expect(await b).toBe(2);
  });

  it('never joins a read in flight, nor waits for it: a later request gets a read of its own at once', async () => {
    const { calls, read } = controlledRead();
    const reads = new NextReads(read);
    const first = reads.get('a');
    await nextTurn();
    const second = reads.get('a');
    await nextTurn();
    expect(calls).toHaveLength(2);
    calls[1]?.answer(2);
    expect(await second).toBe(2);
    calls[0]?.answer(1);
    expect(await first).toBe(1);
  });

  it('keeps at most maxInFlight reads of a key outstanding; the next is sent when one answers', async () => {
    const { calls, read } = controlledRead();
    const reads = new NextReads(read, 2);
    const answers: Promise<number>[] = [];
    for (let turn = 0; turn < 3; turn++) {
      answers.push(reads.get('a'));
      await nextTurn();
    }
    answers.push(reads.get('a'));
    await nextTurn();
    expect(calls).toHaveLength(2);
    calls[0]?.answer(1);
    await answers[0];
    await nextTurn();
    expect(calls).toHaveLength(3);
    // The held-back requests (two turns of them) share the read sent then.
    calls[1]?.answer(2);
    calls[2]?.answer(3);
    expect(await Promise.all(answers)).toEqual([1, 2, 3, 3]);
  });

  it('a failed read fails its requests only; the next request reads again', async () => {
    const { calls, read } = controlledRead();
    const reads = new NextReads(read);
    const failing = reads.get('a');
    await nextTurn();
    calls[0]?.fail(new Error('redis down'));
    await expect(failing).rejects.toThrow('redis down');
    const next = reads.get('a');
    await nextTurn();
    calls[1]?.answer(5);
    expect(await next).toBe(5);
  });

  it('the reads of every NextReads due in a turn are issued in one synchronous run (one ioredis pipeline)', async () => {
    const order: string[] = [];
    const tracing = (name: string) => (key: string) => {
      order.push(`${name}:${key}`);
      process.nextTick(() => order.push(`tick after ${name}`));
      return Promise.resolve(0);
    };
    const peeks = new NextReads(tracing('peek'));
    const positions = new NextReads(tracing('position'));
    await Promise.all([peeks.get('10.0.0.1'), positions.get('dev')]);
    expect(order.slice(0, 2)).toEqual(['peek:10.0.0.1', 'position:dev']);
  });
});
