/**
 * The contract between `npm run bench` (bench/src/main.ts) and its scenarios.
 *
 * A scenario measures one thing of ours side by side with its baseline in the same
 * run (after a warm-up, several runs), and returns figures; the harness stamps the
 * machine facts, writes `bench/results/<date>-<scenario>.json` and renders every
 * scenario's figures into `bench/results/REPORT.md` with SVG charts.
 */

/** Facts about the machine a result was measured on; in every result file. */
export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  platform: string;
  release: string;
}

/** One figure measured over several runs (after the warm-up, which is not in `runs`). */
export interface Measurement {
  unit: string;
  runs: number[];
  median: number;
  min: number;
  max: number;
}

/**
 * Ours vs a baseline, measured in the same run. `ratio` is how many times better
 * ours is: baseline/ours when lower is better, ours/baseline when higher is better
 * (so > 1 means we win, < 1 means we lose, and the report says which).
 */
export interface Comparison {
  metric: string;
  better: 'lower' | 'higher';
  ours: Measurement;
  baselineName: string;
  baseline: Measurement;
  ratio: number;
}

/** A figure with no baseline of its own (a latency percentile at a given load, say). */
export interface Figure {
  metric: string;
  /** Conditions the figure was measured under, shown as table columns (`clients: 1000`). */
  labels: Record<string, string | number>;
  value: Measurement;
}

/** A chart the report draws as SVG: one line (or bar group) per series. */
export interface ChartSpec {
  id: string;
  title: string;
  kind: 'bar' | 'line';
  xLabel: string;
  yLabel: string;
  series: { name: string; points: { x: string | number; y: number }[] }[];
}

export interface ScenarioResult {
  scenario: string;
  title: string;
  /** What was run: scale, runs, rates, client counts. */
  params: Record<string, string | number | boolean>;
  comparisons: Comparison[];
  figures: Figure[];
  charts: ChartSpec[];
  /** Caveats and how to read the numbers; rendered under the scenario's tables. */
  notes: string[];
}

/** What the harness gives every scenario. */
export interface BenchContext {
  quick: boolean;
  /** 5,000 / 150,000 (quick: 500 / 15,000). */
  scale: { nodes: number; pods: number };
  /** Measured runs per figure (after `warmup` unmeasured ones). */
  runs: number;
  warmup: number;
  redisUrl: string;
  /** Repository root (for spawning `apps/*\/src/main.ts` from source). */
  root: string;
  log(message: string): void;
}

export interface Scenario {
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
