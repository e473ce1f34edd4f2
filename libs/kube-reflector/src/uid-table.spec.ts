import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UidTable } from './uid-table.js';

describe('UidTable', () => {
  it('behaves like a Map under random sets and deletes (UUIDs and other strings), across growth', () => {
    const table = new UidTable();
    const model = new Map<string, number>();
    const keys = [
      ...Array.from({ length: 3_000 }, () => randomUUID()),
      'not-a-uuid',
      'ABCDEF01-1C3E-4F00-9A1B-000000000001',
      '',
    ];
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 60_000; i++) {
      const key = keys[rand(keys.length)] as string;
      if (rand(3) === 0) {
        expect(table.delete(key)).toBe(model.get(key));
        model.delete(key);
      } else {
        const value = rand(10_000);
        expect(table.set(key, value)).toBe(model.get(key));
        model.set(key, value);
      }
    }
    expect(table.size).toBe(model.size);
    for (const key of keys) expect(table.get(key)).toBe(model.get(key));
    expect(new Map(table.entries())).toEqual(model);
    let sum = 0;
    table.forEachValue((v) => (sum += v));
    expect(sum).toBe([...model.values()].reduce((a, b) => a + b, 0));
  });

  it('rejects values it cannot store', () => {
    const table = new UidTable();
    expect(() => table.set(randomUUID(), -1)).toThrow(RangeError);
    expect(() => table.set(randomUUID(), 1.5)).toThrow(RangeError);
    expect(() => table.set(randomUUID(), 2 ** 53 - 1)).toThrow(RangeError);
    const big = randomUUID();
    table.set(big, 2 ** 53 - 2);
    expect(table.get(big)).toBe(2 ** 53 - 2);
  });
});
