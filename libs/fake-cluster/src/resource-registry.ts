import type { KubeObject, StoredKind } from './api/kube-object.js';
import {
  EVENT_FIELDS,
  NODE_FIELDS,
  POD_FIELDS,
  eventFieldSet,
  nodeFieldSet,
  podFieldSet,
} from './api/field-selector.js';

/**
 * What the HTTP layer knows about one served resource: where it lives in the URL
 * space, its kinds, and the field labels a field selector may use.
 */
export interface ResourceDef {
  kind: StoredKind;
  /** URL plural: `nodes`, `pods`, `daemonsets`. */
  plural: string;
  /** API group: `''` for core. */
  group: string;
  version: string;
  /** `v1` or `apps/v1`: what objects carry. */
  apiVersion: string;
  namespaced: boolean;
  /** The field labels a field selector may name. */
  fields: readonly string[];
  /** The field set of an object, for field selectors. */
  fieldSet(object: KubeObject): Record<string, string>;
}

const metaFields = ['metadata.name', 'metadata.namespace'] as const;

function metaFieldSet(object: KubeObject): Record<string, string> {
  return { 'metadata.name': object.metadata.name, 'metadata.namespace': object.metadata.namespace ?? '' };
}

/** Every resource kube-sim serves. */
export const RESOURCES: readonly ResourceDef[] = [
  {
    kind: 'Node',
    plural: 'nodes',
    group: '',
    version: 'v1',
    apiVersion: 'v1',
    namespaced: false,
    fields: NODE_FIELDS,
    fieldSet: nodeFieldSet,
  },
  {
    kind: 'Pod',
    plural: 'pods',
    group: '',
    version: 'v1',
    apiVersion: 'v1',
    namespaced: true,
    fields: POD_FIELDS,
    fieldSet: podFieldSet,
  },
  {
    kind: 'Namespace',
    plural: 'namespaces',
    group: '',
    version: 'v1',
    apiVersion: 'v1',
    namespaced: false,
    fields: ['metadata.name', 'status.phase'],
    fieldSet: (o) => ({
      'metadata.name': o.metadata.name,
      'status.phase': String(o.status?.['phase'] ?? ''),
    }),
  },
  {
    kind: 'DaemonSet',
    plural: 'daemonsets',
    group: 'apps',
    version: 'v1',
    apiVersion: 'apps/v1',
    namespaced: true,
    fields: metaFields,
    fieldSet: metaFieldSet,
  },
  {
    kind: 'ReplicaSet',
    plural: 'replicasets',
    group: 'apps',
    version: 'v1',
    apiVersion: 'apps/v1',
    namespaced: true,
    fields: metaFields,
    fieldSet: metaFieldSet,
  },
  {
    kind: 'Job',
    plural: 'jobs',
    group: 'batch',
    version: 'v1',
    apiVersion: 'batch/v1',
    namespaced: true,
    fields: metaFields,
    fieldSet: metaFieldSet,
  },
  {
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    group: 'policy',
    version: 'v1',
    apiVersion: 'policy/v1',
    namespaced: true,
    fields: metaFields,
    fieldSet: metaFieldSet,
  },
  {
    kind: 'Lease',
    plural: 'leases',
    group: 'coordination.k8s.io',
    version: 'v1',
    apiVersion: 'coordination.k8s.io/v1',
    namespaced: true,
    fields: metaFields,
    fieldSet: metaFieldSet,
  },
  {
    kind: 'Event',
    plural: 'events',
    group: '',
    version: 'v1',
    apiVersion: 'v1',
    namespaced: true,
    fields: EVENT_FIELDS,
    fieldSet: eventFieldSet,
  },
];

/** The resource served at `group`/`version`/`plural`, if any. */
export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** The resource definition of a stored kind. */
export function resourceOfKind(kind: StoredKind): ResourceDef {
  const def = RESOURCES.find((r) => r.kind === kind);
  if (def === undefined) throw new Error(`no resource for kind ${kind}`);
  return def;
}
