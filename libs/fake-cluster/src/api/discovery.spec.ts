import { describe, expect, it } from 'vitest';
import type { JsonObject } from './kube-object.js';
import {
  apiGroupList,
  apiVersions,
  appsV1Resources,
  coreV1Resources,
  policyV1Resources,
  SUPPORTED_MINORS,
  versionInfo,
} from './discovery.js';

const resources = (list: JsonObject) => list['resources'] as JsonObject[];
const byName = (list: JsonObject, name: string) => resources(list).find((r) => r['name'] === name);

describe('discovery', () => {
  it.each(SUPPORTED_MINORS)('claims Kubernetes 1.%i in /version', (minor) => {
    const info = versionInfo({ kubernetesMinor: minor });
    expect(info['major']).toBe('1');
    expect(info['minor']).toBe(String(minor));
    expect(info['gitVersion']).toMatch(new RegExp(`^v1\\.${minor}\\.\\d+$`));
    expect(info['platform']).toBe('linux/amd64');
  });

  it('takes an explicit gitVersion and refuses unknown minors', () => {
    expect(versionInfo({ kubernetesMinor: 32, gitVersion: 'v1.32.4' })['gitVersion']).toBe('v1.32.4');
    expect(() => versionInfo({ kubernetesMinor: 26 })).toThrow(RangeError);
  });

  it('answers /api and /apis', () => {
    expect(apiVersions('127.0.0.1:6443')).toEqual({
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
    });
    const groups = apiGroupList()['groups'] as JsonObject[];
    expect(groups.map((g) => g['name'])).toEqual([
      'apps',
      'policy',
      'coordination.k8s.io',
      'authorization.k8s.io',
      'authentication.k8s.io',
    ]);
    expect(groups[0]).toEqual({
      name: 'apps',
      versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
    });
  });

  it('lists core/v1 resources with the fields kubectl needs', () => {
    const core = coreV1Resources();
    expect(core).toMatchObject({ kind: 'APIResourceList', groupVersion: 'v1' });
    expect(byName(core, 'nodes')).toMatchObject({ namespaced: false, kind: 'Node', shortNames: ['no'] });
    expect(byName(core, 'pods')).toMatchObject({
      namespaced: true,
      kind: 'Pod',
      shortNames: ['po'],
      categories: ['all'],
    });
    expect(byName(core, 'namespaces')).toMatchObject({
      namespaced: false,
      kind: 'Namespace',
      shortNames: ['ns'],
    });
    expect(byName(core, 'pods/eviction')).toEqual({
      name: 'pods/eviction',
      singularName: '',
      namespaced: true,
      group: 'policy',
      version: 'v1',
      kind: 'Eviction',
      verbs: ['create'],
    });
    for (const r of resources(core)) {
      expect(Object.keys(r)).toEqual(expect.arrayContaining(['name', 'namespaced', 'kind', 'verbs']));
      expect((r['verbs'] as string[]).length).toBeGreaterThan(0);
    }
    expect(byName(core, 'nodes')?.['verbs']).toEqual(
      expect.arrayContaining(['get', 'list', 'watch', 'patch', 'delete']),
    );
  });

  it('lists apps/v1 and policy/v1 resources', () => {
    expect(byName(appsV1Resources(), 'daemonsets')).toMatchObject({
      kind: 'DaemonSet',
      shortNames: ['ds'],
      namespaced: true,
    });
    expect(byName(appsV1Resources(), 'replicasets')).toMatchObject({
      kind: 'ReplicaSet',
      shortNames: ['rs'],
    });
    expect(policyV1Resources()['groupVersion']).toBe('policy/v1');
    expect(byName(policyV1Resources(), 'poddisruptionbudgets')).toMatchObject({
      kind: 'PodDisruptionBudget',
      shortNames: ['pdb'],
    });
  });
});
