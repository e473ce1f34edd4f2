import { describe, expect, it } from 'vitest';
import { makeNodeSnapshot } from '@knm/testing';
import {
  NodeListQuerySchema,
  podCapacityOf,
  type NodeListQueryInput,
  type NodeSnapshot,
} from '@knm/contracts';
import { decodeContinueToken, encodeContinueToken } from './continue-token.js';
import { InvalidQueryError, StaleContinueError } from './query-errors.js';
import { compileNodeQuery, queryNodes, type NodeQueryInput } from './query-nodes.js';
import { parseTaintFilters } from './taint-filter.js';

/** A bare node: no labels, conditions or addresses unless a test gives them. */
const node = (name: string, over: Partial<NodeSnapshot> = {}): NodeSnapshot =>
  makeNodeSnapshot(name, {
    labels: {},
    conditions: [],
    addresses: [],
    capacity: { pods: '110' },
    allocatable: { pods: '110' },
    ...over,
  });

const nodes: NodeSnapshot[] = [
  node('cp-1', {
    labels: { 'node-role.kubernetes.io/control-plane': '', zone: 'a' },
    roles: ['control-plane'],
    taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
    creationTimestamp: '2025-01-01T00:00:00Z',
  }),
  node('worker-1', {
    labels: { zone: 'a', tier: 'web' },
    roles: ['worker'],
    creationTimestamp: '2026-03-01T00:00:00Z',
  }),
  node('worker-2', {
    labels: { zone: 'b', tier: 'web' },
    roles: ['worker'],
    unschedulable: true,
    taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }],
    creationTimestamp: '2026-02-01T00:00:00Z',
  }),
  node('worker-3', {
    labels: { zone: 'b', tier: 'db', gpu: 'true' },
    roles: ['worker'],
    ready: 'False',
    taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }],
    creationTimestamp: '2026-04-01T00:00:00Z',
  }),
  node('edge-9', {
    labels: { zone: 'c' },
    ready: 'Unknown',
    capacity: {},
    creationTimestamp: '2026-05-01T00:00:00Z',
  }),
];
const podCounts = { 'cp-1': 12, 'worker-1': 40, 'worker-2': 3, 'worker-3': 40 };
const state: NodeQueryInput = { nodes, podCounts, seq: 50, epoch: 2 };

const run = (q: NodeListQueryInput, input: NodeQueryInput = state, cluster = 'dev') =>
  queryNodes(input, compileNodeQuery(NodeListQuerySchema.parse(q), cluster));
const names = (q: NodeListQueryInput) => run(q).items.map((n) => n.name);

describe('queryNodes filters', () => {
  const cases: [string, NodeListQueryInput, string[]][] = [
    ['no filter: every node by name', {}, ['cp-1', 'edge-9', 'worker-1', 'worker-2', 'worker-3']],
    ['labelSelector equality', { labelSelector: 'zone=b' }, ['worker-2', 'worker-3']],
    ['labelSelector set + not-exists', { labelSelector: 'zone in (a,c),!tier' }, ['cp-1', 'edge-9']],
    ['labelSelector !=', { labelSelector: 'tier!=web' }, ['cp-1', 'edge-9', 'worker-3']],
    [
      'labelSelector empty string selects all',
      { labelSelector: '' },
      ['cp-1', 'edge-9', 'worker-1', 'worker-2', 'worker-3'],
    ],
    ['ready=true', { ready: 'true' }, ['cp-1', 'worker-1', 'worker-2']],
    ['ready=false', { ready: 'false' }, ['worker-3']],
    ['ready=unknown', { ready: 'unknown' }, ['edge-9']],
    ['schedulable=false', { schedulable: 'false' }, ['worker-2']],
    ['schedulable=true', { schedulable: 'true' }, ['cp-1', 'edge-9', 'worker-1', 'worker-3']],
    ['role', { role: 'control-plane' }, ['cp-1']],
    ['q is a case-insensitive substring', { q: 'WORK' }, ['worker-1', 'worker-2', 'worker-3']],
    ['taint key', { taint: 'dedicated' }, ['worker-3']],
    ['taint key=value', { taint: 'dedicated=db' }, ['worker-3']],
    ['taint key=other value', { taint: 'dedicated=web' }, []],
    ['taint key:effect', { taint: 'node-role.kubernetes.io/control-plane:NoSchedule' }, ['cp-1']],
    ['taint key:other effect', { taint: 'dedicated:NoSchedule' }, []],
    ['taint key=value:effect', { taint: 'dedicated=db:NoExecute' }, ['worker-3']],
    ['two taints must both match', { taint: 'dedicated,node.kubernetes.io/unschedulable' }, []],
    ['combined filters AND', { labelSelector: 'tier=web', schedulable: 'true', ready: 'true' }, ['worker-1']],
  ];
  it.each(cases)('%s', (_name, q, expected) => expect(names(q)).toEqual(expected));
});

