import { describe, expect, it } from 'vitest';
import { makeNodeSnapshot } from '@knm/testing';
import {
  NodeListQuerySchema,
  toClusterName,
  type ClusterName,
  type NodeAllocation,
  type NodeListQueryInput,
  type NodeSnapshot,
} from '@knm/contracts';
import { encodeContinueToken } from './continue-token.js';
import { decodeFleetContinueToken, encodeFleetContinueToken } from './fleet-continue-token.js';
import { sumResourceTotals } from './fleet-totals.js';
import { InvalidQueryError, StaleContinueError } from './query-errors.js';
import { compareFleetKeys, queryFleet, type FleetMember } from './query-fleet.js';
import { compileNodeQuery, type NodeQueryInput } from './query-nodes.js';
import { sortKeyOf } from './node-sort.js';
import { sortedMatches } from './sorted-matches.js';

/** A cluster of `n` nodes whose pod counts, zones and cpu requests repeat, so that sort keys tie across clusters. */
function cluster(name: string, n: number, epoch = 1, seq = 10): { name: ClusterName; input: NodeQueryInput } {
  const nodes: NodeSnapshot[] = [];
  const podCounts: Record<string, number> = {};
  const allocation: Record<string, NodeAllocation> = {};
  for (let i = 0; i < n; i += 1) {
    const nodeName = `node-${String(i).padStart(3, '0')}`;
    nodes.push(
      makeNodeSnapshot(nodeName, {
        labels: { zone: `z${i % 3}` },
        ready: i % 7 === 0 ? 'False' : 'True',
        creationTimestamp: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
      }),
    );
    podCounts[nodeName] = i % 5;
    // makeNodeSnapshot's allocatable cpu is 7800m; every third node has no allocation (percent 0).
    if (i % 3 !== 2) allocation[nodeName] = { requests: { cpu: (i % 4) * 1_950 }, limits: {} };
  }
  return { name: toClusterName(name), input: { nodes, podCounts, allocation, seq, epoch } };
}

const fleet = [cluster('alpha', 12), cluster('beta', 9), cluster('gamma', 15)];

function members(clusters: typeof fleet, query: NodeListQueryInput): FleetMember[] {
  const compiled = compileNodeQuery(NodeListQuerySchema.parse(query), '*');
  return clusters.map((c) => ({
    cluster: c.name,
    epoch: c.input.epoch,
    seq: c.input.seq,
    matches: sortedMatches(c.input, compiled),
  }));
}

function page(clusters: typeof fleet, query: NodeListQueryInput, limit: number) {
  const compiled = compileNodeQuery(NodeListQuerySchema.parse(query), '*');
  return queryFleet(members(clusters, query), compiled, limit);
}

/** The fleet's order computed the slow way: every match of every cluster, one sort over the union. */
function reference(clusters: typeof fleet, query: NodeListQueryInput): string[] {
  const compiled = compileNodeQuery(NodeListQuerySchema.parse(query), '*');
  const all = clusters.flatMap((c) =>
    sortedMatches(c.input, compiled).map((m) => ({
      id: `${c.name}/${m.key[1]}`,
      key: [sortKeyOf(m.subject, compiled.order), c.name, m.key[1]] as [string | number, string, string],
    })),
  );
  all.sort((a, b) => compiled.order.direction * compareFleetKeys(a.key, b.key));
  return all.map((a) => a.id);
}

/** Every page of a continue-token walk, as `cluster/node` ids. */
function walk(clusters: typeof fleet, query: NodeListQueryInput, limit: number): string[] {
  const ids: string[] = [];
  let next: string | undefined;
  for (let pages = 0; pages < 1_000; pages += 1) {
    const result = page(clusters, next === undefined ? query : { ...query, continue: next }, limit);
    ids.push(...result.items.map((n) => `${n.cluster}/${n.name}`));
    next = result.continue;
    if (next === undefined) return ids;
  }
  throw new Error('the walk did not end');
}

