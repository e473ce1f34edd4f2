import { describe, expect, it } from 'vitest';
import { jsonDepth } from './http-guards.js';
import { TrustProxy, TrustProxyError } from './trust-proxy.js';

describe('TrustProxy', () => {
  it('trusts loopback only by name: a forged X-Forwarded-For from another peer is ignored', () => {
    const trust = TrustProxy.parse('loopback');
    expect(trust.clientAddress('127.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    expect(trust.clientAddress('::ffff:127.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    expect(trust.clientAddress('::1', '203.0.113.9')).toBe('203.0.113.9');
    expect(trust.clientAddress('198.51.100.4', '203.0.113.9')).toBe('198.51.100.4');
    // A client that prepends its own entries through a trusted proxy only moves the start of the list.
    expect(trust.clientAddress('127.0.0.1', '1.2.3.4, 198.51.100.4')).toBe('198.51.100.4');
  });

  it('walks CIDR lists hop by hop, and counts hops', () => {
    const cidr = TrustProxy.parse('10.0.0.0/8, 192.168.1.1');
    expect(cidr.clientAddress('10.1.2.3', '203.0.113.9, 192.168.1.1')).toBe('203.0.113.9');
    expect(cidr.clientAddress('10.1.2.3', '203.0.113.9, 192.168.1.2')).toBe('192.168.1.2');
    const hops = TrustProxy.parse('1');
    expect(hops.clientAddress('8.8.8.8', '1.1.1.1, 2.2.2.2')).toBe('2.2.2.2');
    expect(TrustProxy.parse('none').clientAddress('127.0.0.1', '1.1.1.1')).toBe('127.0.0.1');
    expect(TrustProxy.parse('uniquelocal').trusts('172.20.0.5', 0)).toBe(true);
    expect(TrustProxy.parse('uniquelocal').trusts('172.32.0.5', 0)).toBe(false);
    expect(cidr.clientAddress(undefined, undefined)).toBe('unknown');
  });

  it('never trusts a peer without an address (its socket closed), and does not throw', () => {
    for (const spec of ['loopback', '10.0.0.0/8', 'none', '2']) {
      expect(TrustProxy.parse(spec).trusts(undefined, 0), spec).toBe(false);
    }
  });

  it.each(['everyone', '10.0.0.0/40', '10.0.0.0/x', '1.2.3'])('refuses %j', (spec) => {
    expect(() => TrustProxy.parse(spec)).toThrow(TrustProxyError);
  });
});

describe('jsonDepth', () => {
  it('measures nesting without recursion, and stops past the limit', () => {
    expect(jsonDepth(1, 5)).toBe(0);
    expect(jsonDepth({ a: [1, { b: {} }] }, 5)).toBe(4);
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepth(deep, 32)).toBe(33);
  });
});
