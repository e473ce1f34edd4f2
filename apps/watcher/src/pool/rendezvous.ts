import { createHash } from 'node:crypto';

/** A member's part in one cluster: it runs it (`owner`), reflects it as a warm `standby`, or neither. */
export type PoolRole = 'owner' | 'standby';

/**
 * The live members ranked for `cluster` by rendezvous (highest random weight)
 * hashing: each (cluster, member) pair gets a weight from a hash of both, and the
 * members are ordered by weight, highest first. Every member computes the same order
 * from the same member list, with no coordination; when a member joins or leaves,
 * the others keep their relative order, so few clusters move.
 */
export function rendezvousRanking(cluster: string, members: readonly string[]): string[] {
  return members
    .map((member) => ({ member, weight: weight(cluster, member) }))
    .sort((a, b) => (a.weight === b.weight ? compare(a.member, b.member) : a.weight > b.weight ? -1 : 1))
    .map((entry) => entry.member);
}

/**
 * Owner of every cluster: rendezvous hashing with bounded loads. Clusters are taken
 * in name order; each goes to the first member of its ranking that holds fewer than
 * ceil(clusters / members), so no member holds more than its share rounded up (plain
 * rendezvous hashing leaves 13 clusters over 3 members as 2/3/8). Every member
 * computes the same map from the same cluster and member lists. A member joining or
 * leaving still moves few clusters: mostly those it takes or held, plus the few
 * pushed on by a full member.
 */
export function poolAssignment(clusters: readonly string[], members: readonly string[]): Map<string, string> {
  const owners = new Map<string, string>();
  if (members.length === 0) return owners;
  const capacity = Math.ceil(clusters.length / members.length);
  const load = new Map<string, number>(members.map((m) => [m, 0]));
  for (const cluster of [...clusters].sort(compare)) {
    const owner = rendezvousRanking(cluster, members).find((m) => (load.get(m) ?? 0) < capacity);
    if (owner === undefined) continue; // unreachable: capacity * members >= clusters
    owners.set(cluster, owner);
    load.set(owner, (load.get(owner) ?? 0) + 1);
  }
  return owners;
}

/**
 * `member`'s part in each cluster it has one in: `owner` per {@link poolAssignment};
 * with `copies` 2 (warm standby), `standby` for each cluster it would own if the
 * cluster's owner left, so a failover promotes the member already reflecting it.
 */
export function poolRoles(
  clusters: readonly string[],
  members: readonly string[],
  member: string,
  copies: 1 | 2,
): Map<string, PoolRole> {
  const roles = new Map<string, PoolRole>();
  const owners = poolAssignment(clusters, members);
  for (const [cluster, owner] of owners) if (owner === member) roles.set(cluster, 'owner');
  if (copies === 1) return roles;
  for (const other of members) {
    if (other === member) continue;
    const without = poolAssignment(
      clusters,
      members.filter((m) => m !== other),
    );
    for (const [cluster, owner] of owners) {
      if (owner === other && without.get(cluster) === member) roles.set(cluster, 'standby');
    }
  }
  return roles;
}

/** Every member's owned clusters (by name), for reports and tests. */
export function poolShares(clusters: readonly string[], members: readonly string[]): Map<string, string[]> {
  const shares = new Map<string, string[]>(members.map((m) => [m, []]));
  for (const [cluster, owner] of poolAssignment(clusters, members)) shares.get(owner)?.push(cluster);
  return shares;
}

/** 64 bits of SHA-256 over the pair: uniform, and the same in every process and version. */
function weight(cluster: string, member: string): bigint {
  return createHash('sha256').update(cluster).update('\0').update(member).digest().readBigUInt64BE(0);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
