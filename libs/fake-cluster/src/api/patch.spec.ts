import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from './kube-object.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, jsonEqual, PatchError } from './patch.js';

function node(): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: 'n1',
      labels: { 'kubernetes.io/hostname': 'n1', env: 'dev' },
      finalizers: ['a'],
    },
    spec: {
      podCIDR: '10.0.1.0/24',
      podCIDRs: ['10.0.1.0/24'],
      taints: [
        { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        { key: 'spot', effect: 'PreferNoSchedule' },
      ],
    },
    status: {
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: '2026-01-01T00:00:00Z' },
      ],
      addresses: [
        { type: 'InternalIP', address: '10.0.0.1' },
        { type: 'Hostname', address: 'n1' },
      ],
    },
  };
}

function pod(): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'p',
      namespace: 'default',
      ownerReferences: [{ kind: 'ReplicaSet', name: 'rs', uid: 'u1' }],
    },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'app:1',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
          ports: [{ containerPort: 80, protocol: 'TCP' }],
        },
        { name: 'sidecar', image: 'side:1' },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
      tolerations: [{ key: 'x', operator: 'Exists' }],
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/** Runs `apply` and checks the input was left untouched. */
function pure<T extends JsonValue>(input: T, apply: (input: T) => JsonValue): JsonValue {
  const before = structuredClone(input);
  const out = apply(input);
  expect(input).toEqual(before);
  return out;
}

function thrown(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PatchError);
    return err as PatchError;
  }
  throw new Error('expected a PatchError');
}

describe('applyMergePatch (RFC 7386)', () => {
  it.each<[string, JsonValue, JsonValue, JsonValue]>([
    [
      'adds a label (kubectl label)',
      { metadata: { labels: { a: '1' } } },
      { metadata: { labels: { env: 'prod' } } },
      { metadata: { labels: { a: '1', env: 'prod' } } },
    ],
    [
      'removes a label with null',
      { metadata: { labels: { a: '1', env: 'x' } } },
      { metadata: { labels: { env: null } } },
      { metadata: { labels: { a: '1' } } },
    ],
    ['replaces arrays', { a: [1, 2, 3] }, { a: [4] }, { a: [4] }],
    ['creates nested objects without nulls', { a: 1 }, { b: { c: null, d: 1 } }, { a: 1, b: { d: 1 } }],
    ['replaces a non-object target', { a: 'x' }, { a: { b: 1 } }, { a: { b: 1 } }],
    ['a non-object patch replaces the document', { a: 1 }, [1], [1]],
    ['deleting a missing key is a no-op', { a: 1 }, { b: null }, { a: 1 }],
    [
      'RFC 7386 example',
      {
        title: 'Goodbye!',
        author: { givenName: 'John', familyName: 'Doe' },
        tags: ['example', 'sample'],
        content: 'x',
      },
      { title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null }, tags: ['example'] },
      {
        title: 'Hello!',
        author: { givenName: 'John' },
        tags: ['example'],
        content: 'x',
        phoneNumber: '+01-123-456-7890',
      },
    ],
  ])('%s', (_name, target, patch, expected) => {
    expect(pure(target, (t) => applyMergePatch(t, patch))).toEqual(expected);
  });

  it('shares nothing with the patch', () => {
    const patch = { a: { b: [1] } };
    const out = applyMergePatch({}, patch) as { a: { b: number[] } };
    out.a.b.push(2);
    expect(patch.a.b).toEqual([1]);
  });
});

