import { describe, expect, it } from 'vitest';
import { countWriteEpochs } from './scenarios.js';

const KEY = 'knm:{c1}:epoch';

describe('countWriteEpochs', () => {
  it('counts the write scripts of the cluster by their epoch argument (ARGV[1], after the keys)', () => {
    const output = [
      'OK',
      `1795374157.196280 [0 127.0.0.1:35210] "evalsha" "abc" "5" "${KEY}" "knm:{c1}:meta" "e" "ch" "p" "3" "10000" "now"`,
      `1795374157.196281 [0 lua] "GET" "${KEY}"`,
      `1795374157.196282 [0 127.0.0.1:35210] "EVALSHA" "def" "4" "${KEY}" "m" "e" "ch" "3" "10000" "now"`,
      `1795374157.196283 [0 127.0.0.1:35211] "evalsha" "abc" "5" "${KEY}" "m" "e" "ch" "p" "4" "10000" "now"`,
      `1795374157.196284 [0 127.0.0.1:35211] "evalsha" "abc" "5" "knm:{c2}:epoch" "m" "e" "ch" "p" "3" "1" "now"`,
      `1795374157.196285 [0 127.0.0.1:35211] "evalsha" "abc" "3" "knm:{c1}:lease" "${KEY}" "m" "id" "2000" "3"`,
      '1795374157.19628',
    ].join('\n');
    expect(countWriteEpochs(output, KEY)).toEqual(
      new Map([
        [3, 2],
        [4, 1],
      ]),
    );
  });

  it('reads escaped quotes inside arguments', () => {
    const line = `1 [0 127.0.0.1:1] "eval" "return \\"x\\"" "4" "${KEY}" "m" "e" "ch" "7"`;
    expect(countWriteEpochs(line, KEY)).toEqual(new Map([[7, 1]]));
  });
});
