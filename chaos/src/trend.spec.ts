import { describe, expect, it } from 'vitest';
import { analyseTrend, leastSquaresSlope, type MemorySample } from './trend.js';

const MB = 1024 * 1024;

/** `n` samples one second apart: bytes = f(i). */
function series(n: number, f: (i: number) => number): MemorySample[] {
  return Array.from({ length: n }, (_, i) => ({ t: i * 1000, bytes: f(i) }));
}

describe('leastSquaresSlope', () => {
  it('is exact on a line and 0 on a constant or a single point', () => {
    expect(leastSquaresSlope([0, 1, 2, 3].map((x) => ({ x, y: 5 + 2 * x })))).toBeCloseTo(2, 12);
    expect(leastSquaresSlope([0, 1, 2].map((x) => ({ x, y: 7 })))).toBe(0);
    expect(leastSquaresSlope([{ x: 1, y: 1 }])).toBe(0);
  });
});

describe('analyseTrend', () => {
  it('a flat series with GC saw-teeth is no growth', () => {
    const v = analyseTrend(series(120, (i) => 200 * MB + (i % 10) * 3 * MB));
    expect(v.growing).toBe(false);
    expect(Math.abs(v.riseBytes)).toBeLessThan(8 * MB);
  });

  it('a steady climb of 1 MB/s over the second half is growth', () => {
    const v = analyseTrend(series(120, (i) => 100 * MB + i * MB));
    expect(v.growing).toBe(true);
    expect(v.slopeBytesPerMin / MB).toBeCloseTo(60, 6);
    expect(v.samples).toBe(60);
  });

  it('growth only during warm-up (first half) is ignored', () => {
    expect(analyseTrend(series(120, (i) => (i < 60 ? 50 * MB + i * 2 * MB : 170 * MB))).growing).toBe(false);
  });

  it('a rise above 10% of the mean but below the absolute floor is no growth (small processes)', () => {
    const v = analyseTrend(series(100, (i) => 10 * MB + i * 0.1 * MB));
    expect(v.riseBytes / v.meanBytes).toBeGreaterThan(0.1);
    expect(v.growing).toBe(false);
    expect(
      analyseTrend(
        series(100, (i) => 10 * MB + i * 0.1 * MB),
        { maxRiseBytes: MB },
      ).growing,
    ).toBe(true);
  });

  it('a rise above the floor but below 10% of a large mean is no growth', () => {
    expect(analyseTrend(series(100, (i) => 1000 * MB + i * 0.5 * MB)).growing).toBe(false);
  });

  it('an empty series is no growth and says so', () => {
    expect(analyseTrend([])).toMatchObject({ samples: 0, growing: false });
  });
});