describe('queryFleet (k-way merge of each cluster sorted list)', () => {
  it.each<NodeListQueryInput>([
    {},
    { sort: '-pods' },
    { sort: 'pods', order: 'desc' },
    { sort: 'cpu.requestsPercent' },
    { sort: '-cpu.requestsPercent', labelSelector: 'zone in (z0,z2)' },
    { sort: 'age', ready: 'true' },
    { sort: 'ready' },
    { resource: 'cpu.requestsPercent>=25', sort: '-pods' },
  ])(
    'merges in the union order, ties by cluster then name, and a walk returns every node once: %o',
    (query) => {
      const expected = reference(fleet, query);
      const whole = page(fleet, query, 10_000);
      expect(whole.items.map((n) => `${n.cluster}/${n.name}`)).toEqual(expected);
      expect(whole.total).toBe(expected.length);
      expect(whole.continue).toBeUndefined();
      for (const limit of [1, 2, 5, 7]) {
        const ids = walk(fleet, query, limit);
        expect(ids).toEqual(expected);
        expect(new Set(ids).size).toBe(ids.length);
      }
    },
  );

  it('breaks ties on cluster then node name, in the query direction', () => {
    const asc = page(fleet, { sort: 'pods' }, 4).items.map((n) => `${n.cluster}/${n.name}`);
    // pods 0: node-000, node-005, node-010 of each cluster; alpha first, then beta.
    expect(asc).toEqual(['alpha/node-000', 'alpha/node-005', 'alpha/node-010', 'beta/node-000']);
    const desc = page(fleet, { sort: '-pods' }, 2).items.map((n) => `${n.cluster}/${n.name}`);
    expect(desc).toEqual(['gamma/node-014', 'gamma/node-009']);
  });

  it('filters before merging and counts the matches of every cluster in total', () => {
    const result = page(fleet, { labelSelector: 'zone=z1', ready: 'true' }, 3);
    const expected = reference(fleet, { labelSelector: 'zone=z1', ready: 'true' });
    expect(result.total).toBe(expected.length);
    expect(result.items.every((n) => n.labels['zone'] === 'z1' && n.ready === 'True')).toBe(true);
    expect(result.items[0]).toMatchObject({ cluster: 'alpha', name: 'node-001', podCount: 1 });
  });

  it('keeps paging consistent when nodes come and go between pages (keyset), and a new cluster joins at the position', () => {
    const first = page(fleet, { sort: 'name' }, 10);
    expect(first.continue).toBeDefined();
    // alpha loses a node not yet listed and gains one; delta appears; the seqs move on, the epochs stay.
    const alpha = cluster('alpha', 12, 1, 11);
    alpha.input = { ...alpha.input, nodes: alpha.input.nodes.filter((n) => n.name !== 'node-011') };
    const later = [alpha, cluster('beta', 9, 1, 12), cluster('gamma', 15), cluster('delta', 20)];
    const rest: string[] = [];
    let next = first.continue;
    while (next !== undefined) {
      const result = page(later, { sort: 'name', continue: next }, 10);
      rest.push(...result.items.map((n) => `${n.cluster}/${n.name}`));
      next = result.continue;
    }
    const seen = [...first.items.map((n) => `${n.cluster}/${n.name}`), ...rest];
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).not.toContain('alpha/node-011');
    // delta joined after the first page: its nodes ordered after the position are listed, the others not.
    expect(seen).toContain('delta/node-019');
    expect(seen).not.toContain('delta/node-000');
    // Every node present on both sides of the change is listed exactly once.
    const before = new Set(reference(fleet, { sort: 'name' }));
    for (const id of reference(later, { sort: 'name' })) if (before.has(id)) expect(seen).toContain(id);
  });

  it('410s a token of a cluster rebuilt since (other epoch) or ahead of its state (Redis lost data)', () => {
    const { continue: token } = page(fleet, { sort: 'pods' }, 5);
    expect(token).toBeDefined();
    const rebuilt = [fleet[0], cluster('beta', 9, 2, 1), fleet[2]] as typeof fleet;
    expect(() => page(rebuilt, { sort: 'pods', continue: token }, 5)).toThrow(StaleContinueError);
    const lost = [fleet[0], fleet[1], cluster('gamma', 15, 1, 3)] as typeof fleet;
    expect(() => page(lost, { sort: 'pods', continue: token }, 5)).toThrow(StaleContinueError);
    // A cluster of the token that is gone (deregistered, or no longer in the token's scope) is ignored.
    expect(
      page([fleet[0], fleet[2]] as typeof fleet, { sort: 'pods', continue: token }, 5).items,
    ).toHaveLength(5);
  });

  it('400s a tampered token, one of another query, and a cluster list token', () => {
    const { continue: token } = page(fleet, { sort: 'pods' }, 5);
    const bad = (query: NodeListQueryInput) => () => page(fleet, query, 5);
    expect(bad({ sort: '-pods', continue: token })).toThrow(InvalidQueryError);
    expect(bad({ sort: 'pods', continue: `${token}x` })).toThrow(InvalidQueryError);
    expect(bad({ sort: 'pods', continue: 'garbage' })).toThrow(InvalidQueryError);
    const clusterToken = encodeContinueToken({
      cluster: 'alpha',
      epoch: 1,
      seq: 10,
      query: 'x',
      after: [0, 'a'],
    });
    expect(bad({ sort: 'pods', continue: clusterToken })).toThrow(InvalidQueryError);
    const decoded = decodeFleetContinueToken(token as string);
    const forged = encodeFleetContinueToken({ ...decoded, query: '00000000' });
    expect(bad({ sort: 'pods', continue: forged })).toThrow(InvalidQueryError);
  });

  it('decodes a token naming a cluster __proto__ without touching any prototype', () => {
    const token = Buffer.from(
      JSON.stringify({ v: 1, k: 'fleet', q: 'q', a: [1, 'c', 'n'], s: { ['__proto__']: [1, 2] } }),
    ).toString('base64url');
    const decoded = decodeFleetContinueToken(token);
    expect([...decoded.states]).toEqual([['__proto__', [1, 2]]]);
  });
});

describe('sumResourceTotals', () => {
  it('sums nodes, measured nodes and each resource, usage only where measured', () => {
    expect(
      sumResourceTotals([
        { nodes: 2, measured: 1, resources: { cpu: { allocatable: 10, requests: 4, limits: 8, usage: 3 } } },
        {
          nodes: 3,
          measured: 0,
          resources: {
            cpu: { allocatable: 5, requests: 1, limits: 2 },
            'nvidia.com/gpu': { allocatable: 4, requests: 2, limits: 2 },
          },
        },
      ]),
    ).toEqual({
      nodes: 5,
      measured: 1,
      resources: {
        cpu: { allocatable: 15, requests: 5, limits: 10, usage: 3 },
        'nvidia.com/gpu': { allocatable: 4, requests: 2, limits: 2 },
      },
    });
  });
});
