import { describe, expect, it } from 'vitest';
import { formatBytes, formatCores, parseQuantity } from './quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['7800m', 7.8],
    ['8', 8],
    ['30Gi', 30 * 2 ** 30],
    ['32847364Ki', 32847364 * 1024],
    ['1e3', 1000],
    ['2k', 2000],
    ['0.5', 0.5],
  ])('%s -> %d', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 6);
  });

  it('returns undefined for missing or malformed quantities', () => {
    expect(parseQuantity(undefined)).toBeUndefined();
    expect(parseQuantity('abc')).toBeUndefined();
    expect(parseQuantity('10Xi')).toBeUndefined();
  });
});

describe('formatting', () => {
  it('formats cores and bytes', () => {
    expect(formatCores(7.8)).toBe('7.8');
    expect(formatCores(0.125)).toBe('0.13');
    expect(formatCores(undefined)).toBe('–');
    expect(formatBytes(30 * 2 ** 30)).toBe('30.0 GiB');
    expect(formatBytes(512)).toBe('512 B');
  });
});
