/**
 * Kubernetes resource quantities (`7800m`, `30Gi`, `32847364Ki`, `1e3`) as numbers,
 * for display and sorting only (floating point; never written back).
 */
const SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/;

/** The quantity's value in base units (cores, bytes, count); undefined when it does not parse. */
export function parseQuantity(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  const multiplier = SUFFIXES[match[2] ?? ''];
  return multiplier === undefined ? undefined : Number(match[1]) * multiplier;
}

/** Cores with at most 2 decimals (`7.8`, `0.25`, `64`). */
export function formatCores(cores: number | undefined): string {
  if (cores === undefined) return '–';
  return String(Math.round(cores * 100) / 100);
}

/** Bytes in binary units with one decimal (`30.0 GiB`, `512.0 MiB`). */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
