/**
 * How metrics-server writes usage: cpu as nanocores in a DecimalSI quantity and
 * memory as bytes in a BinarySI one, both in apimachinery's canonical form (the
 * largest suffix that keeps the number whole: `250m`, `123456789n`, `2`; `1Mi`,
 * `123456Ki`, `1000`), and the window as a Go duration (`15s`, `500ms`, `1m30s`).
 */

/** Nanocores as a canonical DecimalSI quantity. */
export function formatNanocores(nanocores: number): string {
  const n = Math.max(0, Math.round(nanocores));
  if (n === 0) return '0';
  if (n % 1e9 === 0) return String(n / 1e9);
  if (n % 1e6 === 0) return `${n / 1e6}m`;
  if (n % 1e3 === 0) return `${n / 1e3}u`;
  return `${n}n`;
}

const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** Bytes as a canonical BinarySI quantity. */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, Math.round(bytes));
  if (value === 0) return '0';
  let suffix = 0;
  while (value % 1024 === 0 && suffix < BINARY_SUFFIXES.length - 1) {
    value /= 1024;
    suffix++;
  }
  return `${value}${BINARY_SUFFIXES[suffix]}`;
}

/** Milliseconds as Go's `time.Duration.String()` (what metav1.Duration serializes to). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const s = `${Number(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${s}`;
  if (minutes > 0) return `${minutes}m${s}`;
  return s;
}
