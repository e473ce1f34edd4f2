const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** A duration the CLI or config cannot read. */
export class DurationParseError extends Error {
  override readonly name = 'DurationParseError';
}

/**
 * Parses a duration such as `90s`, `15m`, `8h`, `7d` or `1h30m` (or a bare number
 * of seconds) into whole seconds. Throws {@link DurationParseError} on anything else
 * or on zero.
 */
export function parseDurationSeconds(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return positive(Number(trimmed), text);
  const part = /(\d+)([smhd])/g;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(part)) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * (UNITS[match[2] ?? ''] ?? 0);
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== trimmed.length) {
    throw new DurationParseError(`duration "${text}" must look like 90s, 15m, 8h, 7d or 1h30m`);
  }
  return positive(total, text);
}

function positive(seconds: number, text: string): number {
  if (seconds <= 0) throw new DurationParseError(`duration "${text}" must be greater than zero`);
  return seconds;
}
