import { describe, expect, it } from 'vitest';
import { RoleMap, RoleMapParseError } from './role-map.js';

const map = RoleMap.parse(
  'sre=admin:*; team-a=operator:dev,staging; auditors=viewer:prod; team-b=operator:prod',
);

describe('RoleMap', () => {
  it('maps a group to its role and clusters', () => {
    expect(map.resolve(['team-a'])).toEqual({ role: 'operator', clusters: ['dev', 'staging'] });
    expect(map.resolve(['sre', 'team-a'])).toEqual({ role: 'admin', clusters: '*' });
    expect(map.resolve(['auditors'])).toEqual({ role: 'viewer', clusters: ['prod'] });
  });

  it('gives the highest role on the clusters of the rules granting it, never a lower role raised', () => {
    expect(map.resolve(['team-a', 'team-b'])).toEqual({
      role: 'operator',
      clusters: ['dev', 'prod', 'staging'],
    });
    expect(map.resolve(['team-a', 'auditors'])).toEqual({ role: 'operator', clusters: ['dev', 'staging'] });
  });

  it('gives nothing to a person without a mapped group', () => {
    expect(map.resolve([])).toBeUndefined();
    expect(map.resolve(['everyone', 'SRE'])).toBeUndefined();
  });

  it.each([
    ['', /no rule/],
    ['sre', /group=role:clusters/],
    ['sre=root:*', /role must be one of viewer, operator, admin/],
    ['sre=admin:Prod_1', /"Prod_1" is not a cluster name/],
  ])('refuses %j', (text, message) => {
    expect(() => RoleMap.parse(text)).toThrow(RoleMapParseError);
    expect(() => RoleMap.parse(text)).toThrow(message);
  });
});
