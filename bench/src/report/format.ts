import type { Comparison, Measurement } from '../harness/types.js';

/** Text for a Markdown table cell: pipes escaped, line breaks flattened. */
export function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Text for SVG/XML content or an attribute value. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A number with thousands separators and at most `digits` decimals (3 significant figures below 10). */
export function formatNumber(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const decimals = digits ?? (abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3);
  return value.toLocaleString('en-US', { maximumFractionDigits: decimals, minimumFractionDigits: 0 });
}

/** A value in its unit, scaled for reading: `3.24 s`, `12.5 ms`, `4.2 KiB`, `1,234 requests/s`. */
export function formatValue(value: number, unit: string): string {
  if (unit === 'ms' && Math.abs(value) >= 1000) return `${formatNumber(value / 1000)} s`;
  if (unit === 'bytes') {
    const abs = Math.abs(value);
    if (abs >= 2 ** 30) return `${formatNumber(value / 2 ** 30)} GiB`;
    if (abs >= 2 ** 20) return `${formatNumber(value / 2 ** 20)} MiB`;
    if (abs >= 10 * 2 ** 10) return `${formatNumber(value / 2 ** 10)} KiB`;
    return `${formatNumber(value)} B`;
  }
  if (unit === '%') return `${formatNumber(value)}%`;
  return `${formatNumber(value)} ${unit}`;
}

/** Units {@link formatValue} rescales (so the range repeats the unit of each end). */
const SCALED_UNITS = new Set(['ms', 'bytes']);

/**
 * A measurement as `median (min - max)`: `3.24 s (2.98 s - 3.67 s)`,
 * `503 messages (502 - 510)`; just the median when there was one run or no spread.
 */
export function formatMeasurement(m: Measurement): string {
  const median = formatValue(m.median, m.unit);
  if (m.runs.length <= 1 || m.min === m.max) return median;
  if (SCALED_UNITS.has(m.unit))
    return `${median} (${formatValue(m.min, m.unit)} - ${formatValue(m.max, m.unit)})`;
  return `${median} (${formatNumber(m.min)} - ${formatNumber(m.max)})`;
}

/** What "better" is called for a comparison's unit: time gets faster, sizes get smaller. */
function winWord(c: Comparison): string {
  if (c.better === 'higher') return 'more';
  if (c.ours.unit === 'ms' || c.ours.unit === 's') return 'faster';
  if (c.ours.unit === 'bytes') return 'smaller';
  return 'fewer';
}

/**
 * A comparison's ratio in words: `3.8× faster`, `12× smaller`, `1.0× (even)` when
 * within 5%, `0.45× (we lose)` when the baseline wins.
 */
export function formatRatio(c: Comparison): string {
  const r = c.ratio;
  if (!Number.isFinite(r)) return `${String(r)} (not comparable)`;
  const shown = r >= 10 ? formatNumber(r, 0) : r.toFixed(r < 1 ? 2 : 1);
  if (r >= 0.95 && r <= 1.05) return `${r.toFixed(2)}× (even)`;
  if (r > 1) return `${shown}× ${winWord(c)}`;
  return `${shown}× (we lose)`;
}
