import { describe, expect, it } from 'vitest';
import { dns1123SubdomainErrors, labelValueErrors, qualifiedNameErrors } from './kube-validation.js';

describe('Kubernetes validation rules', () => {
  it.each([
    'env',
    'app.kubernetes.io/name',
    'node-role.kubernetes.io/control-plane',
    'A_b.c-D',
    'x'.repeat(63),
  ])('accepts the qualified name %j', (key) => expect(qualifiedNameErrors(key)).toEqual([]));

  it.each([
    ['', 'name part must not be empty'],
    ['a/b/c', "at most one '/'"],
    ['/env', 'prefix part must not be empty'],
    ['Example.com/env', 'prefix part must consist of lower case'],
    ['example.com/', 'name part must not be empty'],
    ['-env', 'name part must consist'],
    ['x'.repeat(64), 'no more than 63'],
    [`${'a'.repeat(254)}/x`, 'prefix part must be no more than 253'],
  ])('rejects the qualified name %j', (key, why) => {
    expect(qualifiedNameErrors(key).join(' ')).toContain(why);
  });

  it.each(['', 'prod', 'v1.2.3', 'A-b_c.D'])('accepts the label value %j', (v) =>
    expect(labelValueErrors(v)).toEqual([]),
  );
  it.each(['-x', 'x-', 'a b', 'x'.repeat(64), 'ü'])('rejects the label value %j', (v) =>
    expect(labelValueErrors(v).length).toBeGreaterThan(0),
  );

  it('checks node names as DNS-1123 subdomains', () => {
    expect(dns1123SubdomainErrors('ip-10-0-3-17.eu-west-1.compute.internal')).toEqual([]);
    expect(dns1123SubdomainErrors('Node_1').length).toBeGreaterThan(0);
    expect(dns1123SubdomainErrors('a..b').length).toBeGreaterThan(0);
  });
});
