import { describe, expect, it } from 'vitest';
import { ageSince, humanDuration } from './human-duration.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe('humanDuration (apimachinery duration.HumanDuration)', () => {
  it.each<[number, string]>([
    [-3 * s, '<invalid>'],
    [-1500, '0s'],
    [0, '0s'],
    [5 * s, '5s'],
    [119 * s, '119s'],
    [2 * m, '2m'],
    [3 * m + 20 * s, '3m20s'],
    [9 * m + 59 * s, '9m59s'],
    [10 * m + 30 * s, '10m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [5 * h + 3 * m, '5h3m'],
    [8 * h + 30 * m, '8h'],
    [47 * h, '47h'],
    [2 * d, '2d'],
    [2 * d + 3 * h, '2d3h'],
    [7 * d + 23 * h, '7d23h'],
    [8 * d + 5 * h, '8d'],
    [729 * d, '729d'],
    [730 * d, '2y'],
    [800 * d, '2y70d'],
    [8 * 365 * d, '8y'],
    [20 * 365 * d + 5 * d, '20y'],
  ])('%i ms is %j', (ms, text) => expect(humanDuration(ms)).toBe(text));

  it('computes the AGE of a timestamp, <unknown> without one', () => {
    const now = new Date('2026-11-22T12:00:00Z');
    expect(ageSince('2026-11-22T11:56:40Z', now)).toBe('3m20s');
    expect(ageSince(undefined, now)).toBe('<unknown>');
    expect(ageSince('garbage', now)).toBe('<unknown>');
  });
});
