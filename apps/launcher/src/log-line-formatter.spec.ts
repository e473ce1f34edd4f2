import { describe, expect, it } from 'vitest';
import { LineSplitter, LogLineFormatter, parsePinoLine } from './log-line-formatter.js';

const clock = () => new Date('2026-01-02T03:04:05.000Z');

describe('LogLineFormatter', () => {
  const f = new LogLineFormatter({ nameWidth: 8, clock });

  it('unpacks a pino line: its time, level, message and extra fields; drops pid, hostname, app', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.parse('2026-01-02T10:11:12.000Z'),
      pid: 1,
      hostname: 'h',
      app: 'watcher',
      cluster: 'dev',
      msg: 'lease lost',
      detail: { a: 1 },
      note: 'two words',
    });
    expect(f.format('w-1', line)).toBe(
      '10:11:12 w-1      WARN  lease lost cluster=dev detail={"a":1} note="two words"',
    );
  });

  it('keeps any other line as it is, with the current time', () => {
    expect(f.format('redis', '1:M * Ready to accept connections')).toBe(
      '03:04:05 redis    1:M * Ready to accept connections',
    );
    expect(f.format('x', '{not json')).toBe('03:04:05 x        {not json');
  });

  it('puts an error stack on its own lines', () => {
    const line = JSON.stringify({
      level: 50,
      msg: 'boom',
      err: { type: 'Error', message: 'm', stack: 'Error: m\n    at x' },
    });
    expect(f.format('g', line)).toBe('03:04:05 g        ERROR boom err=\nError: m\n    at x');
  });

  it('colours names and levels only when asked', () => {
    const colored = new LogLineFormatter({ color: true, clock }).format(
      'a',
      JSON.stringify({ level: 50, msg: 'x' }),
    );
    expect(colored).toContain('\u001b[31mERROR\u001b[0m');
  });
});

describe('parsePinoLine', () => {
  it('accepts objects with a level or msg only', () => {
    expect(parsePinoLine('{"level":30,"msg":"m"}')).toEqual({ level: 30, msg: 'm' });
    expect(parsePinoLine('{"a":1}')).toBeUndefined();
    expect(parsePinoLine('[1]')).toBeUndefined();
  });
});

describe('LineSplitter', () => {
  it('joins chunks into lines, strips CR, keeps the unfinished tail for flush', () => {
    const s = new LineSplitter();
    expect(s.push('a\r\nb')).toEqual(['a']);
    expect(s.push('c\nd')).toEqual(['bc']);
    expect(s.flush()).toEqual(['d']);
    expect(s.flush()).toEqual([]);
  });

  it('cuts a line longer than the limit', () => {
    const s = new LineSplitter(4);
    expect(s.push('abcdefghij')).toEqual(['abcd', 'efgh']);
    expect(s.flush()).toEqual(['ij']);
  });
});
