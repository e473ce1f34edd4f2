import { describe, expect, it } from 'vitest';
import { ALL_CLUSTERS, AuthClaimsSchema, clustersAllow, roleAtLeast } from './auth-claims.js';
import { SubscribeAckSchema, SubscribeMessageSchema, UnsubscribeMessageSchema } from './realtime-messages.js';
import { NodeListQuerySchema, ErrorBodySchema } from './rest-api.js';
import { NodesRouteQuerySchema } from './fleet-nodes.js';

describe('realtime messages', () => {
  it.each([
    [{ cluster: 'dev' }, true],
    [{ cluster: 'dev', sinceSeq: 0 }, true],
    [{ cluster: 'dev', sinceSeq: 42 }, true],
    [{ cluster: 'dev', sinceSeq: -1 }, false],
    [{ cluster: 'dev', sinceSeq: 1.5 }, false],
    [{ cluster: 'Dev' }, false],
    [{ cluster: 'dev', extra: true }, false],
    [{ cluster: 'dev', sinceSeq: 3, encoding: 'deflate' }, true],
    [{ cluster: 'dev', encoding: 'gzip' }, false],
    [{}, false],
    ['dev', false],
  ])('subscribe %j valid: %s', (message, valid) => {
    expect(SubscribeMessageSchema.safeParse(message).success).toBe(valid);
  });

  it('unsubscribe needs a cluster name', () => {
    expect(UnsubscribeMessageSchema.safeParse({ cluster: 'prod' }).success).toBe(true);
    expect(UnsubscribeMessageSchema.safeParse({ cluster: '' }).success).toBe(false);
  });

  it('acks are either ok with a seq or an error with a known code', () => {
    expect(SubscribeAckSchema.parse({ ok: true, seq: 3 })).toEqual({ ok: true, seq: 3 });
    expect(SubscribeAckSchema.parse({ ok: false, error: { code: 'forbidden', message: 'm' } }).ok).toBe(
      false,
    );
    expect(SubscribeAckSchema.safeParse({ ok: false, error: { code: 'teapot', message: 'm' } }).success).toBe(
      false,
    );
  });
});

describe('auth claims', () => {
  it.each([
    [{ sub: 'a', role: 'viewer', clusters: '*' }, true],
    [{ sub: 'a', role: 'admin', clusters: ['dev', '*'] }, true],
    [{ sub: 'a', role: 'operator', clusters: [] }, true],
    [{ sub: '', role: 'viewer', clusters: '*' }, false],
    [{ sub: 'a', role: 'root', clusters: '*' }, false],
    [{ sub: 'a', role: 'viewer', clusters: ['Not_Valid'] }, false],
    [{ sub: 'a', role: 'viewer' }, false],
  ])('%j valid: %s', (claims, valid) => {
    expect(AuthClaimsSchema.safeParse(claims).success).toBe(valid);
  });

  it('clustersAllow and roleAtLeast', () => {
    expect(clustersAllow(ALL_CLUSTERS, 'x')).toBe(true);
    expect(clustersAllow(['dev' as never], 'dev')).toBe(true);
    expect(clustersAllow(['dev' as never], 'prod')).toBe(false);
    expect(clustersAllow(['*'], 'prod')).toBe(true);
    expect(roleAtLeast('admin', 'operator')).toBe(true);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
  });
});

describe('REST query schemas', () => {
  it('applies defaults and coerces', () => {
    expect(NodeListQuerySchema.parse({ limit: '5', schedulable: 'true' })).toEqual({
      limit: 5,
      schedulable: true,
      sort: 'name',
      order: 'asc',
    });
  });

  it('GET /api/v1/nodes takes an optional cluster_name (absent: the fleet list)', () => {
    expect(NodesRouteQuerySchema.parse({}).cluster_name).toBeUndefined();
    expect(NodesRouteQuerySchema.parse({ cluster_name: 'dev' }).cluster_name).toBe('dev');
    expect(NodesRouteQuerySchema.safeParse({ cluster_name: 'Not_A_Name' }).success).toBe(false);
  });

  it('error bodies carry status, name, message and optional details', () => {
    expect(
      ErrorBodySchema.safeParse({
        statusCode: 400,
        error: 'Bad Request',
        message: 'm',
        details: [{ path: 'limit', message: 'x' }],
      }).success,
    ).toBe(true);
    expect(ErrorBodySchema.safeParse({ statusCode: 400, message: 'm' }).success).toBe(false);
  });
});