describe('queryNodes sort', () => {
  const cases: [string, NodeListQueryInput, string[]][] = [
    ['name desc', { order: 'desc' }, ['worker-3', 'worker-2', 'worker-1', 'edge-9', 'cp-1']],
    ['pods asc, ties by name', { sort: 'pods' }, ['edge-9', 'worker-2', 'cp-1', 'worker-1', 'worker-3']],
    [
      'pods desc, ties by name desc',
      { sort: 'pods', order: 'desc' },
      ['worker-3', 'worker-1', 'cp-1', 'worker-2', 'edge-9'],
    ],
    ['age asc = youngest first', { sort: 'age' }, ['edge-9', 'worker-3', 'worker-1', 'worker-2', 'cp-1']],
    [
      'ready: True, False, Unknown',
      { sort: 'ready' },
      ['cp-1', 'worker-1', 'worker-2', 'worker-3', 'edge-9'],
    ],
    ['schedulable first', { sort: 'schedulable' }, ['cp-1', 'edge-9', 'worker-1', 'worker-3', 'worker-2']],
    ['role', { sort: 'role' }, ['edge-9', 'cp-1', 'worker-1', 'worker-2', 'worker-3']],
  ];
  it.each(cases)('%s', (_name, q, expected) => expect(names(q)).toEqual(expected));
});

describe('queryNodes views', () => {
  it('carries pod counts (absent = 0) and pod capacity (absent = null)', () => {
    const items = run({ q: 'edge' }).items.concat(run({ q: 'worker-1' }).items);
    expect(items.map((n) => [n.name, n.podCount, n.podCapacity])).toEqual([
      ['edge-9', 0, null],
      ['worker-1', 40, 110],
    ]);
  });

  it.each([
    ['110', 110],
    ['1k', 1000],
    ['12.5', null],
    [undefined, null],
  ])('pod capacity %j -> %j', (pods, expected) => {
    expect(podCapacityOf(node('n', { capacity: pods === undefined ? {} : { pods } }))).toBe(expected);
  });
});

describe('queryNodes paging', () => {
  it('walks every page exactly once, with total and a continue token on all but the last', () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = run({ sort: 'pods', order: 'desc', limit: 2, ...(token ? { continue: token } : {}) });
      expect(page.total).toBe(5);
      seen.push(...page.items.map((n) => n.name));
      token = page.continue;
      pages += 1;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(['worker-3', 'worker-1', 'cp-1', 'worker-2', 'edge-9']);
  });

  it('keeps going from the last key when nodes change between pages (same epoch)', () => {
    const first = run({ limit: 2 });
    expect(first.items.map((n) => n.name)).toEqual(['cp-1', 'edge-9']);
    // edge-9 is deleted and a-0 (sorts first) is added before the next page.
    const changed: NodeQueryInput = {
      ...state,
      seq: 60,
      nodes: [node('a-0'), ...nodes.filter((n) => n.name !== 'edge-9')],
    };
    const second = run({ limit: 2, continue: first.continue as string }, changed);
    expect(second.items.map((n) => n.name)).toEqual(['worker-1', 'worker-2']);
  });

  it('answers 410 (StaleContinueError) when the epoch changed or the seq went backwards', () => {
    const { continue: token } = run({ limit: 1 });
    expect(() => run({ limit: 1, continue: token as string }, { ...state, epoch: 3 })).toThrow(
      StaleContinueError,
    );
    expect(() => run({ limit: 1, continue: token as string }, { ...state, seq: 10 })).toThrow(
      StaleContinueError,
    );
  });

  it('answers 400 (InvalidQueryError) for a token of another query or garbage', () => {
    const { continue: token } = run({ limit: 1 });
    expect(() => run({ limit: 1, sort: 'pods', continue: token as string })).toThrow(/other filters or sort/);
    expect(() => run({ continue: 'garbage!' })).toThrow(InvalidQueryError);
    expect(() =>
      run({
        continue: encodeContinueToken({
          cluster: 'dev',
          epoch: 2,
          seq: 1,
          query: 'x',
          after: ['a', 'b'],
        }).slice(3),
      }),
    ).toThrow(InvalidQueryError);
  });

  it('answers 400 for a token of the same query on another cluster, without naming that cluster', () => {
    const { continue: token } = run({ limit: 1 }, state, 'prod');
    expect(() => run({ limit: 1, continue: token as string }, state, 'dev')).toThrow(
      /belongs to another cluster's listing/,
    );
    expect(() => run({ limit: 1, continue: token as string }, state, 'dev')).not.toThrow(/prod/);
    expect(run({ limit: 1, continue: token as string }, state, 'prod').items).toHaveLength(1);
  });

  it('round-trips a continue token', () => {
    const position = {
      cluster: 'dev',
      epoch: 4,
      seq: 99,
      query: 'abcd1234',
      after: [12, 'nöde-ü'] as [number, string],
    };
    expect(decodeContinueToken(encodeContinueToken(position))).toEqual(position);
  });
});

