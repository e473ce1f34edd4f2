/**
 * The integer `raw` spells if it lies in [min, max], else undefined (blank, a
 * fraction, out of range, not a number). Each command words its own message.
 */
export function parseInteger(raw: string, min: number, max: number): number | undefined {
  if (raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}
