import { describe, expect, it } from 'vitest';
import { compare, measure, median, percentile, summarize } from './stats.js';

describe('stats', () => {
  it('median of odd and even counts, NaN for none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });

  it('summarizes runs in order with median, min and max', () => {
    expect(summarize('ms', [5, 1, 3])).toEqual({ unit: 'ms', runs: [5, 1, 3], median: 3, min: 1, max: 5 });
    expect(() => summarize('ms', [])).toThrow(/no runs/);
  });

  it('measure discards the warm-up runs', async () => {
    const seen: number[] = [];
    const result = await measure(3, 2, 'n', async (run) => {
      seen.push(run);
      return run < 0 ? 1000 : run;
    });
    expect(seen).toEqual([-1, -2, 0, 1, 2]);
    expect(result.runs).toEqual([0, 1, 2]);
  });

  it('ratio is > 1 when we win, whichever way is better', () => {
    expect(compare('t', 'lower', summarize('ms', [2]), 'b', summarize('ms', [8])).ratio).toBe(4);
    expect(compare('r', 'higher', summarize('rps', [8]), 'b', summarize('rps', [2])).ratio).toBe(4);
  });
});