describe('queryNodes by resource', () => {
  const gpu = { cpu: '4', memory: '16Gi', pods: '110', 'nvidia.com/gpu': '8' };
  const plain = { cpu: '2', memory: '8Gi', pods: '110' };
  const byResource: NodeQueryInput = {
    nodes: [
      node('a', { allocatable: gpu }),
      node('b', { allocatable: plain }),
      node('c', { allocatable: plain }),
      node('d', { allocatable: { pods: '110' } }),
      node('e', { allocatable: gpu }),
    ],
    podCounts: { a: 4, b: 10, c: 1 },
    allocation: {
      a: { requests: { cpu: 2_000, 'nvidia.com/gpu': 6 }, limits: { cpu: 4_000 } },
      b: { requests: { cpu: 1_800, memory: 4 * 2 ** 30 }, limits: { memory: 8 * 2 ** 30 } },
      c: { requests: { cpu: 500 }, limits: {} },
      // d requests cpu it does not offer: its percent cannot be said.
      d: { requests: { cpu: 500 }, limits: {} },
    },
    usage: {
      available: true,
      polledAt: '2026-12-02T00:00:00Z',
      nodes: { a: { cpu: 400, memory: 2 ** 30 }, b: { cpu: 1_900, memory: 7 * 2 ** 30 } },
    },
    seq: 9,
    epoch: 1,
  };
  const list = (q: NodeListQueryInput) =>
    queryNodes(byResource, compileNodeQuery(NodeListQuerySchema.parse(q), 'dev')).items.map((n) => n.name);

  it('gives every node its resources: allocatable, requests, limits, the pod count and usage', () => {
    const [a, , , d] = queryNodes(byResource, compileNodeQuery(NodeListQuerySchema.parse({}), 'dev')).items;
    expect(a?.resources).toEqual({
      cpu: { allocatable: 4_000, requests: 2_000, limits: 4_000, usage: 400 },
      memory: { allocatable: 16 * 2 ** 30, requests: 0, limits: 0, usage: 2 ** 30 },
      pods: { allocatable: 110, requests: 4, limits: 4 },
      'nvidia.com/gpu': { allocatable: 8, requests: 6, limits: 0 },
    });
    expect(d?.resources).toEqual({
      cpu: { allocatable: 0, requests: 500, limits: 0 },
      pods: { allocatable: 110, requests: 0, limits: 0 },
    });
  });

  const cases: [string, NodeListQueryInput, string[]][] = [
    ['cpu requests asc, unknown last', { sort: 'cpu.requestsPercent' }, ['e', 'c', 'a', 'b', 'd']],
    [
      'cpu requests desc with "-", unknown still last',
      { sort: '-cpu.requestsPercent' },
      ['b', 'a', 'c', 'e', 'd'],
    ],
    [
      'order=desc is the same as "-"',
      { sort: 'cpu.requestsPercent', order: 'desc' },
      ['b', 'a', 'c', 'e', 'd'],
    ],
    [
      'a resource name with dots and a slash, ties by name desc',
      { sort: '-nvidia.com/gpu.requestsPercent' },
      ['a', 'e', 'd', 'c', 'b'],
    ],
    ['usage: unmeasured nodes last', { sort: '-memory.usagePercent' }, ['b', 'a', 'e', 'd', 'c']],
    ['limits', { sort: 'memory.limitsPercent' }, ['a', 'c', 'e', 'b', 'd']],
    [
      'pods percent is the pod count of capacity',
      { sort: '-pods.requestsPercent' },
      ['b', 'a', 'c', 'e', 'd'],
    ],
    ['a resource no node has: by name', { sort: 'example.com/x.requestsPercent' }, ['a', 'b', 'c', 'd', 'e']],
    ['filter >', { resource: 'cpu.requestsPercent>50' }, ['b']],
    ['filter >= is inclusive', { resource: 'cpu.requestsPercent>=50' }, ['a', 'b']],
    ['filter <: unknown percents never match', { resource: 'cpu.requestsPercent<50' }, ['c', 'e']],
    ['filter <=', { resource: 'cpu.requestsPercent <= 50' }, ['a', 'c', 'e']],
    ['every item must hold', { resource: 'cpu.requestsPercent>=50, memory.usagePercent<50' }, ['a']],
    ['filter and sort', { resource: 'cpu.usagePercent>0', sort: '-cpu.usagePercent' }, ['b', 'a']],
    ['gpu filter', { resource: 'nvidia.com/gpu.requestsPercent>50' }, ['a']],
  ];
  it.each(cases)('%s', (_name, q, expected) => expect(list(q)).toEqual(expected));

  it('pages a resource sort with continue tokens, unknown percents included, each node once', () => {
    for (const sort of ['cpu.requestsPercent', '-cpu.requestsPercent', '-memory.usagePercent']) {
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = queryNodes(
          byResource,
          compileNodeQuery(
            NodeListQuerySchema.parse({ sort, limit: 2, ...(token ? { continue: token } : {}) }),
            'dev',
          ),
        );
        seen.push(...page.items.map((n) => n.name));
        token = page.continue;
      } while (token);
      expect(seen).toEqual(list({ sort }));
    }
  });

  it('refuses a continue token of another resource sort or filter', () => {
    const first = queryNodes(
      byResource,
      compileNodeQuery(NodeListQuerySchema.parse({ sort: 'cpu.requestsPercent', limit: 1 }), 'dev'),
    );
    const other = { sort: 'memory.requestsPercent', limit: 1, continue: first.continue as string };
    expect(() => list(other)).toThrow(/other filters or sort/);
    const filtered = { sort: 'cpu.requestsPercent', resource: 'cpu.requestsPercent>1', limit: 1 };
    expect(() => list({ ...filtered, continue: first.continue as string })).toThrow(/other filters or sort/);
  });

  it.each([
    ['cpu.requestsPercent', /must be <resource>/],
    ['cpu.requestsPercent=80', /must be <resource>/],
    ['cpu.requests>80', /requestsPercent, .limitsPercent or .usagePercent/],
    ['cpu.requestsPercent>lots', /"lots" is not a number/],
    ['cpu.requestsPercent>', /must be <resource>/],
    ['bad name!.requestsPercent>1', /resource "bad name!"/],
    ['cpu.requestsPercent>1,', /must be <resource>/],
  ])('refuses the resource filter %j with a 400 saying why', (resource, message) => {
    try {
      list({ resource });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidQueryError);
      expect((err as InvalidQueryError).details[0]?.path).toBe('resource');
      expect((err as InvalidQueryError).message).toMatch(message);
    }
  });
});

describe('bad queries', () => {
  it('reports a bad label selector on labelSelector', () => {
    try {
      run({ labelSelector: 'zone in (a' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidQueryError);
      expect((err as InvalidQueryError).details[0]?.path).toBe('labelSelector');
    }
  });

  it.each(['', 'key:Sometimes', '=v', 'bad key'])('refuses taint filter %j', (text) => {
    expect(() => parseTaintFilters(text)).toThrow(InvalidQueryError);
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '10001' }, 'limit'],
    [{ limit: 'many' }, 'limit'],
    [{ sort: 'cpu' }, 'sort'],
    [{ sort: 'cpu.requested' }, 'sort'],
    [{ sort: '--name' }, 'sort'],
    [{ sort: 'bad name.requestsPercent' }, 'sort'],
    [{ sort: '.requestsPercent' }, 'sort'],
    [{ resource: '' }, 'resource'],
    [{ ready: 'yes' }, 'ready'],
    [{ schedulable: '1' }, 'schedulable'],
    [{ unknownParam: 'x' }, ''],
  ])('the schema refuses %j', (q, path) => {
    const result = NodeListQuerySchema.safeParse(q);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toBe(path);
  });
});
