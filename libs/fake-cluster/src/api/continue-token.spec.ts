import { describe, expect, it } from 'vitest';
import { ApiStatusError } from './api-status.js';
import { decodeContinue, encodeContinue } from './continue-token.js';

describe('continue tokens', () => {
  it.each([
    { resourceVersion: '1', startAfter: 'node-1' },
    { resourceVersion: '123456789', startAfter: 'kube-system/kube-proxy-abcde' },
    { resourceVersion: '42', startAfter: '' },
    { resourceVersion: '-1', startAfter: 'node-7' },
  ])('round-trips %j through an opaque base64url token', (p) => {
    const token = encodeContinue(p);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeContinue(token)).toEqual(p);
  });

  it.each([
    '',
    'not base64!',
    Buffer.from('not json').toString('base64url'),
    Buffer.from('null').toString('base64url'),
    Buffer.from('{"v":"knm1","rv":"abc","start":"x"}').toString('base64url'),
    Buffer.from('{"v":"other","rv":"1","start":"x"}').toString('base64url'),
    Buffer.from('{"v":"knm1","rv":"1"}').toString('base64url'),
    Buffer.from('{"v":"knm1","rv":"0","start":"x"}').toString('base64url'),
    Buffer.from('{"v":"knm1","rv":"-2","start":"x"}').toString('base64url'),
  ])('rejects %j with a 400 BadRequest Status', (token) => {
    let caught: unknown;
    try {
      decodeContinue(token);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiStatusError);
    expect((caught as ApiStatusError).code).toBe(400);
    expect((caught as ApiStatusError).status['reason']).toBe('BadRequest');
    expect((caught as ApiStatusError).message).toMatch(
      /^invalid continue token: continue key is not valid: /,
    );
  });
});
