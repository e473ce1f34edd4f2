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
/**
 * The longest token subject (`sub`) accepted. It is written into node annotations
 * (`knm.io/cordoned-by`), audit records, Redis keys (the per-user rate limit) and
 * Socket.IO room names, so it is bounded before it reaches any of them.
 */
export const MAX_SUBJECT_LENGTH = 256;

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A token subject: 1 to {@link MAX_SUBJECT_LENGTH} printable characters. */
export const SubjectSchema = z
  .string({ error: 'token has no subject (sub)' })
  .min(1, 'token subject (sub) must not be empty')
  .max(MAX_SUBJECT_LENGTH, `token subject (sub) must be at most ${MAX_SUBJECT_LENGTH} characters`)
  .refine(
    (sub) => !UNPRINTABLE.test(sub),
    'token subject (sub) must be printable (no control characters, NUL or line breaks)',
  );

export const AuthClaimsSchema = z.object({
  sub: SubjectSchema,
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
