import { createHash } from 'node:crypto';

/** A member's part in one cluster: it runs it (`owner`), reflects it as a warm `standby`, or neither. */
export type PoolRole = 'owner' | 'standby';

/**
 * The live members ranked for `cluster` by rendezvous (highest random weight)
 * hashing: each (cluster, member) pair gets a weight from a hash of both, and the
 * members are ordered by weight, highest first. Every member computes the same order
 * from the same member list, with no coordination; when a member joins or leaves,
 * only the clusters it ranks first (or, leaving, ranked first) change owner, about
 * 1/n of them.
 */
export function rendezvousRanking(cluster: string, members: readonly string[]): string[] {
  return members
    .map((member) => ({ member, weight: weight(cluster, member) }))
    .sort((a, b) => (a.weight === b.weight ? compare(a.member, b.member) : a.weight > b.weight ? -1 : 1))
    .map((entry) => entry.member);
}

/**
 * `member`'s part in `cluster`: `owner` when it ranks first, `standby` when it ranks
 * second and `copies` is 2 (warm standby), else undefined.
 */
export function poolRole(
  cluster: string,
  member: string,
  members: readonly string[],
  copies: 1 | 2,
): PoolRole | undefined {
  const rank = rendezvousRanking(cluster, members).indexOf(member);
  if (rank === 0) return 'owner';
  if (rank === 1 && copies === 2) return 'standby';
  return undefined;
}

/** Every member's owned clusters (by name), for reports and tests. */
export function rendezvousShares(
  clusters: readonly string[],
  members: readonly string[],
): Map<string, string[]> {
  const shares = new Map<string, string[]>(members.map((m) => [m, []]));
  for (const cluster of clusters) {
    const owner = rendezvousRanking(cluster, members)[0];
    if (owner !== undefined) shares.get(owner)?.push(cluster);
  }
  return shares;
}

/** 64 bits of SHA-256 over the pair: uniform, and the same in every process and version. */
function weight(cluster: string, member: string): bigint {
  return createHash('sha256').update(cluster).update('\0').update(member).digest().readBigUInt64BE(0);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
