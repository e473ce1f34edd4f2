import { describe, expect, it } from 'vitest';
import { makeNodeSnapshot } from '@knm/testing';
import { NodeListQuerySchema, type NodeListQueryInput, type NodeSnapshot } from '@knm/contracts';
import { decodeContinueToken, encodeContinueToken } from './continue-token.js';
import { podCapacityOf } from './node-view.js';
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
    [{ ready: 'yes' }, 'ready'],
    [{ schedulable: '1' }, 'schedulable'],
    [{ unknownParam: 'x' }, ''],
  ])('the schema refuses %j', (q, path) => {
    const result = NodeListQuerySchema.safeParse(q);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toBe(path);
  });
});
