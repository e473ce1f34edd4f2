import { describe, expect, it } from 'vitest';
import { formatBytes, formatGoDuration, formatNanocores } from './metrics-format.js';

describe('metrics-server quantity and duration formats', () => {
  it.each([
    [0, '0'],
    [250_000_000, '250m'],
    [2_000_000_000, '2'],
    [123_456_789, '123456789n'],
    [123_456_000, '123456u'],
  ])('cpu %i nanocores is %s', (n, text) => expect(formatNanocores(n)).toBe(text));

  it.each([
    [0, '0'],
    [1000, '1000'],
    [4096, '4Ki'],
    [1_048_576, '1Mi'],
    [126_418_944, '123456Ki'],
  ])('memory %i bytes is %s', (n, text) => expect(formatBytes(n)).toBe(text));

  it.each([
    [15_000, '15s'],
    [500, '500ms'],
    [1_500, '1.5s'],
    [90_000, '1m30s'],
  ])('window %i ms is %s', (ms, text) => expect(formatGoDuration(ms)).toBe(text));
});
