import {
  ALL_CLUSTERS,
  ClusterNameSchema,
  ROLES,
  RoleSchema,
  roleAtLeast,
  type AllowedClusters,
  type ClusterName,
  type Role,
} from '@knm/contracts';

/** One rule of a {@link RoleMap}: members of `group` get `role` on `clusters`. */
export interface RoleGrant {
  group: string;
  role: Role;
  clusters: AllowedClusters;
}

/** A role map that cannot be read, with what to fix. */
export class RoleMapParseError extends Error {
  override readonly name = 'RoleMapParseError';
}

/**
 * Which knm role and clusters an identity provider's groups give a person
 * (`KNM_OIDC_ROLE_MAP`, e.g. `sre=admin:*;team-a=operator:dev,staging`).
 *
 * A knm principal carries one role over a set of clusters, so a person in several
 * mapped groups gets the highest of their roles, on the clusters of the rules that
 * grant that role; a lower role's clusters are not added, since that would give them
 * the higher role there too.
 */
export class RoleMap {
  private constructor(readonly grants: readonly RoleGrant[]) {}

  /**
   * Reads `group=role:clusters` rules separated by `;` (clusters: `*` or a comma list
   * of cluster names). Throws {@link RoleMapParseError} naming the bad rule.
   */
  static parse(text: string): RoleMap {
    const grants: RoleGrant[] = [];
    for (const rule of text.split(';').map((r) => r.trim())) {
      if (rule === '') continue;
      const match = /^([^=]+)=([^:]+):(.+)$/.exec(rule);
      if (!match) {
        throw new RoleMapParseError(`role map rule "${rule}" must look like group=role:clusters`);
      }
      const group = (match[1] ?? '').trim();
      const role = RoleSchema.safeParse((match[2] ?? '').trim());
      if (!role.success) {
        throw new RoleMapParseError(`role map rule "${rule}": role must be one of ${ROLES.join(', ')}`);
      }
      grants.push({ group, role: role.data, clusters: parseClusters(rule, match[3] ?? '') });
    }
    if (grants.length === 0) {
      throw new RoleMapParseError('the role map has no rule: nobody could sign in (e.g. sre=admin:*)');
    }
    return new RoleMap(grants);
  }

  /** The role and clusters `groups` give, or undefined when no group is mapped. */
  resolve(groups: readonly string[]): { role: Role; clusters: AllowedClusters } | undefined {
    const member = new Set(groups);
    const matched = this.grants.filter((g) => member.has(g.group));
    if (matched.length === 0) return undefined;
    const role = matched.reduce<Role>((best, g) => (roleAtLeast(g.role, best) ? g.role : best), 'viewer');
    const top = matched.filter((g) => g.role === role);
    if (top.some((g) => g.clusters === ALL_CLUSTERS)) return { role, clusters: ALL_CLUSTERS };
    const clusters = [...new Set(top.flatMap((g) => g.clusters as ClusterName[]))].sort();
    return { role, clusters };
  }
}

function parseClusters(rule: string, text: string): AllowedClusters {
  const names = text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (names.includes(ALL_CLUSTERS)) return ALL_CLUSTERS;
  return names.map((name) => {
    const parsed = ClusterNameSchema.safeParse(name);
    if (!parsed.success) {
      throw new RoleMapParseError(`role map rule "${rule}": "${name}" is not a cluster name`);
    }
    return parsed.data;
  });
}
