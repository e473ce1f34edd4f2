import { z } from 'zod';
import { ContractError } from '@knm/contracts';
import { describe, expect, it } from 'vitest';
import { DecodeMemo, rawQuery } from './decode-memo.js';

const Schema = z.strictObject({ limit: z.coerce.number().int().min(1).optional() });

describe('DecodeMemo', () => {
  it('decodes a raw text once: the same frozen value, or the same error, for every request of it', () => {
    const queries = new DecodeMemo(Schema, 'test query');
    const first = queries.decode(rawQuery('/x?limit=5'), { limit: '5' });
    expect(first).toEqual({ limit: 5 });
    expect(Object.isFrozen(first)).toBe(true);
    // Keyed by the raw text: the input is not looked at again.
    expect(queries.decode(rawQuery('/y?limit=5'), { limit: 'ignored' })).toBe(first);
    expect(queries.decode(rawQuery('/x'), {})).toEqual({});
    let thrown: unknown;
    try {
      queries.decode(rawQuery('/x?limit=0'), { limit: '0' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ContractError);
    expect(() => queries.decode(rawQuery('/x?limit=0'), { limit: '1' })).toThrow(thrown as Error);
  });

  it('rawQuery is the query string as sent', () => {
    expect(rawQuery('/a/b?x=1&y=%20')).toBe('x=1&y=%20');
    expect(rawQuery('/a/b')).toBe('');
  });

  it('keeps at most `kept` strings, the oldest forgotten first', () => {
    const queries = new DecodeMemo(Schema, 'test query', 2);
    const one = queries.decode(rawQuery('/?limit=1'), { limit: '1' });
    queries.decode(rawQuery('/?limit=2'), { limit: '2' });
    queries.decode(rawQuery('/?limit=3'), { limit: '3' });
    // limit=1 was forgotten: decoded again from the parse given now.
    expect(queries.decode(rawQuery('/?limit=1'), { limit: '7' })).not.toBe(one);
    expect(queries.decode(rawQuery('/?limit=1'), { limit: '8' })).toEqual({ limit: 7 });
  });
});
