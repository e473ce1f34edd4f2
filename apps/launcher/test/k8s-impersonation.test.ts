/**
 * k8s/watcher-impersonation: the only RBAC knm adds when a cluster runs operations as
 * the person (KNM_OPS_IMPERSONATE). Rendered with `kubectl kustomize`, validated
 * against the Kubernetes schemas, exact rules asserted; and no overlay includes it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { WORKSPACE_ROOT } from '@knm/testing';

const run = promisify(execFile);

async function render(dir: string): Promise<Record<string, unknown>[]> {
  const { stdout } = await run('kubectl', ['kustomize', join(WORKSPACE_ROOT, dir)], { timeout: 60_000 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as Record<string, unknown>);
}

describe('k8s/watcher-impersonation', () => {
  it('lets the watcher impersonate users and groups, nothing else', async () => {
    const objects = await render('k8s/watcher-impersonation');
    expect(objects.map((o) => o['kind'])).toEqual(['ClusterRole', 'ClusterRoleBinding']);
    const role = new ClusterRole(objects[0] as never);
    const binding = new ClusterRoleBinding(objects[1] as never);
    role.validate();
    binding.validate();
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] }]);
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'knm-watcher-impersonate',
    });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'knm-watcher', namespace: 'knm' }]);
  });

  it.each(['k8s/overlays/dev', 'k8s/overlays/prod', 'k8s/remote-cluster'])(
    '%s grants no impersonation (only where it is turned on)',
    async (dir) => {
      const rules = (await render(dir))
        .filter((o) => o['kind'] === 'ClusterRole' || o['kind'] === 'Role')
        .flatMap((o) => (o['rules'] as { verbs: string[] }[] | undefined) ?? []);
      expect(rules.flatMap((r) => r.verbs)).not.toContain('impersonate');
    },
  );
});
