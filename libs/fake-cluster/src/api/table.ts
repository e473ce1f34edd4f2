/**
 * Server-side printing (`meta.k8s.io/v1` Table), which is what `kubectl get` asks
 * for and prints: the same columns, cells and row objects as the API server's
 * printers for nodes, pods, namespaces and disruption budgets (pkg/printers/internalversion), and
 * NAME/AGE for other kinds. All columns are always filled (the server prints
 * "wide"); kubectl shows `priority: 1` columns only with `-o wide`.
 */
import { statusErrors } from './api-status.js';
import { ageSince } from './human-duration.js';
import type { JsonObject, JsonValue, KubeObject } from './kube-object.js';

/** What each row embeds as `object`: nothing, PartialObjectMetadata (the default) or the whole object. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Options of {@link toTable}. */
export interface TableOptions {
  /** The list's resourceVersion, copied to the Table's metadata. */
  resourceVersion: string;
  /** The continue token of this page, if more pages follow. */
  continue?: string;
  /** How many items remain after this page, if known. */
  remainingItemCount?: number;
  /** What rows embed as `object` (from the `includeObject` query parameter). */
  includeObject: IncludeObject;
  /** The clock AGE cells are computed against. */
  now: Date;
  /** The Table's apiVersion, from content negotiation. Default `meta.k8s.io/v1`. */
  apiVersion?: 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1';
}

interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority?: number;
}

const NAME: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
};
const AGE: Column = {
  name: 'Age',
  type: 'string',
  description:
    'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
};

const NODE_COLUMNS: Column[] = [
  NAME,
  { name: 'Status', type: 'string', description: 'The status of the node' },
  { name: 'Roles', type: 'string', description: 'The roles of the node' },
  AGE,
  { name: 'Version', type: 'string', description: 'Kubelet Version reported by the node.' },
  {
    name: 'Internal-IP',
    type: 'string',
    priority: 1,
    description: 'List of addresses reachable to the node.',
  },
  {
    name: 'External-IP',
    type: 'string',
    priority: 1,
    description: 'List of addresses reachable to the node.',
  },
  {
    name: 'OS-Image',
    type: 'string',
    priority: 1,
    description: 'OS Image reported by the node from /etc/os-release.',
  },
  {
    name: 'Kernel-Version',
    type: 'string',
    priority: 1,
    description: "Kernel Version reported by the node from 'uname -r'.",
  },
  {
    name: 'Container-Runtime',
    type: 'string',
    priority: 1,
    description:
      'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
  },
];

