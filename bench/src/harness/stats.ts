import type { Comparison, Measurement } from './types.js';

/** The median of `values` (NaN for none): the middle one, or the mean of the two middle ones. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The `p`th percentile (0..100) of `values` by the nearest-rank method (the value
 * below which `p`% of the samples lie, always one of the samples); NaN for none.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** Rounds to `digits` significant decimals while keeping integers as they are (for readable JSON). */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** A {@link Measurement} of the given runs (in run order). */
export function summarize(unit: string, runs: readonly number[]): Measurement {
  if (runs.length === 0) throw new Error(`no runs to summarize (${unit})`);
  return {
    unit,
    runs: runs.map((r) => round(r)),
    median: round(median(runs)),
    min: round(Math.min(...runs)),
    max: round(Math.max(...runs)),
  };
}

/**
 * Runs `fn` `warmup` times unmeasured, then `runs` times, and summarizes what each
 * measured call returned (a duration it timed itself, a byte count, a rate).
 * Calls are sequential: a run never overlaps another.
 */
export async function measure(
  runs: number,
  warmup: number,
  unit: string,
  fn: (run: number) => Promise<number>,
): Promise<Measurement> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const values: number[] = [];
  for (let i = 0; i < runs; i++) values.push(await fn(i));
  return summarize(unit, values);
}

/** Times one call of `fn` in milliseconds (high-resolution clock). */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/**
 * Ours vs a baseline measured in the same run, with its ratio: baseline/ours when
 * lower is better, ours/baseline when higher is better (> 1: we win).
 */
export function compare(
  metric: string,
  better: Comparison['better'],
  ours: Measurement,
  baselineName: string,
  baseline: Measurement,
): Comparison {
  if (ours.unit !== baseline.unit)
    throw new Error(`${metric}: ours is in ${ours.unit} but the baseline in ${baseline.unit}`);
  const ratio = better === 'lower' ? baseline.median / ours.median : ours.median / baseline.median;
  return { metric, better, ours, baselineName, baseline, ratio: round(ratio, 4) };
}
