import type { ChartSpec } from '../harness/types.js';
import { escapeXml, formatNumber } from './format.js';

const WIDTH = 760;
const HEIGHT = 380;
const MARGIN = { left: 78, right: 24, top: 48, bottom: 84 };
const PALETTE = ['#2563eb', '#f97316', '#16a34a', '#9333ea', '#dc2626', '#0891b2'];
const FONT = 'font-family="system-ui, sans-serif"';

/** The smallest "nice" number (1, 2, 2.5, 5 × 10^k) at or above `value`. */
function niceCeil(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** A short label for an axis tick or a bar's value: 1.2k, 3.4M. */
function compact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${formatNumber(value / 1e9)}G`;
  if (abs >= 1e6) return `${formatNumber(value / 1e6)}M`;
  if (abs >= 1e4) return `${formatNumber(value / 1e3)}k`;
  return formatNumber(value);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} ${attrs}>${escapeXml(content)}</text>`;
}

/** The y axis for values up to `max`: a nice tick step and as many ticks (at most 5) as reach `max`. */
function yAxis(max: number): { step: number; ticks: number } {
  const step = niceCeil(max / 5);
  return { step, ticks: Math.max(1, Math.ceil(max / step)) };
}

/** Axes, y grid with ticks, title, axis labels and legend: what both chart kinds share. */
function frame(spec: ChartSpec): { parts: string[]; y: (v: number) => number } {
  const { step, ticks } = yAxis(Math.max(0, ...spec.series.flatMap((s) => s.points.map((p) => p.y))));
  const yMax = step * ticks;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const y = (v: number): number => MARGIN.top + plotH - (v / yMax) * plotH;
  const parts: string[] = [
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    text(WIDTH / 2, 24, spec.title, 'font-size="16" font-weight="600" text-anchor="middle"'),
  ];
  for (let i = 0; i <= ticks; i++) {
    const v = step * i;
    parts.push(
      `<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e7eb"/>`,
      text(MARGIN.left - 8, y(v) + 4, compact(v), 'font-size="11" text-anchor="end" fill="#374151"'),
    );
  }
  parts.push(
    `<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" stroke="#111827"/>`,
    `<line class="axis" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${HEIGHT - MARGIN.bottom}" y2="${HEIGHT - MARGIN.bottom}" stroke="#111827"/>`,
    text(
      18,
      MARGIN.top + plotH / 2,
      spec.yLabel,
      `font-size="12" text-anchor="middle" transform="rotate(-90 18 ${(MARGIN.top + plotH / 2).toFixed(1)})"`,
    ),
    text(
      MARGIN.left + (WIDTH - MARGIN.left - MARGIN.right) / 2,
      HEIGHT - 38,
      spec.xLabel,
      'font-size="12" text-anchor="middle"',
    ),
  );
  let lx = MARGIN.left;
  spec.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    parts.push(
      `<rect class="legend" x="${lx}" y="${HEIGHT - 20}" width="12" height="12" fill="${color}"/>`,
      text(lx + 16, HEIGHT - 10, s.name, 'font-size="12"'),
    );
    lx += 16 + Math.min(40, s.name.length) * 7 + 20;
  });
  return { parts, y };
}

function document(spec: ChartSpec, parts: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<title>${escapeXml(spec.title)}</title>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** The x categories of a chart: every point's x, in order of first appearance. */
function categories(spec: ChartSpec): string[] {
  const seen = new Set<string>();
  for (const s of spec.series) for (const p of s.points) seen.add(String(p.x));
  return [...seen];
}

function barChart(spec: ChartSpec): string {
  const cats = categories(spec);
  const { parts, y } = frame(spec);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const groupW = plotW / Math.max(1, cats.length);
  const barW = (groupW * 0.8) / Math.max(1, spec.series.length);
  cats.forEach((cat, ci) => {
    const gx = MARGIN.left + ci * groupW + groupW * 0.1;
    spec.series.forEach((s, si) => {
      const point = s.points.find((p) => String(p.x) === cat);
      if (!point) return;
      const x = gx + si * barW;
      const top = y(Math.max(0, point.y));
      const h = HEIGHT - MARGIN.bottom - top;
      parts.push(
        `<rect class="bar" data-series="${escapeXml(s.name)}" data-x="${escapeXml(cat)}" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW * 0.92).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[si % PALETTE.length] as string}"><title>${escapeXml(`${s.name}, ${cat}: ${formatNumber(point.y)}`)}</title></rect>`,
        text(
          x + (barW * 0.92) / 2,
          top - 4,
          compact(point.y),
          'font-size="11" text-anchor="middle" fill="#111827"',
        ),
      );
    });
    parts.push(
      text(
        MARGIN.left + ci * groupW + groupW / 2,
        HEIGHT - MARGIN.bottom + 16,
        truncate(cat, Math.max(8, Math.floor(groupW / 7))),
        'font-size="11" text-anchor="middle"',
      ),
    );
  });
  return document(spec, parts);
}

function lineChart(spec: ChartSpec): string {
  const numeric = spec.series.every((s) => s.points.every((p) => typeof p.x === 'number'));
  const cats = categories(spec);
  const xs = numeric ? spec.series.flatMap((s) => s.points.map((p) => Number(p.x))) : [];
  const xMin = numeric ? Math.min(...xs) : 0;
  const xMax = numeric ? Math.max(...xs) : Math.max(1, cats.length - 1);
  // Points keep a little distance from the axes so that their labels stay readable.
  const pad = (WIDTH - MARGIN.left - MARGIN.right) * 0.05;
  const plotW = WIDTH - MARGIN.left - MARGIN.right - 2 * pad;
  const xOf = (x: string | number): number => {
    const v = numeric ? Number(x) : cats.indexOf(String(x));
    return MARGIN.left + pad + (xMax === xMin ? plotW / 2 : ((v - xMin) / (xMax - xMin)) * plotW);
  };
  const { parts, y } = frame(spec);
  const ticks = numeric ? [...new Set(xs)].sort((a, b) => a - b) : cats;
  for (const t of ticks)
    parts.push(
      text(
        xOf(t),
        HEIGHT - MARGIN.bottom + 16,
        typeof t === 'number' ? compact(t) : truncate(t, 14),
        'font-size="11" text-anchor="middle"',
      ),
    );
  spec.series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length] as string;
    const pts = s.points.map((p) => `${xOf(p.x).toFixed(1)},${y(p.y).toFixed(1)}`);
    parts.push(
      `<polyline class="line" data-series="${escapeXml(s.name)}" fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`,
    );
    for (const p of s.points)
      parts.push(
        `<circle class="point" cx="${xOf(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3.5" fill="${color}"><title>${escapeXml(`${s.name}, ${String(p.x)}: ${formatNumber(p.y)}`)}</title></circle>`,
      );
  });
  return document(spec, parts);
}

/**
 * A chart as a standalone SVG document (no script, no external reference): grouped
 * bars (one group per x, one bar per series) or lines (numeric x on a linear scale,
 * other x evenly spaced), with a y axis from 0, grid, labels and a legend.
 */
export function renderChart(spec: ChartSpec): string {
  return spec.kind === 'bar' ? barChart(spec) : lineChart(spec);
}