const POD_COLUMNS: Column[] = [
  NAME,
  {
    name: 'Ready',
    type: 'string',
    description: 'The aggregate readiness state of this pod for accepting traffic.',
  },
  { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.' },
  {
    name: 'Restarts',
    type: 'string',
    description:
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
  },
  AGE,
  {
    name: 'IP',
    type: 'string',
    priority: 1,
    description:
      'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
  },
  {
    name: 'Node',
    type: 'string',
    priority: 1,
    description: 'NodeName is a request to schedule this pod onto a specific node.',
  },
  {
    name: 'Nominated Node',
    type: 'string',
    priority: 1,
    description: 'nominatedNodeName is set only when this pod preempts other pods on the node.',
  },
  {
    name: 'Readiness Gates',
    type: 'string',
    priority: 1,
    description: 'If specified, all readiness gates will be evaluated for pod readiness.',
  },
];

const NAMESPACE_COLUMNS: Column[] = [
  NAME,
  { name: 'Status', type: 'string', description: 'The status of the namespace' },
  AGE,
];

const PDB_COLUMNS: Column[] = [
  NAME,
  {
    name: 'Min Available',
    type: 'string',
    description:
      'An eviction is allowed if at least "minAvailable" pods selected by "selector" will still be available after the eviction, i.e. even in the absence of the evicted pod.',
  },
  {
    name: 'Max Unavailable',
    type: 'string',
    description:
      'An eviction is allowed if at most "maxUnavailable" pods selected by "selector" are unavailable after the eviction, i.e. even in absence of the evicted pod.',
  },
  {
    name: 'Allowed Disruptions',
    type: 'integer',
    description: 'Number of pod disruptions that are currently allowed.',
  },
  AGE,
];

const EVENT_COLUMNS: Column[] = [
  { name: 'Last Seen', type: 'string', description: 'When the event was last seen.' },
  { name: 'Type', type: 'string', description: 'Normal or Warning.' },
  { name: 'Reason', type: 'string', description: 'Why the event happened, in one CamelCase word.' },
  { name: 'Object', type: 'string', description: 'The object the event is about, as kind/name.' },
  { name: 'Subobject', type: 'string', priority: 1, description: 'The part of the object, if any.' },
  { name: 'Source', type: 'string', priority: 1, description: 'The component (and host) that reported it.' },
  { name: 'Message', type: 'string', description: 'A human-readable description.' },
  { name: 'First Seen', type: 'string', priority: 1, description: 'When the event was first seen.' },
  { name: 'Count', type: 'string', priority: 1, description: 'How many times it happened.' },
  { name: 'Name', type: 'string', priority: 1, description: 'The name of the event object.' },
];

function eventCells(o: KubeObject, now: Date): JsonValue[] {
  const about = obj(o['involvedObject'] as JsonValue | undefined) ?? {};
  const source = obj(o['source'] as JsonValue | undefined) ?? {};
  const component = str(source['component']) ?? '';
  const host = str(source['host']);
  return [
    ageSince(str(o['lastTimestamp'] as JsonValue | undefined), now),
    str(o['type'] as JsonValue | undefined) ?? '',
    str(o['reason'] as JsonValue | undefined) ?? '',
    `${(str(about['kind']) ?? '').toLowerCase()}/${str(about['name']) ?? ''}`,
    str(about['fieldPath']) ?? '',
    host !== undefined ? `${component}, ${host}` : component,
    str(o['message'] as JsonValue | undefined) ?? '',
    ageSince(str(o['firstTimestamp'] as JsonValue | undefined), now),
    Number(o['count'] ?? 1),
    o.metadata.name,
  ];
}

/** An int-or-string budget field as the printer shows it (`N/A` when unset). */
function intOrString(value: JsonValue | undefined): string {
  return typeof value === 'number' || typeof value === 'string' ? String(value) : 'N/A';
}

function obj(value: JsonValue | undefined): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}
function list(value: JsonValue | undefined): JsonValue[] {
  return Array.isArray(value) ? value : [];
}
function str(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** STATUS of a node: Ready/NotReady from the Ready condition (Unknown without one), plus SchedulingDisabled. */
export function nodeStatusCell(node: KubeObject): string {
  const ready = list(node.status?.['conditions'])
    .map(obj)
    .find((c) => c?.['type'] === 'Ready');
  const status = ready === undefined ? ['Unknown'] : [ready['status'] === 'True' ? 'Ready' : 'NotReady'];
  if (node.spec?.['unschedulable'] === true) status.push('SchedulingDisabled');
  return status.join(',');
}

/** ROLES of a node: `node-role.kubernetes.io/<role>` keys and `kubernetes.io/role` values, sorted; `<none>` if none. */
export function nodeRolesCell(node: KubeObject): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith('node-role.kubernetes.io/')) {
      const role = key.slice('node-role.kubernetes.io/'.length);
      if (role !== '') roles.add(role);
    } else if (key === 'kubernetes.io/role' && value !== '') {
      roles.add(value);
    }
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

function nodeAddress(node: KubeObject, type: string): string {
  const found = list(node.status?.['addresses'])
    .map(obj)
    .find((a) => a?.['type'] === type);
  return str(found?.['address']) ?? '<none>';
}

function nodeCells(node: KubeObject, now: Date): JsonValue[] {
  const info = obj(node.status?.['nodeInfo']);
  const orUnknown = (v: JsonValue | undefined) => {
    const s = str(v);
    return s === undefined || s === '' ? '<unknown>' : s;
  };
  return [
    node.metadata.name,
    nodeStatusCell(node),
    nodeRolesCell(node),
    ageSince(node.metadata.creationTimestamp, now),
    str(info?.['kubeletVersion']) ?? '',
    nodeAddress(node, 'InternalIP'),
    nodeAddress(node, 'ExternalIP'),
    orUnknown(info?.['osImage']),
    orUnknown(info?.['kernelVersion']),
    orUnknown(info?.['containerRuntimeVersion']),
  ];
}

