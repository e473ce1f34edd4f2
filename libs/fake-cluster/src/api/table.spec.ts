import { describe, expect, it } from 'vitest';
import { ApiStatusError } from './api-status.js';
import type { JsonObject, KubeObject } from './kube-object.js';
import { negotiateTable, parseIncludeObject, toTable, wantsTable } from './table.js';

const now = new Date('2026-11-22T12:00:00Z');
const created = '2026-11-20T09:00:00Z'; // 2d3h before now

function node(
  name: string,
  over: { ready?: string; unschedulable?: boolean; labels?: Record<string, string>; external?: boolean } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: `uid-${name}`,
      resourceVersion: '7',
      creationTimestamp: created,
      labels: over.labels ?? {},
    },
    spec: over.unschedulable ? { unschedulable: true } : {},
    status: {
      conditions:
        over.ready === undefined
          ? []
          : [
              { type: 'MemoryPressure', status: 'False' },
              { type: 'Ready', status: over.ready },
            ],
      addresses: [
        { type: 'Hostname', address: name },
        { type: 'InternalIP', address: '10.0.0.5' },
        ...(over.external ? [{ type: 'ExternalIP', address: '34.1.2.3' }] : []),
      ],
      nodeInfo: {
        kubeletVersion: 'v1.32.4',
        osImage: 'Ubuntu 22.04.4 LTS',
        kernelVersion: '5.15.0-1057-aws',
        containerRuntimeVersion: 'containerd://1.7.22',
      },
    },
  };
}

function pod(
  name: string,
  over: Partial<{
    phase: string;
    nodeName: string;
    deleting: boolean;
    statuses: JsonObject[];
    containers: number;
    ip: string;
  }> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      resourceVersion: '9',
      creationTimestamp: '2026-11-22T11:59:55Z',
      ...(over.deleting ? { deletionTimestamp: '2026-11-22T12:00:00Z' } : {}),
    },
    spec: {
      containers: Array.from({ length: over.containers ?? 1 }, (_, i) => ({ name: `c${i}`, image: 'x' })),
      ...(over.nodeName ? { nodeName: over.nodeName } : {}),
    },
    status: {
      phase: over.phase ?? 'Running',
      ...(over.ip ? { podIP: over.ip, podIPs: [{ ip: over.ip }] } : {}),
      containerStatuses: over.statuses ?? [
        { name: 'c0', ready: true, restartCount: 0, state: { running: { startedAt: created } } },
      ],
    },
  };
}

const cellsOf = (table: JsonObject) => (table['rows'] as JsonObject[]).map((r) => r['cells']);

