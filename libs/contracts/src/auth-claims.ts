import { z } from 'zod';
import { ClusterNameSchema } from './cluster-name.js';

/**
 * What a knm token lets its holder do:
 * - `viewer`: read clusters and nodes, receive live changes
 * - `operator`: viewer + node operations (labels, taints, cordon) on its clusters
 * - `admin`: operator + administration
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

/** Every cluster, present and future. */
export const ALL_CLUSTERS = '*';

/**
 * The clusters a token covers: `"*"` (all), or a list of cluster names (which may
 * itself contain `"*"`, meaning all).
 */
export const AllowedClustersSchema = z.union([
  z.literal(ALL_CLUSTERS),
  z.array(z.union([z.literal(ALL_CLUSTERS), ClusterNameSchema])),
]);
export type AllowedClusters = z.infer<typeof AllowedClustersSchema>;

/**
 * The knm claims of a JWT (besides the registered ones: `exp`, `iat`, ...).
 * `sub` names the person or service; it is what audit records show.
 */
export const AuthClaimsSchema = z.object({
  sub: z.string({ error: 'token has no subject (sub)' }).min(1, 'token subject (sub) must not be empty'),
  role: RoleSchema,
  clusters: AllowedClustersSchema,
});
export type AuthClaims = z.infer<typeof AuthClaimsSchema>;

/** True when `clusters` covers `cluster`. */
export function clustersAllow(clusters: AllowedClusters, cluster: string): boolean {
  if (clusters === ALL_CLUSTERS) return true;
  return clusters.some((c) => c === ALL_CLUSTERS || c === cluster);
}

/** True when `role` includes everything `needed` may do (viewer < operator < admin). */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
