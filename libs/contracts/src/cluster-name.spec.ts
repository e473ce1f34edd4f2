import { describe, expect, it } from 'vitest';
import { ClusterNameSchema, clusterNameErrors, toClusterName } from './cluster-name.js';

describe('cluster names', () => {
  it.each(['dev', 'prod-eu-1', 'a', '0', 'x'.repeat(63), 'k8s-123'])('accepts %j', (name) => {
    expect(clusterNameErrors(name)).toEqual([]);
    expect(ClusterNameSchema.parse(name)).toBe(name);
    expect(toClusterName(name)).toBe(name);
  });

  it.each([
    ['', 'must not be empty'],
    ['x'.repeat(64), 'no more than 63'],
    ['Prod', 'lower case'],
    ['prod:eu', 'lower case'],
    ['{prod}', 'lower case'],
    ['prod eu', 'lower case'],
    ['-prod', 'start and end'],
    ['prod-', 'start and end'],
    ['prod.eu', 'lower case'],
    ['../etc', 'lower case'],
    ['*', 'lower case'],
    ['prød', 'lower case'],
  ])('rejects %j with a message that says why', (name, why) => {
    const errors = clusterNameErrors(name);
    expect(errors.join(' ')).toContain(why);
    expect(() => toClusterName(name)).toThrow(RangeError);
    const parsed = ClusterNameSchema.safeParse(name);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toContain('cluster name');
  });

  it('rejects non-strings', () => {
    expect(ClusterNameSchema.safeParse(42).error?.issues[0]?.message).toBe('cluster name must be a string');
  });
});
