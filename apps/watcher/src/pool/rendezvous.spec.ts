import { describe, expect, it } from 'vitest';
import { poolAssignment, poolRoles, poolShares, rendezvousRanking } from './rendezvous.js';

const clusters = Array.from({ length: 50 }, (_, i) => `c${i + 1}`);
const members = ['watcher-0/1/aa', 'watcher-1/1/bb', 'watcher-2/1/cc'];

function moved(before: Map<string, string>, after: Map<string, string>): string[] {
  return clusters.filter((c) => before.get(c) !== after.get(c));
}

describe('pool assignment (rendezvous hashing, bounded loads)', () => {
  it('shares 50 clusters over 3 members evenly: 16 or 17 each', () => {
    const sizes = [...poolShares(clusters, members).values()].map((s) => s.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(50);
    for (const size of sizes) expect([16, 17]).toContain(size);
  });

  it('shares small pools evenly too (13 over 3: at most 5 each)', () => {
    const few = clusters.slice(0, 13);
    for (const share of poolShares(few, members).values()) expect(share.length).toBeLessThanOrEqual(5);
  });

  it('is the same whatever the order of the member and cluster lists', () => {
    const a = poolAssignment(clusters, members);
    const b = poolAssignment([...clusters].reverse(), [...members].reverse());
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
    for (const c of clusters)
      expect(rendezvousRanking(c, [...members].reverse())).toEqual(rendezvousRanking(c, members));
  });

  it('moves few clusters when a member joins: mostly those it takes (ideal 12 or 13 of 50)', () => {
    const before = poolAssignment(clusters, members);
    const after = poolAssignment(clusters, [...members, 'watcher-3/1/dd']);
    const changed = moved(before, after);
    const taken = changed.filter((c) => after.get(c) === 'watcher-3/1/dd');
    expect(taken.length).toBeGreaterThanOrEqual(10);
    expect(changed.length).toBeLessThanOrEqual(24);
  });

  it('moves few clusters when a member leaves: mostly its own (ideal 16 or 17 of 50)', () => {
    const before = poolAssignment(clusters, members);
    const gone = members[1] ?? '';
    const after = poolAssignment(
      clusters,
      members.filter((m) => m !== gone),
    );
    const changed = moved(before, after);
    const own = clusters.filter((c) => before.get(c) === gone);
    for (const c of own) expect(changed).toContain(c);
    expect(changed.length).toBeLessThanOrEqual(own.length + 8);
  });

  it('makes the standby of a cluster the member that owns it once the owner leaves', () => {
    const owners = poolAssignment(clusters, members);
    const roles = new Map(members.map((m) => [m, poolRoles(clusters, members, m, 2)]));
    for (const c of clusters) {
      const owner = owners.get(c) ?? '';
      const standbys = members.filter((m) => roles.get(m)?.get(c) === 'standby');
      expect(standbys).toHaveLength(1);
      expect(roles.get(owner)?.get(c)).toBe('owner');
      const after = poolAssignment(
        clusters,
        members.filter((m) => m !== owner),
      );
      expect(after.get(c)).toBe(standbys[0]);
    }
    expect(poolRoles(clusters, members, members[0] ?? '', 1).size).toBeLessThanOrEqual(17);
  });
});
