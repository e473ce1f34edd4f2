/** One memory sample of one process. */
export interface MemorySample {
  /** Milliseconds since the soak started. */
  t: number;
  bytes: number;
}

/** The verdict on one process's memory series. */
export interface TrendVerdict {
  samples: number;
  /** Mean over the analysed (second) half, bytes. */
  meanBytes: number;
  /** Least-squares slope over the analysed half, bytes per minute. */
  slopeBytesPerMin: number;
  /** slope x duration of the analysed half: how much the fitted line rose, bytes. */
  riseBytes: number;
  /** True when the series shows growth by the rule of {@link analyseTrend}. */
  growing: boolean;
}

/** Options of {@link analyseTrend}. */
export interface TrendRule {
  /** A rise below this fraction of the mean is no growth. Default 0.1. */
  maxRiseFraction?: number;
  /** A rise below this many bytes is no growth whatever the mean. Default 8 MiB. */
  maxRiseBytes?: number;
}

/** Least-squares slope of y over x (0 for fewer than two distinct x). */
export function leastSquaresSlope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Whether a memory series grows. The first half is warm-up and ignored; over the
 * second half a least-squares line is fitted, and its rise (slope x that half's
 * duration) is growth only when it is BOTH at least `maxRiseFraction` of the mean
 * AND at least `maxRiseBytes`: a garbage-collected heap saws up and down, and a
 * small process's few megabytes of JIT and buffers are not a leak.
 */
export function analyseTrend(series: readonly MemorySample[], rule: TrendRule = {}): TrendVerdict {
  const maxRiseFraction = rule.maxRiseFraction ?? 0.1;
  const maxRiseBytes = rule.maxRiseBytes ?? 8 * 1024 * 1024;
  const sorted = [...series].sort((a, b) => a.t - b.t);
  const half = sorted.slice(Math.floor(sorted.length / 2));
  if (half.length === 0)
    return { samples: 0, meanBytes: 0, slopeBytesPerMin: 0, riseBytes: 0, growing: false };
  const meanBytes = half.reduce((s, p) => s + p.bytes, 0) / half.length;
  const slopePerMs = leastSquaresSlope(half.map((p) => ({ x: p.t, y: p.bytes })));
  const durationMs = (half.at(-1)?.t ?? 0) - (half[0]?.t ?? 0);
  const riseBytes = slopePerMs * durationMs;
  return {
    samples: half.length,
    meanBytes,
    slopeBytesPerMin: slopePerMs * 60_000,
    riseBytes,
    growing: riseBytes >= maxRiseFraction * meanBytes && riseBytes >= maxRiseBytes,
  };
}
