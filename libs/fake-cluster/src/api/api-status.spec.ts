import { describe, expect, it } from 'vitest';
import { ApiStatusError, OPTIMISTIC_LOCK_MESSAGE, statusErrors, successStatus } from './api-status.js';

describe('statusErrors', () => {
  it('builds NotFound exactly like the API server (the shape KUBECTL-WIRE.md shows)', () => {
    const err = statusErrors.notFound('nodes', 'x');
    expect(err).toBeInstanceOf(ApiStatusError);
    expect(err.name).toBe('ApiStatusError');
    expect(err.code).toBe(404);
    expect(err.reason).toBe('NotFound');
    expect(JSON.stringify(err.status)).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"nodes \\"x\\" not found","reason":"NotFound","details":{"name":"x","kind":"nodes"},"code":404}',
    );
  });

  it('qualifies grouped resources', () => {
    expect(statusErrors.notFound('daemonsets', 'kube-proxy', 'apps').status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'daemonsets.apps "kube-proxy" not found',
      reason: 'NotFound',
      details: { name: 'kube-proxy', group: 'apps', kind: 'daemonsets' },
      code: 404,
    });
  });

  it.each([
    [statusErrors.alreadyExists('nodes', 'n1'), 409, 'AlreadyExists', 'nodes "n1" already exists'],
    [
      statusErrors.conflict('nodes', 'n1', OPTIMISTIC_LOCK_MESSAGE),
      409,
      'Conflict',
      'Operation cannot be fulfilled on nodes "n1": the object has been modified; please apply your changes to the latest version and try again',
    ],
    [statusErrors.badRequest('bad'), 400, 'BadRequest', 'bad'],
    [
      statusErrors.expired('too old resource version: 1 (5)'),
      410,
      'Expired',
      'too old resource version: 1 (5)',
    ],
    [statusErrors.tooManyRequests('slow down', 3), 429, 'TooManyRequests', 'slow down'],
    [
      statusErrors.methodNotSupported('namespaces', 'update'),
      405,
      'MethodNotAllowed',
      'update is not supported on resources of kind "namespaces"',
    ],
    [
      statusErrors.unsupportedMediaType('text/plain'),
      415,
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json',
    ],
    [statusErrors.internal('boom'), 500, 'InternalError', 'Internal error occurred: boom'],
    [statusErrors.serviceUnavailable('down'), 503, 'ServiceUnavailable', 'down'],
    [statusErrors.unauthorized(), 401, 'Unauthorized', 'Unauthorized'],
    [
      statusErrors.resourceVersionTooLarge(90, 42),
      504,
      'Timeout',
      'Too large resource version: 90, current: 42',
    ],
  ])('%# answers %i %s', (err, code, reason, message) => {
    expect(err.code).toBe(code);
    expect(err.status['code']).toBe(code);
    expect(err.status['reason']).toBe(reason);
    expect(err.status['status']).toBe('Failure');
    expect(err.status['message']).toBe(message);
    expect(err.message).toBe(message);
  });

  it('puts retryAfterSeconds in the details of a 429 and leaves details out when absent', () => {
    expect(statusErrors.tooManyRequests('x', 3).status['details']).toEqual({ retryAfterSeconds: 3 });
    expect('details' in statusErrors.tooManyRequests('x').status).toBe(false);
    expect('details' in statusErrors.badRequest('x').status).toBe(false);
  });

  it('builds Invalid with causes and the aggregated message', () => {
    const one = statusErrors.invalid('Node', 'n1', [
      { reason: 'FieldValueNotSupported', field: 'spec.taints[0].effect', message: 'Unsupported value: "X"' },
    ]);
    expect(one.code).toBe(422);
    expect(one.status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Node "n1" is invalid: spec.taints[0].effect: Unsupported value: "X"',
      reason: 'Invalid',
      details: {
        name: 'n1',
        kind: 'Node',
        causes: [
          {
            reason: 'FieldValueNotSupported',
            message: 'Unsupported value: "X"',
            field: 'spec.taints[0].effect',
          },
        ],
      },
      code: 422,
    });
    const two = statusErrors.invalid('Node', 'n1', [
      { field: 'a', message: 'Required value' },
      { field: 'b', message: 'Invalid value: 1' },
    ]);
    expect(two.message).toBe('Node "n1" is invalid: [a: Required value, b: Invalid value: 1]');
  });
});

describe('successStatus', () => {
  it('is a Success Status with optional details', () => {
    expect(successStatus()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
    expect(successStatus({ name: 'p', kind: 'pods' })['details']).toEqual({ name: 'p', kind: 'pods' });
  });
});
