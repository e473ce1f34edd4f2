/**
 * The discovery documents kubectl reads before any command: `/version`, `/api`,
 * `/apis`, `/api/v1`, `/apis/apps/v1`, `/apis/policy/v1`, in the plain
 * (non-aggregated) format every kubectl from 1.27 to 1.33 accepts. Verbs list what
 * a real API server lists, so kubectl's checks (`pods/eviction` for drain, short
 * names for `get no`) behave as on a real cluster.
 */
import type { JsonObject } from './kube-object.js';

/** Options of {@link versionInfo}. */
export interface DiscoveryOptions {
  /** The Kubernetes minor version to claim, 27..33 (the kubectl dispatcher here picks its binary by it). Default 32. */
  kubernetesMinor: number;
  /** The full version string. Default: the latest patch release of that minor, e.g. `v1.32.5`. */
  gitVersion?: string;
}

/** The Kubernetes minor versions kube-sim can claim to be. */
export const SUPPORTED_MINORS: readonly number[] = [27, 28, 29, 30, 31, 32, 33];

/** Default Kubernetes minor version. */
export const DEFAULT_KUBERNETES_MINOR = 32;

/** A real patch release (and its Go version) per minor; the same as the kubectl binaries installed here. */
const RELEASES: Record<number, { patch: number; go: string; built: string }> = {
  27: { patch: 16, go: 'go1.22.5', built: '2024-07-17T01:44:26Z' },
  28: { patch: 15, go: 'go1.22.8', built: '2024-10-22T20:26:22Z' },
  29: { patch: 14, go: 'go1.23.6', built: '2025-02-12T21:27:41Z' },
  30: { patch: 13, go: 'go1.23.8', built: '2025-05-15T14:26:18Z' },
  31: { patch: 9, go: 'go1.23.8', built: '2025-05-15T14:24:44Z' },
  32: { patch: 5, go: 'go1.23.8', built: '2025-05-15T14:22:04Z' },
  33: { patch: 1, go: 'go1.24.2', built: '2025-05-15T14:19:14Z' },
};

/**
 * `/version` (version.Info): major "1", the minor as a string, gitVersion, build
 * facts, platform linux/amd64. Throws RangeError for a minor outside 27..33.
 */
export function versionInfo(o: DiscoveryOptions): JsonObject {
  const minor = o.kubernetesMinor;
  const release = RELEASES[minor];
  if (release === undefined) {
    throw new RangeError(`kubernetesMinor must be one of ${SUPPORTED_MINORS.join(', ')}; got ${minor}`);
  }
  return {
    major: '1',
    minor: String(minor),
    gitVersion: o.gitVersion ?? `v1.${minor}.${release.patch}`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: release.built,
    goVersion: release.go,
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

/** `/api` (APIVersions): the core group's only version, v1, reachable at `serverAddress` (`host:port`). */
export function apiVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function group(name: string, versions: readonly string[] = ['v1']): JsonObject {
  const all = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: all, preferredVersion: all[0] ?? null };
}

/**
 * `/apis` (APIGroupList): apps/v1, policy/v1, coordination.k8s.io/v1, the review
 * groups authorization.k8s.io/v1 and authentication.k8s.io (v1, v1beta1), and with
 * `metrics` metrics.k8s.io/v1beta1 (what metrics-server's APIService adds; without
 * it `kubectl top` says the Metrics API is not available).
 */
export function apiGroupList(options: { metrics: boolean } = { metrics: false }): JsonObject {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [
      group('apps'),
      group('policy'),
      group('coordination.k8s.io'),
      group('authorization.k8s.io'),
      group('authentication.k8s.io', ['v1', 'v1beta1']),
      ...(options.metrics ? [group('metrics.k8s.io', ['v1beta1'])] : []),
    ],
  };
}

interface Resource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  group?: string;
  version?: string;
}

const READ_WRITE = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS = ['get', 'patch', 'update'];

function resourceList(groupVersion: string, resources: Resource[]): JsonObject {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: resources.map((r) => {
      const out: JsonObject = { name: r.name, singularName: r.singularName, namespaced: r.namespaced };
      if (r.group !== undefined) out['group'] = r.group;
      if (r.version !== undefined) out['version'] = r.version;
      out['kind'] = r.kind;
      out['verbs'] = r.verbs;
      if (r.shortNames !== undefined) out['shortNames'] = r.shortNames;
      if (r.categories !== undefined) out['categories'] = r.categories;
      return out;
    }),
  };
}

