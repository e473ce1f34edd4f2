/**
 * Sums the samples of metric `name` in a Prometheus text exposition whose labels
 * include all of `labels` (0 when none match).
 */
export function sumMetric(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? ([0-9.eE+-]+|NaN)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const seriesLabels = new Map<string, string>();
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      seriesLabels.set(pair[1] as string, pair[2] as string);
    }
    if (Object.entries(labels).every(([k, v]) => seriesLabels.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Reads `/metrics` of a process on 127.0.0.1:`port`. */
export async function fetchMetrics(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
  return res.text();
}
