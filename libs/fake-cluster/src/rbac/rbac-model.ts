import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/** One rule of a ClusterRole (rbac.authorization.k8s.io/v1 PolicyRule; `*` matches anything). */
export const PolicyRuleSchema = z.object({
  apiGroups: z.array(z.string()).default([]),
  resources: z.array(z.string()).default([]),
  verbs: z.array(z.string()).min(1, 'Required value: verbs must contain at least one value'),
  resourceNames: z.array(z.string()).optional(),
});

const MetadataSchema = z
  .object({ name: z.string().regex(/^[a-z0-9:._-]{1,253}$/, 'a lowercase RFC 1123 subdomain') })
  .passthrough();

export const ClusterRoleSchema = z.object({
  metadata: MetadataSchema,
  rules: z.array(PolicyRuleSchema).default([]),
});

export const ClusterRoleBindingSchema = z.object({
  metadata: MetadataSchema,
  roleRef: z.object({
    apiGroup: z.literal('rbac.authorization.k8s.io'),
    kind: z.literal('ClusterRole', { error: 'Unsupported value: only ClusterRole is supported by kube-sim' }),
    name: z.string().min(1),
  }),
  subjects: z
    .array(
      z.object({ kind: z.enum(['User', 'Group', 'ServiceAccount']), name: z.string().min(1) }).passthrough(),
    )
    .default([]),
});

export type ClusterRole = z.infer<typeof ClusterRoleSchema>;
export type ClusterRoleBinding = z.infer<typeof ClusterRoleBindingSchema>;

/** What a request asks to do, as RBAC sees it. */
export interface RequestAttributes {
  verb: string;
  /** API group (`''` for core). */
  group: string;
  /** Plural resource (`nodes`, `pods`). */
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** Who a request acts as. */
export interface UserInfo {
  user: string;
  groups: readonly string[];
}

/** A stored RBAC object as the API serves it. */
export type StoredRbacObject = {
  kind: string;
  apiVersion: string;
  metadata: Record<string, unknown>;
} & Record<string, unknown>;

/**
 * kube-sim's RBAC authorizer: ClusterRoles and ClusterRoleBindings (created through
 * the API, kept in memory), evaluated as Kubernetes' RBAC authorizer does for
 * cluster-wide bindings: a request is allowed when a binding naming the user, one
 * of its groups or `system:authenticated` refers to a ClusterRole with a rule that
 * matches its group, resource (`pods/eviction` for a subresource), verb and, when the
 * rule lists names, its name. `system:masters` may do anything. Namespaced Roles and
 * RoleBindings are not modelled.
 */
export class RbacModel {
  private readonly roles = new Map<string, StoredRbacObject & ClusterRole>();
  private readonly bindings = new Map<string, StoredRbacObject & ClusterRoleBinding>();

  /** Stores a new ClusterRole or ClusterRoleBinding; false when the name is taken. */
  create(
    kind: 'ClusterRole' | 'ClusterRoleBinding',
    object: ClusterRole | ClusterRoleBinding,
  ): StoredRbacObject | undefined {
    const map = (kind === 'ClusterRole' ? this.roles : this.bindings) as Map<string, StoredRbacObject>;
    if (map.has(object.metadata.name)) return undefined;
    const stored: StoredRbacObject = {
      ...object,
      kind,
      apiVersion: 'rbac.authorization.k8s.io/v1',
      metadata: {
        ...object.metadata,
        uid: randomUUID(),
        resourceVersion: '1',
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    };
    map.set(object.metadata.name, stored);
    return stored;
  }

  list(kind: 'ClusterRole' | 'ClusterRoleBinding'): StoredRbacObject[] {
    return [...(kind === 'ClusterRole' ? this.roles : this.bindings).values()];
  }

  get(kind: 'ClusterRole' | 'ClusterRoleBinding', name: string): StoredRbacObject | undefined {
    return (kind === 'ClusterRole' ? this.roles : this.bindings).get(name);
  }

  delete(kind: 'ClusterRole' | 'ClusterRoleBinding', name: string): boolean {
    return (kind === 'ClusterRole' ? this.roles : this.bindings).delete(name);
  }

  /** True when `who` may do `what`. */
  allows(who: UserInfo, what: RequestAttributes): boolean {
    return this.allowedBy(who, what) !== undefined;
  }

  /** The rules of every ClusterRole bound to `who` (a SelfSubjectRulesReview's `resourceRules`). */
  rulesOf(who: UserInfo): z.infer<typeof PolicyRuleSchema>[] {
    const groups = new Set([...who.groups, 'system:authenticated']);
    const rules: z.infer<typeof PolicyRuleSchema>[] = [];
    for (const binding of this.bindings.values()) {
      const bound = binding.subjects.some(
        (s) => (s.kind === 'User' && s.name === who.user) || (s.kind === 'Group' && groups.has(s.name)),
      );
      const role = bound ? this.roles.get(binding.roleRef.name) : undefined;
      if (role) rules.push(...role.rules);
    }
    return rules;
  }

  /**
   * Why `who` may do `what`, in the RBAC authorizer's words (the `reason` of a
   * SelfSubjectAccessReview: `RBAC: allowed by ClusterRoleBinding "b" of ClusterRole
   * "r" to Group "g"`), or undefined when no binding allows it.
   */
  allowedBy(who: UserInfo, what: RequestAttributes): string | undefined {
    const groups = new Set([...who.groups, 'system:authenticated']);
    if (groups.has('system:masters')) return '';
    const resource = what.subresource ? `${what.resource}/${what.subresource}` : what.resource;
    for (const binding of this.bindings.values()) {
      const subject = binding.subjects.find(
        (s) => (s.kind === 'User' && s.name === who.user) || (s.kind === 'Group' && groups.has(s.name)),
      );
      if (!subject) continue;
      const role = this.roles.get(binding.roleRef.name);
      if (!role) continue;
      const allowed = role.rules.some(
        (rule) =>
          matches(rule.apiGroups, what.group) &&
          matches(rule.resources, resource) &&
          matches(rule.verbs, what.verb) &&
          (rule.resourceNames === undefined ||
            rule.resourceNames.length === 0 ||
            (what.name !== undefined && rule.resourceNames.includes(what.name))),
      );
      if (allowed) {
        return `RBAC: allowed by ClusterRoleBinding "${binding.metadata.name}" of ClusterRole "${role.metadata.name}" to ${subject.kind} "${subject.name}"`;
      }
    }
    return undefined;
  }
}

function matches(values: readonly string[], value: string): boolean {
  return values.includes('*') || values.includes(value);
}

const models = new WeakMap<object, RbacModel>();

/** The RBAC model of one simulated cluster (`owner`: its Cluster), created on first use. */
export function rbacOf(owner: object): RbacModel {
  let model = models.get(owner);
  if (!model) {
    model = new RbacModel();
    models.set(owner, model);
  }
  return model;
}
