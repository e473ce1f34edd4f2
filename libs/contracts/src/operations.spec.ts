import { describe, expect, it } from 'vitest';
import { decode, ContractError } from './contract-error.js';
import { Keyspace } from './redis-keys.js';
import { toClusterName } from './cluster-name.js';
import {
  AuditQuerySchema,
  clusterOfOperationId,
  CreateOperationRequestSchema,
  OperationSchema,
  operationId,
  operationKeys,
  type Operation,
} from './operations.js';

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    decode(CreateOperationRequestSchema, input, 'operation request');
  } catch (err) {
    if (err instanceof ContractError) return [...err.issues];
    throw err;
  }
  return [];
}

describe('CreateOperationRequestSchema', () => {
  it.each([
    { action: 'label', nodes: ['n1'], params: { labels: { env: 'prod', 'example.com/tier': '' } } },
    { action: 'unlabel', selector: 'env=prod', params: { keys: ['env'] } },
    {
      action: 'taint',
      nodes: ['n1', 'n2'],
      params: { taints: [{ key: 'gpu', value: 'x', effect: 'NoSchedule' }] },
    },
    { action: 'untaint', nodes: ['n1'], params: { taints: [{ key: 'gpu' }] } },
    { action: 'cordon', nodes: ['n1'], reason: 'kernel upgrade' },
    { action: 'uncordon', nodes: ['n1'], params: {} },
    { action: 'drain', nodes: ['n1'], params: { gracePeriodSeconds: 5, timeoutSeconds: 60 }, dryRun: true },
    { action: 'cordon', all: true, dryRun: true },
    { action: 'drain', all: true, params: { includeControlPlane: true } },
  ])('accepts %j', (input) => {
    expect(issuesOf(input)).toEqual([]);
  });

  it('applies defaults: drain timeout, cordon params', () => {
    const drain = CreateOperationRequestSchema.parse({ action: 'drain', nodes: ['n1'] });
    expect(drain.params).toEqual({ timeoutSeconds: 300 });
    const cordon = CreateOperationRequestSchema.parse({ action: 'cordon', nodes: ['n1'] });
    expect(cordon.params).toEqual({});
  });

  it.each([
    [
      { action: 'label', nodes: ['n1'], params: { labels: { 'bad key!': 'v' } } },
      'params.labels.bad key!',
      /label key "bad key!"/,
    ],
    [
      { action: 'label', nodes: ['n1'], params: { labels: { env: 'x'.repeat(64) } } },
      'params.labels.env',
      /63 characters/,
    ],
    [
      { action: 'label', nodes: ['n1'], params: { labels: { env: '-x' } } },
      'params.labels.env',
      /value "-x"/,
    ],
    [{ action: 'label', nodes: ['n1'], params: { labels: {} } }, 'params.labels', /at least one label/],
    [{ action: 'unlabel', nodes: ['n1'], params: { keys: ['a/b/c'] } }, 'params.keys.0', /at most one '\/'/],
    [
      { action: 'taint', nodes: ['n1'], params: { taints: [{ key: 'k', effect: 'Sometimes' }] } },
      'params.taints.0.effect',
      /effect must be one of/,
    ],
    [
      {
        action: 'taint',
        nodes: ['n1'],
        params: { taints: [{ key: 'k', value: 'a b', effect: 'NoSchedule' }] },
      },
      'params.taints.0.value',
      /value "a b"/,
    ],
    [
      { action: 'taint', nodes: ['n1'], params: { taints: [{ key: '', effect: 'NoSchedule' }] } },
      'params.taints.0.key',
      /name part must not be empty/,
    ],
    [{ action: 'cordon', nodes: ['Node_1'] }, 'nodes.0', /node name "Node_1"/],
    [{ action: 'cordon', nodes: ['n1', 'n1'] }, 'nodes.1', /listed twice/],
    [{ action: 'cordon' }, 'nodes', /one of nodes .* selector, or all: true/],
    [{ action: 'cordon', nodes: ['n1'], selector: 'a=b' }, 'selector', /only one of/],
    [{ action: 'cordon', selector: '', dryRun: true }, 'selector', /empty selector .* all: true/],
    [{ action: 'drain', selector: '  ' }, 'selector', /empty selector/],
    [{ action: 'cordon', selector: 'a=b', all: true }, 'all', /only one of/],
    [{ action: 'cordon', all: false }, 'all', /all must be true/],
    [{ action: 'cordon', selector: 'a in (b' }, 'selector', /selector:/],
    [{ action: 'explode', nodes: ['n1'] }, 'action', /action must be one of/],
    [
      { action: 'drain', nodes: ['n1'], params: { timeoutSeconds: 0 } },
      'params.timeoutSeconds',
      /at least 1/,
    ],
    [{ action: 'cordon', nodes: ['n1'], params: { reason: 'x' } }, 'params', /reason/],
  ])('rejects %j at %s', (input, path, message) => {
    const issues = issuesOf(input);
    const issue = issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue?.message ?? '').toMatch(message);
  });
});

describe('operation ids', () => {
  it('carry their cluster', () => {
    const id = operationId(toClusterName('prod-eu'), '0b7f6c1e-9a7d-4c2b-8f5e-2f1d3c4b5a69');
    expect(id).toBe('prod-eu.0b7f6c1e-9a7d-4c2b-8f5e-2f1d3c4b5a69');
    expect(clusterOfOperationId(id)).toBe('prod-eu');
    expect(clusterOfOperationId('prod-eu.not-a-uuid')).toBeUndefined();
    expect(clusterOfOperationId('../etc')).toBeUndefined();
  });

  it('keys share the cluster hash tag', () => {
    const keys = operationKeys(new Keyspace('knm'), toClusterName('dev'));
    expect(keys.queuePrefix).toBe('knm:{dev}');
    expect(keys.index).toBe('knm:{dev}:opx');
    expect(keys.operation('dev.x')).toBe('knm:{dev}:op:dev.x');
    expect(keys.results('dev.x')).toBe('knm:{dev}:op:dev.x:results');
  });
});

describe('OperationSchema', () => {
  it('round-trips an operation', () => {
    const op: Operation = {
      id: 'dev.0b7f6c1e-9a7d-4c2b-8f5e-2f1d3c4b5a69',
      cluster: toClusterName('dev'),
      action: 'taint',
      params: { taints: [{ key: 'gpu', effect: 'NoSchedule' }] },
      nodes: ['n1'],
      state: 'running',
      progress: { done: 0, total: 1 },
      results: [{ node: 'n1', status: 'running' }],
      createdBy: 'alice',
      createdAt: '2026-11-22T17:00:00.000Z',
    };
    expect(OperationSchema.parse(JSON.parse(JSON.stringify(op)))).toEqual(op);
  });
});

describe('AuditQuerySchema', () => {
  it('decodes filters and rejects bad times', () => {
    expect(AuditQuerySchema.parse({ cluster: 'dev', limit: '5' })).toEqual({ cluster: 'dev', limit: 5 });
    expect(AuditQuerySchema.safeParse({ since: 'yesterday' }).success).toBe(false);
    expect(AuditQuerySchema.safeParse({ action: 'reboot' }).success).toBe(false);
  });
});