describe('applyJsonPatch (RFC 6902)', () => {
  const doc = { a: { b: 1, 'x/y': 2, 'm~n': 3 }, list: [1, 2, 3] };
  it.each<[string, JsonValue, JsonValue]>([
    ['add to an object', [{ op: 'add', path: '/a/c', value: 9 }], { ...doc, a: { ...doc.a, c: 9 } }],
    ['add inserts into an array', [{ op: 'add', path: '/list/1', value: 9 }], { ...doc, list: [1, 9, 2, 3] }],
    ['add with - appends', [{ op: 'add', path: '/list/-', value: 9 }], { ...doc, list: [1, 2, 3, 9] }],
    ['remove', [{ op: 'remove', path: '/list/0' }], { ...doc, list: [2, 3] }],
    [
      'replace with ~1 escape',
      [{ op: 'replace', path: '/a/x~1y', value: 0 }],
      { ...doc, a: { ...doc.a, 'x/y': 0 } },
    ],
    ['remove with ~0 escape', [{ op: 'remove', path: '/a/m~0n' }], { ...doc, a: { b: 1, 'x/y': 2 } }],
    [
      'move',
      [{ op: 'move', from: '/a/b', path: '/moved' }],
      { a: { 'x/y': 2, 'm~n': 3 }, list: [1, 2, 3], moved: 1 },
    ],
    ['copy', [{ op: 'copy', from: '/list', path: '/a/list' }], { ...doc, a: { ...doc.a, list: [1, 2, 3] } }],
    [
      'test then replace',
      [
        { op: 'test', path: '/a/b', value: 1 },
        { op: 'replace', path: '/a/b', value: 2 },
      ],
      { ...doc, a: { ...doc.a, b: 2 } },
    ],
    ['replace the whole document', [{ op: 'replace', path: '', value: { z: 1 } }], { z: 1 }],
    [
      'add a label key with a slash',
      [{ op: 'add', path: '/a/kubernetes.io~1role', value: 'x' }],
      { ...doc, a: { ...doc.a, 'kubernetes.io/role': 'x' } },
    ],
  ])('%s', (_name, ops, expected) => {
    expect(pure(doc, (d) => applyJsonPatch(d, ops))).toEqual(expected);
  });

  it.each<[string, JsonValue, 'decode' | 'apply']>([
    ['a failed test', [{ op: 'test', path: '/a/b', value: 2 }], 'apply'],
    ['a missing path', [{ op: 'remove', path: '/nope' }], 'apply'],
    ['replace of a missing path', [{ op: 'replace', path: '/a/nope', value: 1 }], 'apply'],
    ['an index out of bounds', [{ op: 'add', path: '/list/4', value: 1 }], 'apply'],
    ['a move into its own child', [{ op: 'move', from: '/a', path: '/a/b/c' }], 'apply'],
    ['an unknown op', [{ op: 'frob', path: '/a' }], 'decode'],
    ['a non-array document', { op: 'add' }, 'decode'],
    ['a pointer without a slash', [{ op: 'add', path: 'a', value: 1 }], 'decode'],
    ['add without value', [{ op: 'add', path: '/a/z' }], 'decode'],
  ])('rejects %s', (_name, ops, phase) => {
    expect(thrown(() => applyJsonPatch(doc, ops)).phase).toBe(phase);
  });

  it('applies nothing when a later operation fails', () => {
    const before = structuredClone(doc);
    thrown(() =>
      applyJsonPatch(doc, [
        { op: 'add', path: '/z', value: 1 },
        { op: 'test', path: '/z', value: 2 },
      ]),
    );
    expect(doc).toEqual(before);
  });
});

