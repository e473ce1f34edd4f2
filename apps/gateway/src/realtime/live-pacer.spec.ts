import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toClusterName, type Envelope } from '@knm/contracts';
import { LivePacer } from './live-pacer.js';

const cluster = toClusterName('dev');

function counts(seq: number): Envelope {
  return {
    type: 'pod_counts',
    cluster,
    seq,
    timestamp: '2026-12-02T00:00:00Z',
    data: { counts: { n: seq } },
  };
}

/** A pacer on the fake clock and the seqs of every message it sent, one array per message. */
function pacer(ratePerSecond: number, burst: number): { pacer: LivePacer; sent: number[][] } {
  const sent: number[][] = [];
  const p = new LivePacer(
    { ratePerSecond, burst },
    (run) => sent.push(run.map((e) => e.seq)),
    () => Date.now(),
  );
  return { pacer: p, sent };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('LivePacer', () => {
  it('sends every envelope on its own, at once, when the rate is 0', () => {
    const { pacer: p, sent } = pacer(0, 0);
    for (let seq = 1; seq <= 100; seq += 1) p.push(counts(seq));
    expect(sent).toHaveLength(100);
    expect(sent.every((run) => run.length === 1)).toBe(true);
  });

  it('sends each envelope on its own while within the burst and the rate', () => {
    const { pacer: p, sent } = pacer(10, 5);
    for (let seq = 1; seq <= 5; seq += 1) p.push(counts(seq));
    // One every 100 ms is exactly the rate: each goes at once.
    for (let seq = 6; seq <= 15; seq += 1) {
      vi.advanceTimersByTime(100);
      p.push(counts(seq));
    }
    expect(sent).toEqual(Array.from({ length: 15 }, (_, i) => [i + 1]));
  });

  it('past the burst, holds what arrives until the next token and sends it as one run, in order', () => {
    const { pacer: p, sent } = pacer(10, 2);
    for (let seq = 1; seq <= 7; seq += 1) p.push(counts(seq));
    expect(sent).toEqual([[1], [2]]);
    vi.advanceTimersByTime(99);
    expect(sent).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([[1], [2], [3, 4, 5, 6, 7]]);
    // The bucket is empty again: the next envelope waits a whole interval.
    p.push(counts(8));
    p.push(counts(9));
    expect(sent).toHaveLength(3);
    vi.advanceTimersByTime(100);
    expect(sent[3]).toEqual([8, 9]);
  });

  it('keeps a sustained high rate to about `ratePerSecond` messages a second, losing nothing', () => {
    const { pacer: p, sent } = pacer(20, 40);
    let seq = 0;
    // 200 envelopes a second for 10 s.
    for (let ms = 0; ms < 10_000; ms += 5) {
      p.push(counts(++seq));
      vi.advanceTimersByTime(5);
    }
    vi.advanceTimersByTime(1_000);
    expect(sent.flat()).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
    expect(sent.length).toBeGreaterThanOrEqual(200);
    expect(sent.length).toBeLessThanOrEqual(40 + 20 * 10 + 1);
  });

  it('sends the waiting run first when an envelope does not follow it (pub/sub lost some)', () => {
    const { pacer: p, sent } = pacer(10, 1);
    p.push(counts(1));
    p.push(counts(2));
    p.push(counts(3));
    p.push(counts(7));
    expect(sent).toEqual([[1], [2, 3]]);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([[1], [2, 3], [7]]);
  });

  it('flush sends the waiting run now; close drops it', () => {
    const { pacer: p, sent } = pacer(10, 1);
    p.push(counts(1));
    p.push(counts(2));
    p.flush();
    expect(sent).toEqual([[1], [2]]);
    p.push(counts(3));
    p.close();
    vi.advanceTimersByTime(1_000);
    expect(sent).toEqual([[1], [2]]);
  });
});
