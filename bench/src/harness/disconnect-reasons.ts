import type { FleetProcessStats } from '@knm/testing';

/** Why the fleet's connections ended, by Socket.IO's reason, summed over its processes. */
export function fleetDisconnects(stats: readonly FleetProcessStats[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const s of stats)
    for (const [reason, n] of Object.entries(s.disconnects)) sums[reason] = (sums[reason] ?? 0) + n;
  return sums;
}

/** `ping timeout 120, transport close 3` (most first), or `none`. */
export function describeReasons(reasons: Record<string, number>): string {
  const entries = Object.entries(reasons)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([reason, n]) => `${reason} ${n}`).join(', ');
}
