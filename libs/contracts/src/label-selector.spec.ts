import { describe, expect, it } from 'vitest';
import {
  formatLabelSelector,
  matchesLabelSelector,
  parseLabelSelector,
  SelectorParseError,
  type LabelRequirement,
} from './label-selector.js';

const prod = { env: 'prod', tier: 'web' };
const dev = { env: 'dev' };
const none = {};

describe('parseLabelSelector', () => {
  it.each<[string, LabelRequirement[]]>([
    ['', []],
    ['   ', []],
    ['a=b', [{ key: 'a', operator: 'Equals', values: ['b'] }]],
    ['a==b', [{ key: 'a', operator: 'Equals', values: ['b'] }]],
    ['a!=b', [{ key: 'a', operator: 'NotEquals', values: ['b'] }]],
    ['a=', [{ key: 'a', operator: 'Equals', values: [''] }]],
    ['a in (y, x,x)', [{ key: 'a', operator: 'In', values: ['x', 'y'] }]],
    ['a notin (x)', [{ key: 'a', operator: 'NotIn', values: ['x'] }]],
    ['a in ()', [{ key: 'a', operator: 'In', values: [''] }]],
    ['a in (x,,y)', [{ key: 'a', operator: 'In', values: ['', 'x', 'y'] }]],
    ['a', [{ key: 'a', operator: 'Exists', values: [] }]],
    ['!a', [{ key: 'a', operator: 'DoesNotExist', values: [] }]],
    [' ! a ', [{ key: 'a', operator: 'DoesNotExist', values: [] }]],
    ['in=notin', [{ key: 'in', operator: 'Equals', values: ['notin'] }]],
    [
      'z=1, a in(p) ,!m',
      [
        { key: 'a', operator: 'In', values: ['p'] },
        { key: 'm', operator: 'DoesNotExist', values: [] },
        { key: 'z', operator: 'Equals', values: ['1'] },
      ],
    ],
    [
      'node-role.kubernetes.io/control-plane,kubernetes.io/os=linux',
      [
        { key: 'kubernetes.io/os', operator: 'Equals', values: ['linux'] },
        { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', values: [] },
      ],
    ],
  ])('parses %j', (text, requirements) => {
    expect(parseLabelSelector(text).requirements).toEqual(requirements);
  });

  it.each<[string, string]>([
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a,', "found '', expected: identifier after ','"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['a=b=c', "found '=', expected: ',' or 'end of string'"],
    ['a in x', "unable to parse requirement: found 'x' expected: '('"],
    ['a in (x', "unable to parse requirement: found '', expected: ')'"],
    ['a in (x y)', "unable to parse requirement: found 'y', expected: ',' or ')'"],
    ['a (', "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    ['=b', "found '=', expected: !, identifier, or 'end of string'"],
    ['-a=b', 'unable to parse requirement: key: Invalid value: "-a": name part must consist'],
    ['a=-b', 'unable to parse requirement: values[0]["-b"]: Invalid value: a valid label must be'],
    [`a=${'x'.repeat(64)}`, 'must be no more than 63 characters'],
    ['a>1', 'unable to parse requirement: operator'],
  ])('rejects %j', (text, message) => {
    let caught: unknown;
    try {
      parseLabelSelector(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SelectorParseError);
    expect((caught as SelectorParseError).name).toBe('SelectorParseError');
    expect((caught as SelectorParseError).message).toContain(message);
  });
});

describe('matchesLabelSelector', () => {
  it.each<[string, Record<string, string> | undefined, boolean]>([
    ['', undefined, true],
    ['', prod, true],
    ['env=prod', prod, true],
    ['env=prod', dev, false],
    ['env=prod', none, false],
    ['env=prod', undefined, false],
    ['env==prod', prod, true],
    ['env!=prod', prod, false],
    ['env!=prod', dev, true],
    ['env!=prod', none, true],
    ['env!=prod', undefined, true],
    ['env in (prod,dev)', dev, true],
    ['env in (prod)', dev, false],
    ['env in (prod)', none, false],
    ['env notin (prod)', prod, false],
    ['env notin (prod)', dev, true],
    ['env notin (prod)', none, true],
    ['env', dev, true],
    ['env', none, false],
    ['!env', none, true],
    ['!env', dev, false],
    ['env=prod,tier=web', prod, true],
    ['env=prod,tier=api', prod, false],
    ['env=prod,!tier', prod, false],
    ['tier=', { tier: '' }, true],
    ['tier=', none, false],
    ['tier!=', none, true],
  ])('%j against %j is %s', (text, labels, expected) => {
    expect(matchesLabelSelector(parseLabelSelector(text), labels)).toBe(expected);
  });

  it('does not match inherited properties', () => {
    expect(matchesLabelSelector(parseLabelSelector('toString'), {})).toBe(false);
  });
});

describe('formatLabelSelector', () => {
  it.each<[string, string]>([
    ['', ''],
    ['a==b', 'a=b'],
    ['b!=c , a', 'a,b!=c'],
    ['x in (b, a)', 'x in (a,b)'],
    ['x notin (b)', 'x notin (b)'],
    ['!x', '!x'],
  ])('formats %j as %j, which parses back to the same selector', (text, formatted) => {
    const selector = parseLabelSelector(text);
    expect(formatLabelSelector(selector)).toBe(formatted);
    expect(parseLabelSelector(formatted)).toEqual(selector);
  });
});
