import { describe, expect, it } from 'vitest';
import { sumMetric } from './prom-text.js';

const TEXT = `# HELP knm_watcher_redis_writes_total Redis writes
# TYPE knm_watcher_redis_writes_total counter
knm_watcher_redis_writes_total{kind="nodes",result="ok"} 12
knm_watcher_redis_writes_total{kind="pods",result="ok"} 30
knm_watcher_redis_writes_total{kind="nodes",result="fenced"} 2
knm_watcher_is_leader 0
`;

describe('sumMetric', () => {
  it.each([
    [{}, 44],
    [{ result: 'ok' }, 42],
    [{ result: 'fenced' }, 2],
    [{ kind: 'nodes', result: 'ok' }, 12],
    [{ result: 'error' }, 0],
  ])('sums the series matching %j', (labels, expected) => {
    expect(sumMetric(TEXT, 'knm_watcher_redis_writes_total', labels)).toBe(expected);
  });

  it('reads an unlabelled gauge and ignores other metrics with the name as a prefix', () => {
    expect(sumMetric(`${TEXT}knm_watcher_is_leader_extra 5\n`, 'knm_watcher_is_leader')).toBe(0);
    expect(sumMetric('knm_watcher_is_leader 1\n', 'knm_watcher_is_leader')).toBe(1);
  });
});