describe('applyStrategicMergePatch', () => {
  type Case = [string, () => JsonObject, JsonObject, 'Node' | 'Pod' | 'Namespace', (out: JsonObject) => void];
  const at = (o: JsonValue | undefined, ...path: (string | number)[]): JsonValue | undefined =>
    path.reduce<JsonValue | undefined>(
      (v, k) => (v === undefined || v === null ? undefined : (v as Record<string | number, JsonValue>)[k]),
      o,
    );

  it.each<Case>([
    [
      'cordon (kubectl body)',
      node,
      { spec: { unschedulable: true } },
      'Node',
      (o) => expect(at(o, 'spec', 'unschedulable')).toBe(true),
    ],
    [
      'uncordon deletes the field (kubectl body)',
      () => ({ ...node(), spec: { unschedulable: true } }),
      { spec: { unschedulable: null } },
      'Node',
      (o) => expect(o['spec']).toEqual({}),
    ],
    [
      'taint replaces the whole list (kubectl body)',
      node,
      {
        spec: {
          taints: [
            { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
            { key: 'k', value: 'v', effect: 'NoExecute' },
          ],
        },
      },
      'Node',
      (o) =>
        expect(at(o, 'spec', 'taints')).toEqual([
          { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
          { key: 'k', value: 'v', effect: 'NoExecute' },
        ]),
    ],
    [
      'removing one taint sends the shorter list',
      node,
      { spec: { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] } },
      'Node',
      (o) => expect(at(o, 'spec', 'taints')).toEqual([{ key: 'spot', effect: 'PreferNoSchedule' }]),
    ],
    [
      'removing the last taint (kubectl body)',
      node,
      { spec: { taints: null } },
      'Node',
      (o) => expect(at(o, 'spec')).toEqual({ podCIDR: '10.0.1.0/24', podCIDRs: ['10.0.1.0/24'] }),
    ],
    [
      'labels merge and null deletes',
      node,
      { metadata: { labels: { env: null, tier: 'web' } } },
      'Node',
      (o) => expect(at(o, 'metadata', 'labels')).toEqual({ 'kubernetes.io/hostname': 'n1', tier: 'web' }),
    ],
    [
      'conditions merge by type',
      node,
      { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }] } },
      'Node',
      (o) =>
        expect(at(o, 'status', 'conditions')).toEqual([
          { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' },
          {
            type: 'Ready',
            status: 'False',
            reason: 'KubeletNotReady',
            lastHeartbeatTime: '2026-01-01T00:00:00Z',
          },
        ]),
    ],
    [
      'a new condition type is appended',
      node,
      { status: { conditions: [{ type: 'DiskPressure', status: 'False' }] } },
      'Node',
      (o) =>
        expect((at(o, 'status', 'conditions') as JsonValue[]).map((c) => at(c, 'type'))).toEqual([
          'MemoryPressure',
          'Ready',
          'DiskPressure',
        ]),
    ],
    [
      'addresses merge by type',
      node,
      {
        status: {
          addresses: [
            { type: 'ExternalIP', address: '1.2.3.4' },
            { type: 'InternalIP', address: '10.0.0.9' },
          ],
        },
      },
      'Node',
      (o) =>
        expect(at(o, 'status', 'addresses')).toEqual([
          { type: 'InternalIP', address: '10.0.0.9' },
          { type: 'Hostname', address: 'n1' },
          { type: 'ExternalIP', address: '1.2.3.4' },
        ]),
    ],
    [
      '$patch: delete removes one element by key',
      node,
      { status: { conditions: [{ type: 'MemoryPressure', $patch: 'delete' }] } },
      'Node',
      (o) =>
        expect((at(o, 'status', 'conditions') as JsonValue[]).map((c) => at(c, 'type'))).toEqual(['Ready']),
    ],
    [
      '$patch: replace in a list replaces it',
      node,
      { status: { addresses: [{ $patch: 'replace' }, { type: 'Hostname', address: 'h' }] } },
      'Node',
      (o) => expect(at(o, 'status', 'addresses')).toEqual([{ type: 'Hostname', address: 'h' }]),
    ],
    [
      '$patch: replace on a map replaces it',
      node,
      { metadata: { labels: { $patch: 'replace', only: 'me' } } },
      'Node',
      (o) => expect(at(o, 'metadata', 'labels')).toEqual({ only: 'me' }),
    ],
    [
      '$patch: delete on a map deletes it',
      node,
      { metadata: { labels: { $patch: 'delete' } } },
      'Node',
      (o) => expect(at(o, 'metadata', 'labels')).toBeUndefined(),
    ],
    [
      'finalizers merge as a set (patchStrategy merge)',
      node,
      { metadata: { finalizers: ['b', 'a'] } },
      'Node',
      (o) => expect(at(o, 'metadata', 'finalizers')).toEqual(['a', 'b']),
    ],
    [
      '$deleteFromPrimitiveList removes finalizers',
      node,
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
      'Node',
      (o) => expect(at(o, 'metadata', 'finalizers')).toEqual([]),
    ],
    [
      '$setElementOrder orders merged elements',
      node,
      {
        status: {
          '$setElementOrder/conditions': [{ type: 'Ready' }, { type: 'MemoryPressure' }],
          conditions: [{ type: 'Ready', status: 'Unknown' }],
        },
      },
      'Node',
      (o) =>
        expect((at(o, 'status', 'conditions') as JsonValue[]).map((c) => at(c, 'status'))).toEqual([
          'Unknown',
          'False',
        ]),
    ],
    [
      'containers merge by name, env by name, ports by containerPort',
      pod,
      {
        spec: {
          containers: [
            {
              name: 'app',
              image: 'app:2',
              env: [
                { name: 'B', value: '3' },
                { name: 'C', value: '4' },
              ],
              ports: [{ containerPort: 80, name: 'http' }],
            },
          ],
        },
      },
      'Pod',
      (o) => {
        expect(at(o, 'spec', 'containers', 0)).toEqual({
          name: 'app',
          image: 'app:2',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '3' },
            { name: 'C', value: '4' },
          ],
          ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }],
        });
        expect(at(o, 'spec', 'containers', 1)).toEqual({ name: 'sidecar', image: 'side:1' });
      },
    ],
    [
      'volumes merge by name',
      pod,
      { spec: { volumes: [{ name: 'cache', emptyDir: {} }] } },
      'Pod',
      (o) =>
        expect((at(o, 'spec', 'volumes') as JsonValue[]).map((v) => at(v, 'name'))).toEqual([
          'data',
          'cache',
        ]),
    ],
    [
      '$retainKeys drops the other keys',
      pod,
      { spec: { volumes: [{ name: 'data', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/x' } }] } },
      'Pod',
      (o) => expect(at(o, 'spec', 'volumes')).toEqual([{ name: 'data', hostPath: { path: '/x' } }]),
    ],
    [
      'tolerations replace atomically',
      pod,
      { spec: { tolerations: [{ key: 'y', operator: 'Exists' }] } },
      'Pod',
      (o) => expect(at(o, 'spec', 'tolerations')).toEqual([{ key: 'y', operator: 'Exists' }]),
    ],
    [
      'ownerReferences merge by uid',
      pod,
      { metadata: { ownerReferences: [{ kind: 'Job', name: 'j', uid: 'u2' }] } },
      'Pod',
      (o) =>
        expect((at(o, 'metadata', 'ownerReferences') as JsonValue[]).map((r) => at(r, 'uid'))).toEqual([
          'u1',
          'u2',
        ]),
    ],
    [
      'pod status conditions merge by type',
      pod,
      { status: { phase: 'Succeeded', conditions: [{ type: 'Ready', status: 'False' }] } },
      'Pod',
      (o) =>
        expect(o['status']).toEqual({ phase: 'Succeeded', conditions: [{ type: 'Ready', status: 'False' }] }),
    ],
  ])('%s', (_name, make, patch, kind, check) => {
    const target = make();
    const out = pure(target, (t) => applyStrategicMergePatch(t, patch, kind)) as JsonObject;
    check(out);
  });

  it('rejects an element without its merge key', () => {
    expect(
      thrown(() => applyStrategicMergePatch(node(), { status: { conditions: [{ status: 'True' }] } }, 'Node'))
        .message,
    ).toContain('does not contain declared merge key: type');
  });

  it('rejects an unknown $patch directive as undecodable', () => {
    expect(thrown(() => applyStrategicMergePatch(node(), { spec: { $patch: 'frob' } }, 'Node')).phase).toBe(
      'decode',
    );
  });

  it('shares nothing with target or patch', () => {
    const target = node();
    const patch: JsonObject = { spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] } };
    const out = applyStrategicMergePatch(target, patch, 'Node');
    (at(out, 'spec', 'taints') as JsonObject[]).push({ key: 'b' });
    (at(out, 'status', 'conditions') as JsonObject[]).pop();
    expect(at(patch, 'spec', 'taints')).toEqual([{ key: 'a', effect: 'NoSchedule' }]);
    expect(at(target, 'status', 'conditions')).toHaveLength(2);
  });
});

describe('jsonEqual', () => {
  it.each<[JsonValue, JsonValue, boolean]>([
    [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
    [{ a: 1 }, { a: 1, b: null }, false],
    [[1, 2], [2, 1], false],
    [null, null, true],
    ['1', 1, false],
  ])('%j vs %j is %s', (a, b, expected) => expect(jsonEqual(a, b)).toBe(expected));
});
