import { describe, expect, it } from 'vitest';
import {
  decodeFieldsV1,
  encodeFieldsV1,
  leafFields,
  recordUpdate,
  type ManagedEntry,
} from './managed-fields.js';

describe('managed fields', () => {
  it('takes maps key by key and lists whole, leaving out server-set metadata, kind and status', () => {
    const fields = leafFields({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n', resourceVersion: '3', labels: { a: '1', b: '2' } },
      spec: { taints: [{ key: 'k', effect: 'NoSchedule' }], unschedulable: true },
      status: { phase: 'x' },
    });
    expect(fields).toEqual([
      ['metadata', 'labels', 'a'],
      ['metadata', 'labels', 'b'],
      ['spec', 'taints'],
      ['spec', 'unschedulable'],
    ]);
  });

  it('round-trips FieldsV1', () => {
    const fields = [
      ['metadata', 'labels', 'a'],
      ['spec', 'taints'],
    ];
    const encoded = encodeFieldsV1(fields);
    expect(encoded).toEqual({ 'f:metadata': { 'f:labels': { 'f:a': {} } }, 'f:spec': { 'f:taints': {} } });
    expect(decodeFieldsV1(encoded)).toEqual(fields);
  });

  it('gives an update the fields it changed, takes them from others, and forgets removed ones', () => {
    const entries: ManagedEntry[] = [
      {
        manager: 'a',
        operation: 'Apply',
        apiVersion: 'v1',
        time: 't0',
        fields: [
          ['metadata', 'labels', 'x'],
          ['metadata', 'labels', 'y'],
        ],
      },
    ];
    const before = { metadata: { name: 'n', labels: { x: '1', y: '1' } } };
    const after = { metadata: { name: 'n', labels: { x: '2', z: '1' } } };
    expect(recordUpdate(entries, before, after, 'b', 'v1', 't1')).toEqual([
      { manager: 'a', operation: 'Apply', apiVersion: 'v1', time: 't0', fields: [] },
      {
        manager: 'b',
        operation: 'Update',
        apiVersion: 'v1',
        time: 't1',
        fields: [
          ['metadata', 'labels', 'x'],
          ['metadata', 'labels', 'z'],
        ],
      },
    ]);
    expect(recordUpdate(entries, before, before, 'b', 'v1', 't1')).toEqual(entries);
  });
});
