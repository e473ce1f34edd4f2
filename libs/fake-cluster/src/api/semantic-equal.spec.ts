import { describe, expect, it } from 'vitest';
import { semanticallyEqual } from './semantic-equal.js';

describe('semanticallyEqual', () => {
  it('ignores key order at every depth', () => {
    expect(
      semanticallyEqual(
        {
          metadata: { name: 'n', labels: { a: '1', b: '2' } },
          spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] },
        },
        {
          spec: { taints: [{ effect: 'NoSchedule', key: 'k' }] },
          metadata: { labels: { b: '2', a: '1' }, name: 'n' },
        },
      ),
    ).toBe(true);
  });

  it('treats a null field as an absent one', () => {
    expect(semanticallyEqual({ a: 1, b: null }, { a: 1 })).toBe(true);
  });

  it('compares timestamps by the second they name', () => {
    expect(semanticallyEqual({ t: '2026-12-01T22:54:00Z' }, { t: '2026-12-01T22:54:00+00:00' })).toBe(true);
    expect(semanticallyEqual({ t: '2026-12-01T22:54:00Z' }, { t: '2026-12-01T23:54:00+01:00' })).toBe(true);
    expect(semanticallyEqual({ t: '2026-12-01T22:54:00Z' }, { t: '2026-12-01T22:54:01Z' })).toBe(false);
  });

  it('still sees every real difference: values, list order, list length, extra fields', () => {
    expect(semanticallyEqual({ a: '1' }, { a: '2' })).toBe(false);
    expect(semanticallyEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(semanticallyEqual({ a: [1] }, { a: [1, 1] })).toBe(false);
    expect(semanticallyEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(semanticallyEqual({ a: '1' }, { a: 1 })).toBe(false);
    expect(semanticallyEqual({ a: {} }, { a: [] })).toBe(false);
  });
});
