import type { ProcessMemory } from './soak.js';

const MB = 1024 * 1024;
const W = 380;
const H = 150;
const PAD = { left: 46, right: 10, top: 30, bottom: 22 };

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function panel(memory: ProcessMemory, x0: number, y0: number): string {
  const samples = memory.samples;
  const tMax = Math.max(1, ...samples.map((s) => s.t));
  const yMax = Math.max(1, ...samples.map((s) => s.bytes)) * 1.1;
  const px = (t: number): number => x0 + PAD.left + (t / tMax) * (W - PAD.left - PAD.right);
  const py = (b: number): number => y0 + H - PAD.bottom - (b / yMax) * (H - PAD.top - PAD.bottom);
  const points = samples.map((s) => `${px(s.t).toFixed(1)},${py(s.bytes).toFixed(1)}`).join(' ');
  const half = samples[Math.floor(samples.length / 2)]?.t ?? 0;
  const color = memory.trend.growing ? '#c0392b' : '#2e7d32';
  const title = `${memory.name}: mean ${(memory.trend.meanBytes / MB).toFixed(1)} MB, ${(memory.trend.slopeBytesPerMin / MB).toFixed(2)} MB/min${memory.trend.growing ? ' GROWING' : ''}`;
  return [
    `<g>`,
    `<rect x="${x0 + 0.5}" y="${y0 + 0.5}" width="${W - 1}" height="${H - 1}" fill="#fff" stroke="#ddd"/>`,
    `<text x="${x0 + 8}" y="${y0 + 18}" font-size="11" fill="#222">${esc(title)}</text>`,
    `<line x1="${px(0)}" y1="${py(0)}" x2="${px(tMax)}" y2="${py(0)}" stroke="#999"/>`,
    `<line x1="${px(0)}" y1="${py(0)}" x2="${px(0)}" y2="${py(yMax)}" stroke="#999"/>`,
    `<line x1="${px(half)}" y1="${py(0)}" x2="${px(half)}" y2="${py(yMax)}" stroke="#bbb" stroke-dasharray="3,3"/>`,
    `<text x="${x0 + PAD.left - 4}" y="${py(yMax / 1.1) + 4}" font-size="9" text-anchor="end" fill="#555">${(yMax / 1.1 / MB).toFixed(0)} MB</text>`,
    `<text x="${x0 + PAD.left - 4}" y="${py(0) + 3}" font-size="9" text-anchor="end" fill="#555">0</text>`,
    `<text x="${px(tMax)}" y="${py(0) + 14}" font-size="9" text-anchor="end" fill="#555">${(tMax / 1000).toFixed(0)} s</text>`,
    `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points}"/>`,
    `</g>`,
  ].join('\n');
}

/**
 * A hand-written SVG with one line chart per process (memory over the soak, from 0
 * so the scale is honest); the dashed line marks the end of the warm-up half, the
 * line is red when the trend rule calls it growth.
 */
export function renderMemoryChart(memory: readonly ProcessMemory[]): string {
  const cols = 2;
  const rows = Math.max(1, Math.ceil(memory.length / cols));
  const width = cols * W + (cols + 1) * 10;
  const height = rows * H + (rows + 1) * 10;
  const panels = memory.map((m, i) =>
    panel(m, 10 + (i % cols) * (W + 10), 10 + Math.floor(i / cols) * (H + 10)),
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#f7f7f7"/>`,
    ...panels,
    `</svg>`,
    '',
  ].join('\n');
}
