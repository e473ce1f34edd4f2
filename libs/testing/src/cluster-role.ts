/** A PolicyRule of a ClusterRole. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** An API server reachable with a bearer token (kube-sim: `sim.url`, `sim.token`). */
export interface ApiServerAccess {
  url: string;
  token: string;
}

async function create(api: ApiServerAccess, plural: string, body: object): Promise<void> {
  const response = await fetch(`${api.url}/apis/rbac.authorization.k8s.io/v1/${plural}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) {
    throw new Error(
      `creating ${plural} ${JSON.stringify(body)}: ${response.status} ${await response.text()}`,
    );
  }
}

/**
 * Creates the ClusterRole `role` with `rules` and binds it to `groups` (ClusterRoleBinding
 * `binding`) through the API, as an administrator would; each must answer 201.
 */
export async function grantClusterRole(
  api: ApiServerAccess,
  grant: { role: string; rules: PolicyRule[]; binding: string; groups: string[] },
): Promise<void> {
  await create(api, 'clusterroles', { metadata: { name: grant.role }, rules: grant.rules });
  await create(api, 'clusterrolebindings', {
    metadata: { name: grant.binding },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: grant.role },
    subjects: grant.groups.map((name) => ({ kind: 'Group', name })),
  });
}
