import { describe, expect, it } from 'vitest';
import { parseQueryBool } from './query-bool.js';

describe('parseQueryBool', () => {
  it.each([
    ['true', true],
    ['True', true],
    ['1', true],
    ['', true],
    ['yes', true],
    ['0', false],
    ['false', false],
    ['False', false],
    ['FALSE', false],
  ])('%j is %s', (value, expected) => {
    expect(parseQueryBool(value)).toBe(expected);
  });

  it('an absent parameter is undefined (false for plain booleans, unset for optional ones)', () => {
    expect(parseQueryBool(new URLSearchParams('a=1').get('watch'))).toBeUndefined();
  });
});
