import { describe, expect, it } from 'vitest';
import { ChaosUsageError, parseChaosOptions } from './cli-options.js';
import { SCENARIOS } from './scenarios.js';

describe('parseChaosOptions', () => {
  it('full mode by default: every scenario, a 10-minute soak with 5,000 clients, a 30 s outage', () => {
    const o = parseChaosOptions([], '/r');
    expect(o).toMatchObject({
      quick: false,
      soak: true,
      soakMinutes: 10,
      soakClients: 5_000,
      outDir: '/r',
      outageSeconds: 30,
    });
    expect(o !== 'help' && o.scenarios).toEqual(SCENARIOS.map((s) => s.name));
  });

  it('--quick shrinks everything; --soak-minutes and --clients override', () => {
    expect(parseChaosOptions(['--quick'], '/r')).toMatchObject({
      quick: true,
      soakClients: 100,
      clusters: 1,
      outageSeconds: 6,
    });
    expect(
      parseChaosOptions(['--quick', '--soak-minutes', '0.5', '--clients', '20', '--out', '/tmp/x'], '/r'),
    ).toMatchObject({
      soakMinutes: 0.5,
      soakClients: 20,
      outDir: '/tmp/x',
    });
  });

  it('--only picks scenarios in their run order, and the soak only when named', () => {
    const o = parseChaosOptions(['--only', 'redis-restart,leader-kill'], '/r');
    expect(o !== 'help' && [o.scenarios, o.soak]).toEqual([['leader-kill', 'redis-restart'], false]);
    const s = parseChaosOptions(['--only', 'soak'], '/r');
    expect(s !== 'help' && [s.scenarios, s.soak]).toEqual([[], true]);
  });

  it('--soak-minutes 0 turns the soak off', () => {
    const o = parseChaosOptions(['--soak-minutes', '0'], '/r');
    expect(o !== 'help' && o.soak).toBe(false);
  });

  it.each([
    [['--only', 'nope'], /unknown nope/],
    [['--soak-minutes', '-1'], /soak-minutes/],
    [['--clients', '1.5'], /clients/],
    [['--bogus'], /bogus/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseChaosOptions(argv, '/r')).toThrow(ChaosUsageError);
    expect(() => parseChaosOptions(argv, '/r')).toThrow(message);
  });

  it('--help', () => {
    expect(parseChaosOptions(['--help'], '/r')).toBe('help');
  });
});