/** READY, STATUS and RESTARTS of a pod, following the API server's printPod. */
export function podStatusCells(pod: KubeObject): { ready: string; status: string; restarts: string } {
  const total = list(pod.spec?.['containers']).length;
  let reason = str(pod.status?.['reason']) || str(pod.status?.['phase']) || '';
  let restarts = 0;
  let readyCount = 0;
  let hasRunning = false;
  const statuses = list(pod.status?.['containerStatuses']).map(obj);
  for (let i = statuses.length - 1; i >= 0; i--) {
    const container = statuses[i];
    if (container === undefined) continue;
    const count = container['restartCount'];
    restarts += typeof count === 'number' ? count : 0;
    const state = obj(container['state']);
    const waiting = obj(state?.['waiting']);
    const terminated = obj(state?.['terminated']);
    if (waiting !== undefined && str(waiting['reason'])) {
      reason = str(waiting['reason']) ?? reason;
    } else if (terminated !== undefined && str(terminated['reason'])) {
      reason = str(terminated['reason']) ?? reason;
    } else if (terminated !== undefined) {
      const signal = terminated['signal'];
      reason =
        typeof signal === 'number' && signal !== 0
          ? `Signal:${signal}`
          : `ExitCode:${String(terminated['exitCode'] ?? 0)}`;
    } else if (container['ready'] === true && state?.['running'] !== undefined) {
      hasRunning = true;
      readyCount++;
    }
  }
  if (reason === 'Completed' && hasRunning) {
    const readyCondition = list(pod.status?.['conditions'])
      .map(obj)
      .some((c) => c?.['type'] === 'Ready' && c['status'] === 'True');
    reason = readyCondition ? 'Running' : 'NotReady';
  }
  const phase = str(pod.status?.['phase']);
  if (pod.metadata.deletionTimestamp !== undefined) {
    if (pod.status?.['reason'] === 'NodeLost') reason = 'Unknown';
    else if (phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  }
  return { ready: `${readyCount}/${total}`, status: reason, restarts: String(restarts) };
}

function podCells(pod: KubeObject, now: Date): JsonValue[] {
  const { ready, status, restarts } = podStatusCells(pod);
  const podIPs = list(pod.status?.['podIPs']).map(obj);
  const ip = str(podIPs[0]?.['ip']) || str(pod.status?.['podIP']) || '<none>';
  const gates = list(pod.spec?.['readinessGates']).map(obj);
  let readinessGates = '<none>';
  if (gates.length > 0) {
    const conditions = list(pod.status?.['conditions']).map(obj);
    const met = gates.filter((g) =>
      conditions.some((c) => c?.['type'] === g?.['conditionType'] && c?.['status'] === 'True'),
    ).length;
    readinessGates = `${met}/${gates.length}`;
  }
  return [
    pod.metadata.name,
    ready,
    status,
    restarts,
    ageSince(pod.metadata.creationTimestamp, now),
    ip,
    str(pod.spec?.['nodeName']) || '<none>',
    str(pod.status?.['nominatedNodeName']) || '<none>',
    readinessGates,
  ];
}

function columnJson(c: Column): JsonObject {
  return {
    name: c.name,
    type: c.type,
    format: c.format ?? '',
    description: c.description,
    priority: c.priority ?? 0,
  };
}

/** The row conditions the API server sets on finished pods (kubectl may dim them). */
function podRowConditions(pod: KubeObject): JsonValue[] | undefined {
  const phase = pod.status?.['phase'];
  if (phase === 'Succeeded') {
    return [
      {
        type: 'Completed',
        status: 'True',
        reason: 'Succeeded',
        message: 'The pod has completed successfully.',
      },
    ];
  }
  if (phase === 'Failed')
    return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
  return undefined;
}

/** The `object` of a row for `includeObject`. */
function rowObject(o: KubeObject, include: IncludeObject): JsonObject | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return o as unknown as JsonObject;
  return {
    kind: 'PartialObjectMetadata',
    apiVersion: 'meta.k8s.io/v1',
    metadata: o.metadata as unknown as JsonObject,
  };
}

/**
 * Renders `objects` of one kind as a Table. Node, Pod, Namespace, Event and
 * PodDisruptionBudget get the API server's columns; any other kind gets NAME and AGE. Rows keep the input order.
 */
