import { NotAcceptableException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { acceptsIdentity, negotiateCoding } from './content-coding.js';

describe('negotiateCoding', () => {
  it('identity without a header or with an empty one', () => {
    expect(negotiateCoding(undefined)).toBe('identity');
    expect(negotiateCoding('')).toBe('identity');
    expect(negotiateCoding('  ')).toBe('identity');
  });

  it('the compressed coding a client accepts, br before gzip on a tie (what browsers send)', () => {
    expect(negotiateCoding('gzip, deflate, br, zstd')).toBe('br');
    expect(negotiateCoding('gzip')).toBe('gzip');
    expect(negotiateCoding('x-gzip')).toBe('gzip');
    expect(negotiateCoding('br')).toBe('br');
    expect(negotiateCoding('GZIP')).toBe('gzip');
    expect(negotiateCoding('*')).toBe('br');
    expect(negotiateCoding('deflate')).toBe('identity');
  });

  it('respects q-values, identity’s included', () => {
    expect(negotiateCoding('br;q=0.5, gzip;q=0.8')).toBe('gzip');
    expect(negotiateCoding('br;q=0, gzip')).toBe('gzip');
    expect(negotiateCoding('gzip;q=0, br;q=0')).toBe('identity');
    expect(negotiateCoding('gzip;q=0.5, identity')).toBe('identity');
    expect(negotiateCoding('gzip;q=0.5')).toBe('gzip');
    expect(negotiateCoding('*;q=0.1, gzip;q=0.2')).toBe('gzip');
    expect(negotiateCoding('identity;q=1, *;q=0')).toBe('identity');
    expect(negotiateCoding('gzip ; q=1.000')).toBe('gzip');
  });

  it('ignores an element whose q-value does not parse', () => {
    expect(negotiateCoding('br;q=2, gzip')).toBe('gzip');
    expect(negotiateCoding('br;q=abc')).toBe('identity');
    expect(negotiateCoding('gzip;q=0.1234')).toBe('identity');
  });

  it('406 when identity is refused and neither br nor gzip is acceptable', () => {
    expect(() => negotiateCoding('identity;q=0')).toThrow(NotAcceptableException);
    expect(() => negotiateCoding('*;q=0')).toThrow(/refuses identity and accepts neither br nor gzip/);
    expect(() => negotiateCoding('deflate, identity;q=0')).toThrow(NotAcceptableException);
    expect(negotiateCoding('identity;q=0, gzip')).toBe('gzip');
  });
});

describe('acceptsIdentity', () => {
  it('unless identity, or * with identity unnamed, weighs 0', () => {
    expect(acceptsIdentity(undefined)).toBe(true);
    expect(acceptsIdentity('gzip')).toBe(true);
    expect(acceptsIdentity('gzip, identity;q=0')).toBe(false);
    expect(acceptsIdentity('br, *;q=0')).toBe(false);
    expect(acceptsIdentity('identity;q=0.5, *;q=0')).toBe(true);
  });
});