describe('toTable for nodes', () => {
  it('prints the columns and cells kubectl shows for get nodes (-o wide)', () => {
    const table = toTable(
      'Node',
      [
        node('cp-1', { ready: 'True', labels: { 'node-role.kubernetes.io/control-plane': '' } }),
        node('w-1', { ready: 'False', unschedulable: true, external: true }),
        node('w-2', {
          ready: 'Unknown',
          labels: { 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/gpu': 'true' },
        }),
        node('w-3'),
      ],
      { resourceVersion: '42', includeObject: 'Metadata', now },
    );
    expect(table['kind']).toBe('Table');
    expect(table['apiVersion']).toBe('meta.k8s.io/v1');
    expect(table['metadata']).toEqual({ resourceVersion: '42' });
    const columns = table['columnDefinitions'] as JsonObject[];
    expect(columns.map((c) => [c['name'], c['priority']])).toEqual([
      ['Name', 0],
      ['Status', 0],
      ['Roles', 0],
      ['Age', 0],
      ['Version', 0],
      ['Internal-IP', 1],
      ['External-IP', 1],
      ['OS-Image', 1],
      ['Kernel-Version', 1],
      ['Container-Runtime', 1],
    ]);
    expect(columns[0]).toMatchObject({ type: 'string', format: 'name' });
    expect(cellsOf(table)).toEqual([
      [
        'cp-1',
        'Ready',
        'control-plane',
        '2d3h',
        'v1.32.4',
        '10.0.0.5',
        '<none>',
        'Ubuntu 22.04.4 LTS',
        '5.15.0-1057-aws',
        'containerd://1.7.22',
      ],
      [
        'w-1',
        'NotReady,SchedulingDisabled',
        '<none>',
        '2d3h',
        'v1.32.4',
        '10.0.0.5',
        '34.1.2.3',
        'Ubuntu 22.04.4 LTS',
        '5.15.0-1057-aws',
        'containerd://1.7.22',
      ],
      [
        'w-2',
        'NotReady',
        'gpu,worker',
        '2d3h',
        'v1.32.4',
        '10.0.0.5',
        '<none>',
        'Ubuntu 22.04.4 LTS',
        '5.15.0-1057-aws',
        'containerd://1.7.22',
      ],
      [
        'w-3',
        'Unknown',
        '<none>',
        '2d3h',
        'v1.32.4',
        '10.0.0.5',
        '<none>',
        'Ubuntu 22.04.4 LTS',
        '5.15.0-1057-aws',
        'containerd://1.7.22',
      ],
    ]);
  });

  it.each([
    ['Metadata' as const, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1' }],
    ['Object' as const, { kind: 'Node', apiVersion: 'v1' }],
  ])('embeds the row object for includeObject=%s', (includeObject, shape) => {
    const n = node('n1', { ready: 'True', labels: { env: 'prod' } });
    const row = (
      toTable('Node', [n], { resourceVersion: '1', includeObject, now })['rows'] as JsonObject[]
    )[0];
    expect(row?.['object']).toMatchObject({ ...shape, metadata: { name: 'n1', labels: { env: 'prod' } } });
    if (includeObject === 'Metadata')
      expect(Object.keys(row?.['object'] as JsonObject)).toEqual(['kind', 'apiVersion', 'metadata']);
  });

  it('omits row objects for includeObject=None and carries continue/remainingItemCount', () => {
    const table = toTable('Node', [node('n1')], {
      resourceVersion: '5',
      continue: 'tok',
      remainingItemCount: 3,
      includeObject: 'None',
      now,
    });
    expect((table['rows'] as JsonObject[])[0]).toEqual({ cells: expect.any(Array) });
    expect(table['metadata']).toEqual({ resourceVersion: '5', continue: 'tok', remainingItemCount: 3 });
  });
});

describe('toTable for pods', () => {
  it.each<[string, KubeObject, unknown[]]>([
    [
      'a running pod',
      pod('a', { nodeName: 'n1', ip: '10.244.1.5' }),
      ['a', '1/1', 'Running', '0', '5s', '10.244.1.5', 'n1', '<none>', '<none>'],
    ],
    [
      'a pending pod',
      pod('b', { phase: 'Pending', statuses: [] }),
      ['b', '0/1', 'Pending', '0', '5s', '<none>', '<none>', '<none>', '<none>'],
    ],
    [
      'a terminating pod',
      pod('c', { nodeName: 'n1', deleting: true }),
      ['c', '1/1', 'Terminating', '0', '5s', '<none>', 'n1', '<none>', '<none>'],
    ],
    [
      'a crash-looping pod',
      pod('d', {
        nodeName: 'n1',
        containers: 2,
        statuses: [
          { name: 'c0', ready: true, restartCount: 1, state: { running: {} } },
          { name: 'c1', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } },
        ],
      }),
      ['d', '1/2', 'CrashLoopBackOff', '5', '5s', '<none>', 'n1', '<none>', '<none>'],
    ],
    [
      'a completed job pod',
      pod('e', {
        phase: 'Succeeded',
        nodeName: 'n1',
        statuses: [
          {
            name: 'c0',
            ready: false,
            restartCount: 0,
            state: { terminated: { reason: 'Completed', exitCode: 0 } },
          },
        ],
      }),
      ['e', '0/1', 'Completed', '0', '5s', '<none>', 'n1', '<none>', '<none>'],
    ],
    [
      'a failed pod without a reason',
      pod('f', {
        phase: 'Failed',
        statuses: [{ name: 'c0', ready: false, restartCount: 0, state: { terminated: { exitCode: 2 } } }],
      }),
      ['f', '0/1', 'ExitCode:2', '0', '5s', '<none>', '<none>', '<none>', '<none>'],
    ],
  ])('prints %s', (_name, p, cells) => {
    const table = toTable('Pod', [p], { resourceVersion: '1', includeObject: 'Metadata', now });
    expect(cellsOf(table)).toEqual([cells]);
    expect((table['columnDefinitions'] as JsonObject[]).map((c) => c['name'])).toEqual([
      'Name',
      'Ready',
      'Status',
      'Restarts',
      'Age',
      'IP',
      'Node',
      'Nominated Node',
      'Readiness Gates',
    ]);
  });

  it('marks finished pods with a Completed row condition', () => {
    const table = toTable('Pod', [pod('e', { phase: 'Succeeded' })], {
      resourceVersion: '1',
      includeObject: 'None',
      now,
    });
    expect((table['rows'] as JsonObject[])[0]?.['conditions']).toEqual([
      {
        type: 'Completed',
        status: 'True',
        reason: 'Succeeded',
        message: 'The pod has completed successfully.',
      },
    ]);
  });
});

describe('toTable for namespaces and other kinds', () => {
  const meta = { uid: 'u', resourceVersion: '1', creationTimestamp: created };
  it('prints NAME, STATUS, AGE for namespaces', () => {
    const ns: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { ...meta, name: 'default' },
      status: { phase: 'Active' },
    };
    expect(cellsOf(toTable('Namespace', [ns], { resourceVersion: '1', includeObject: 'None', now }))).toEqual(
      [['default', 'Active', '2d3h']],
    );
  });
  it('prints NAME, AGE for other kinds', () => {
    const ds: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { ...meta, name: 'kube-proxy', namespace: 'kube-system' },
    };
    const table = toTable('DaemonSet', [ds], { resourceVersion: '1', includeObject: 'None', now });
    expect((table['columnDefinitions'] as JsonObject[]).map((c) => c['name'])).toEqual(['Name', 'Age']);
    expect(cellsOf(table)).toEqual([['kube-proxy', '2d3h']]);
  });
});

describe('content negotiation', () => {
  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ['application/json', undefined],
    ['*/*', undefined],
    [
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
      'meta.k8s.io/v1',
    ],
    ['application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json', 'meta.k8s.io/v1beta1'],
    ['application/json, application/json;as=Table;v=v1;g=meta.k8s.io', undefined],
    [
      'application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
      'meta.k8s.io/v1',
    ],
    ['application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json', undefined],
    ['application/vnd.kubernetes.protobuf,application/json', undefined],
    ['application/json ; as=Table ; v=v1 ; g=meta.k8s.io', 'meta.k8s.io/v1'],
  ])('Accept %j negotiates %j', (accept, version) => {
    expect(negotiateTable(accept)).toBe(version);
    expect(wantsTable(accept)).toBe(version !== undefined);
  });

  it('parses includeObject with Metadata as the default', () => {
    expect(parseIncludeObject(undefined)).toBe('Metadata');
    expect(parseIncludeObject('Object')).toBe('Object');
    expect(parseIncludeObject('None')).toBe('None');
    expect(() => parseIncludeObject('All')).toThrow(ApiStatusError);
  });
});