export function toTable(
  kind: 'Node' | 'Pod' | 'Namespace' | (string & {}),
  objects: readonly KubeObject[],
  options: TableOptions,
): JsonObject {
  let columns: Column[];
  let cells: (o: KubeObject) => JsonValue[];
  switch (kind) {
    case 'Node':
      columns = NODE_COLUMNS;
      cells = (o) => nodeCells(o, options.now);
      break;
    case 'Pod':
      columns = POD_COLUMNS;
      cells = (o) => podCells(o, options.now);
      break;
    case 'Namespace':
      columns = NAMESPACE_COLUMNS;
      cells = (o) => [
        o.metadata.name,
        str(o.status?.['phase']) ?? '',
        ageSince(o.metadata.creationTimestamp, options.now),
      ];
      break;
    case 'Event':
      columns = EVENT_COLUMNS;
      cells = (o) => eventCells(o, options.now);
      break;
    case 'PodDisruptionBudget':
      columns = PDB_COLUMNS;
      cells = (o) => [
        o.metadata.name,
        intOrString(o.spec?.['minAvailable']),
        intOrString(o.spec?.['maxUnavailable']),
        Number(o.status?.['disruptionsAllowed'] ?? 0),
        ageSince(o.metadata.creationTimestamp, options.now),
      ];
      break;
    default:
      columns = [NAME, AGE];
      cells = (o) => [o.metadata.name, ageSince(o.metadata.creationTimestamp, options.now)];
  }
  const metadata: JsonObject = { resourceVersion: options.resourceVersion };
  if (options.continue) metadata['continue'] = options.continue;
  if (options.remainingItemCount !== undefined) metadata['remainingItemCount'] = options.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: options.apiVersion ?? 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: columns.map(columnJson),
    rows: objects.map((o) => {
      const row: JsonObject = { cells: cells(o) };
      const conditions = kind === 'Pod' ? podRowConditions(o) : undefined;
      if (conditions) row['conditions'] = conditions;
      const embedded = rowObject(o, options.includeObject);
      if (embedded) row['object'] = embedded;
      return row;
    }),
  };
}

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseAccept(accept: string): MediaRange[] {
  return accept
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.split(';').map((s) => s.trim());
      const parsed: Record<string, string> = {};
      for (const p of params) {
        const eq = p.indexOf('=');
        if (eq > 0) parsed[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
      }
      return { type: type.toLowerCase(), params: parsed };
    })
    .filter((m) => m.type !== '');
}

/**
 * Which Table version the Accept header asks for before plain JSON, or undefined
 * when plain JSON comes first (or no Table is asked for). Media ranges kube-sim
 * cannot serve (protobuf, PartialObjectMetadataList, ...) are skipped, as the API
 * server skips what it cannot produce.
 */
export function negotiateTable(
  acceptHeader: string | undefined,
): 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1' | undefined {
  if (!acceptHeader) return undefined;
  for (const { type, params } of parseAccept(acceptHeader)) {
    const json = type === 'application/json' || type === 'application/*' || type === '*/*';
    if (!json) continue;
    const as = params['as'];
    if (as === undefined) return undefined;
    if (
      as === 'Table' &&
      params['g'] === 'meta.k8s.io' &&
      (params['v'] === 'v1' || params['v'] === 'v1beta1')
    ) {
      return params['v'] === 'v1' ? 'meta.k8s.io/v1' : 'meta.k8s.io/v1beta1';
    }
  }
  return undefined;
}

/** True when the Accept header asks for a `meta.k8s.io` Table (v1 or v1beta1) before plain JSON. */
export function wantsTable(acceptHeader: string | undefined): boolean {
  return negotiateTable(acceptHeader) !== undefined;
}

/**
 * The `includeObject` query parameter; default `Metadata` (as the API server).
 * Any other value is a 400 BadRequest.
 */
export function parseIncludeObject(value: string | undefined): IncludeObject {
  if (value === undefined || value === '') return 'Metadata';
  if (value === 'None' || value === 'Metadata' || value === 'Object') return value;
  throw statusErrors.badRequest(
    `includeObject: Unsupported value: ${JSON.stringify(value)}: supported values: "Metadata", "None", "Object"`,
  );
}