/**
 * `/api/v1` (APIResourceList): events (ev), namespaces (ns), nodes (no), pods (po, category all)
 * with their status subresources, and `pods/eviction` as a policy/v1 Eviction
 * (without it, drain falls back to DELETE).
 */
export function coreV1Resources(): JsonObject {
  return resourceList('v1', [
    {
      name: 'namespaces',
      singularName: 'namespace',
      namespaced: false,
      kind: 'Namespace',
      verbs: READ_WRITE,
      shortNames: ['ns'],
    },
    { name: 'namespaces/status', singularName: '', namespaced: false, kind: 'Namespace', verbs: STATUS },
    {
      name: 'events',
      singularName: 'event',
      namespaced: true,
      kind: 'Event',
      verbs: READ_WRITE,
      shortNames: ['ev'],
    },
    {
      name: 'nodes',
      singularName: 'node',
      namespaced: false,
      kind: 'Node',
      verbs: READ_WRITE,
      shortNames: ['no'],
    },
    { name: 'nodes/status', singularName: '', namespaced: false, kind: 'Node', verbs: STATUS },
    {
      name: 'pods',
      singularName: 'pod',
      namespaced: true,
      kind: 'Pod',
      verbs: READ_WRITE,
      shortNames: ['po'],
      categories: ['all'],
    },
    {
      name: 'pods/eviction',
      singularName: '',
      namespaced: true,
      group: 'policy',
      version: 'v1',
      kind: 'Eviction',
      verbs: ['create'],
    },
    { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: STATUS },
  ]);
}

/** `/apis/apps/v1`: daemonsets (ds) and replicasets (rs), both in category all. */
export function appsV1Resources(): JsonObject {
  return resourceList('apps/v1', [
    {
      name: 'daemonsets',
      singularName: 'daemonset',
      namespaced: true,
      kind: 'DaemonSet',
      verbs: READ_WRITE,
      shortNames: ['ds'],
      categories: ['all'],
    },
    { name: 'daemonsets/status', singularName: '', namespaced: true, kind: 'DaemonSet', verbs: STATUS },
    {
      name: 'replicasets',
      singularName: 'replicaset',
      namespaced: true,
      kind: 'ReplicaSet',
      verbs: READ_WRITE,
      shortNames: ['rs'],
      categories: ['all'],
    },
    { name: 'replicasets/status', singularName: '', namespaced: true, kind: 'ReplicaSet', verbs: STATUS },
  ]);
}

/** `/apis/policy/v1`: poddisruptionbudgets (pdb). */
export function policyV1Resources(): JsonObject {
  return resourceList('policy/v1', [
    {
      name: 'poddisruptionbudgets',
      singularName: 'poddisruptionbudget',
      namespaced: true,
      kind: 'PodDisruptionBudget',
      verbs: READ_WRITE,
      shortNames: ['pdb'],
    },
    {
      name: 'poddisruptionbudgets/status',
      singularName: '',
      namespaced: true,
      kind: 'PodDisruptionBudget',
      verbs: STATUS,
    },
  ]);
}

/** `/apis/coordination.k8s.io/v1`: leases (the node heartbeats kubelets renew). */
export function coordinationV1Resources(): JsonObject {
  return resourceList('coordination.k8s.io/v1', [
    { name: 'leases', singularName: 'lease', namespaced: true, kind: 'Lease', verbs: READ_WRITE },
  ]);
}

/** `/apis/authorization.k8s.io/v1`: the reviews a client makes about itself (`kubectl auth can-i`). */
export function authorizationV1Resources(): JsonObject {
  return resourceList('authorization.k8s.io/v1', [
    {
      name: 'selfsubjectaccessreviews',
      singularName: 'selfsubjectaccessreview',
      namespaced: false,
      kind: 'SelfSubjectAccessReview',
      verbs: ['create'],
    },
    {
      name: 'selfsubjectrulesreviews',
      singularName: 'selfsubjectrulesreview',
      namespaced: false,
      kind: 'SelfSubjectRulesReview',
      verbs: ['create'],
    },
  ]);
}

/** `/apis/authentication.k8s.io/<version>`: SelfSubjectReview (`kubectl auth whoami`). */
export function authenticationResources(version: 'v1' | 'v1beta1'): JsonObject {
  return resourceList(`authentication.k8s.io/${version}`, [
    {
      name: 'selfsubjectreviews',
      singularName: 'selfsubjectreview',
      namespaced: false,
      kind: 'SelfSubjectReview',
      verbs: ['create'],
    },
  ]);
}
