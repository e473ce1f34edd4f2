import { describe, expect, it } from 'vitest';
import { CommandLineError } from './command-line-error.js';
import { parseInteger } from './parse-integer.js';
import { readFlags } from './read-flags.js';

const spec = {
  port: 'string',
  quick: 'boolean',
  'log-level': 'string',
  help: { type: 'boolean', short: 'h' },
} as const;

describe('readFlags', () => {
  it('reads values (spaced or with =) and switches; flags not given are absent', () => {
    expect(readFlags(['--port', '80', '--quick', '--log-level=debug'], spec)).toEqual({
      port: '80',
      quick: true,
      'log-level': 'debug',
    });
    expect(readFlags([], spec)).toEqual({});
    expect(readFlags(['-h'], spec)).toEqual({ help: true });
  });

  it.each([
    [['--bogus'], /^Unknown option '--bogus'/],
    [['extra'], /^Unexpected argument 'extra'/],
    [['--port'], /^--port needs a value$/],
    [['--quick=yes'], /^Option '--quick' does not take an argument/],
  ])('refuses %j with a CommandLineError', (argv, message) => {
    let error: unknown;
    try {
      readFlags(argv, spec);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CommandLineError);
    expect((error as Error).message).toMatch(message);
  });

  it("throws the command's own error when it gives one", () => {
    class UsageError extends Error {}
    const fail = (message: string) => new UsageError(`${message} (see --help)`);
    expect(() => readFlags(['--port'], spec, fail)).toThrow(UsageError);
    expect(() => readFlags(['--port'], spec, fail)).toThrow('--port needs a value (see --help)');
  });
});

describe('parseInteger', () => {
  it.each([
    ['42', 42],
    [' 7 ', 7],
    ['0', 0],
    ['', undefined],
    ['  ', undefined],
    ['1.5', undefined],
    ['abc', undefined],
    ['101', undefined],
    ['-1', undefined],
  ])('%j in [0, 100] is %s', (raw, expected) => {
    expect(parseInteger(raw, 0, 100)).toBe(expected);
  });
});
