import { describe, expect, it } from 'vitest';
import { poolRole, rendezvousRanking, rendezvousShares } from './rendezvous.js';

const clusters = Array.from({ length: 50 }, (_, i) => `c${i + 1}`);
const members = ['watcher-0/1/aa', 'watcher-1/1/bb', 'watcher-2/1/cc'];

function owners(list: readonly string[]): Map<string, string> {
  return new Map(clusters.map((c) => [c, rendezvousRanking(c, list)[0] ?? '']));
}

describe('rendezvous assignment', () => {
  it('shares 50 clusters over 3 members evenly (each within 17 +- 7)', () => {
    const shares = rendezvousShares(clusters, members);
    const sizes = members.map((m) => shares.get(m)?.length ?? 0);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(50);
    for (const size of sizes) {
      expect(size).toBeGreaterThanOrEqual(10);
      expect(size).toBeLessThanOrEqual(24);
    }
  });

  it('is the same whatever the order of the member list', () => {
    const reversed = [...members].reverse();
    for (const c of clusters) expect(rendezvousRanking(c, reversed)).toEqual(rendezvousRanking(c, members));
  });

  it('moves only the clusters a joining member takes, about a quarter of them', () => {
    const before = owners(members);
    const after = owners([...members, 'watcher-3/1/dd']);
    const moved = clusters.filter((c) => before.get(c) !== after.get(c));
    expect(moved.every((c) => after.get(c) === 'watcher-3/1/dd')).toBe(true);
    expect(moved.length).toBeGreaterThanOrEqual(5);
    expect(moved.length).toBeLessThanOrEqual(22);
  });

  it("moves only a leaving member's clusters, spread over the others", () => {
    const before = owners(members);
    const gone = members[1] ?? '';
    const after = owners(members.filter((m) => m !== gone));
    const moved = clusters.filter((c) => before.get(c) !== after.get(c));
    expect(moved.sort()).toEqual(clusters.filter((c) => before.get(c) === gone).sort());
    const takers = new Set(moved.map((c) => after.get(c)));
    expect(takers.size).toBe(2);
  });

  it('gives the warm standby of a cluster to the member that takes it over', () => {
    for (const c of clusters) {
      const [first, second] = rendezvousRanking(c, members);
      expect(poolRole(c, second ?? '', members, 2)).toBe('standby');
      expect(poolRole(c, second ?? '', members, 1)).toBeUndefined();
      expect(rendezvousRanking(c, members.filter((m) => m !== first))[0]).toBe(second);
    }
  });
});
