import {
  bool,
  int,
  int64,
  intOrString,
  listOf,
  mergedBy,
  object,
  opaque,
  quantities,
  ref,
  str,
  stringMap,
  strings,
  time,
  type Schema,
  type SchemaName,
} from './schema-builders.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const CORE = 'io.k8s.api.core.v1';

/** The schemas every group-version document shares (metadata, quantities, the PATCH body). */
const SHARED: Record<SchemaName, Schema> = {
  [`${META}.Patch`]: {
    type: 'object',
    description: 'The body of a PATCH request, in the patch type its Content-Type names.',
  },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': str(
    'A fixed-point amount such as `100m`, `2Gi` or `110`, serialized as a string.',
  ),
  [`${META}.ObjectMeta`]: object('Standard metadata every persisted object has.', {
    name: str('The name, unique within its namespace (or cluster-wide for cluster-scoped kinds).'),
    generateName: str('A prefix the server completes with a random suffix when name is empty on create.'),
    namespace: str('The namespace the object lives in; empty for cluster-scoped objects.'),
    uid: str('A unique identifier the server sets on create; never reused.'),
    resourceVersion: str(
      'An opaque version the server changes on every write (optimistic concurrency, watches).',
    ),
    generation: int64('A sequence number for the desired state, bumped by the server on spec changes.'),
    creationTimestamp: time('When the server created the object.'),
    deletionTimestamp: time('When the object will be (or started being) deleted; set by the server.'),
    deletionGracePeriodSeconds: int64('Seconds the object is allowed to terminate gracefully.'),
    labels: stringMap('Key/value pairs used to select and organize objects.'),
    annotations: stringMap('Key/value pairs for tools and libraries; not used to select objects.'),
    ownerReferences: mergedBy(
      'uid',
      listOf(`${META}.OwnerReference`, 'The objects this one depends on (garbage collection).'),
    ),
    finalizers: mergedBy(undefined, strings('Conditions that must be cleared before the object is removed.')),
    managedFields: {
      type: 'array',
      items: opaque('One field manager and the fields it owns.'),
      description: 'Which manager owns which fields (server-side apply bookkeeping).',
    },
  }),
  [`${META}.OwnerReference`]: object(
    'Identifies an owning object.',
    {
      apiVersion: str('API version of the owner.'),
      kind: str('Kind of the owner.'),
      name: str('Name of the owner.'),
      uid: str('UID of the owner.'),
      controller: bool('Whether the owner is the managing controller.'),
      blockOwnerDeletion: bool('Whether the owner cannot be deleted before this object.'),
    },
    ['apiVersion', 'kind', 'name', 'uid'],
  ),
};

function kind(
  group: string,
  version: string,
  name: string,
  description: string,
  parts: { spec?: SchemaName; status?: SchemaName; extra?: Record<string, Schema> },
): Schema {
  return {
    ...object(description, {
      apiVersion: str('The versioned schema of this representation, e.g. `v1` or `apps/v1`.'),
      kind: str('The REST resource this object represents, in CamelCase.'),
      metadata: ref(`${META}.ObjectMeta`, 'Standard object metadata.'),
      ...(parts.spec !== undefined ? { spec: ref(parts.spec, 'The desired state.') } : {}),
      ...(parts.status !== undefined
        ? { status: ref(parts.status, 'The observed state, written by the system.') }
        : {}),
      ...(parts.extra ?? {}),
    }),
    'x-kubernetes-group-version-kind': [{ group, version, kind: name }],
  };
}

/** core/v1: Node, Pod, Namespace, Event. */
const CORE_V1: Record<SchemaName, Schema> = {
  [`${CORE}.Node`]: kind('', 'v1', 'Node', 'A worker machine of the cluster. Each node runs a kubelet.', {
    spec: `${CORE}.NodeSpec`,
    status: `${CORE}.NodeStatus`,
  }),
  [`${CORE}.NodeSpec`]: object('How the node is set up.', {
    podCIDR: str('The pod IP range assigned to the node.'),
    podCIDRs: mergedBy(undefined, strings('The pod IP ranges assigned to the node (one per IP family).')),
    providerID: str('The node ID given by the cloud provider: <ProviderName>://<ProviderSpecificNodeID>.'),
    unschedulable: bool('When true, no new pods are scheduled on the node (cordon).'),
    taints: listOf(`${CORE}.Taint`, 'Taints repel pods that do not tolerate them.'),
    configSource: opaque('Deprecated; ignored.'),
    externalID: str('Deprecated; ignored.'),
  }),
  [`${CORE}.Taint`]: object(
    'Marks a node so that pods not tolerating it are kept off (or evicted).',
    {
      key: str('The taint key.'),
      value: str('The taint value.'),
      effect: str('What happens to pods that do not tolerate the taint.', {
        enum: ['NoExecute', 'NoSchedule', 'PreferNoSchedule'],
      }),
      timeAdded: time('When the taint was added (set for NoExecute taints and by the node controller).'),
    },
    ['key', 'effect'],
  ),
  [`${CORE}.NodeStatus`]: object('The most recently observed state of the node.', {
    capacity: quantities('All resources of the node.'),
    allocatable: quantities('The resources available for pods (capacity minus reservations).'),
    phase: str('Deprecated: the lifecycle phase of the node.'),
    conditions: mergedBy(
      'type',
      listOf(`${CORE}.NodeCondition`, 'The current conditions: Ready, MemoryPressure, DiskPressure, ...'),
    ),
    addresses: mergedBy('type', listOf(`${CORE}.NodeAddress`, 'Addresses the node is reachable at.')),
    daemonEndpoints: opaque('Ports of the daemons (the kubelet) running on the node.'),
    nodeInfo: ref(`${CORE}.NodeSystemInfo`, 'Facts about the machine: versions, IDs, architecture.'),
    images: {
      type: 'array',
      items: opaque('An image present on the node.'),
      description: 'Images on the node.',
    },
    volumesInUse: strings('Volumes attached and mounted on the node.'),
    volumesAttached: {
      type: 'array',
      items: opaque('An attached volume.'),
      description: 'Volumes attached.',
    },
    config: opaque('The status of the dynamic kubelet config.'),
    runtimeHandlers: { type: 'array', items: opaque('A runtime handler.'), description: 'Runtime handlers.' },
    features: opaque('Features the node supports.'),
  }),
  [`${CORE}.NodeCondition`]: object(
    'One condition of the node.',
    {
      type: str('The condition type: Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable.'),
      status: str('True, False or Unknown.'),
      lastHeartbeatTime: time('When the condition was last reported.'),
      lastTransitionTime: time('When the status last changed.'),
      reason: str('A one-word CamelCase reason for the last transition.'),
      message: str('A human-readable message about the last transition.'),
    },
    ['type', 'status'],
  ),
  [`${CORE}.NodeAddress`]: object(
    'One address of the node.',
    {
      type: str('Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS.'),
      address: str('The address.'),
    },
    ['type', 'address'],
  ),
  [`${CORE}.NodeSystemInfo`]: object('Identifiers and versions reported by the node.', {
    machineID: str('The machine ID (from /etc/machine-id).'),
    systemUUID: str('The system UUID reported by the hardware.'),
    bootID: str('The boot ID; changes on reboot.'),
    kernelVersion: str('The kernel version (uname -r).'),
    osImage: str('The operating system image (from /etc/os-release).'),
    containerRuntimeVersion: str('The container runtime and its version, e.g. containerd://1.7.0.'),
    kubeletVersion: str('The kubelet version.'),
    kubeProxyVersion: str('Deprecated: the kube-proxy version.'),
    operatingSystem: str('The operating system: linux or windows.'),
    architecture: str('The CPU architecture: amd64, arm64, ...'),
    swap: opaque('Swap information.'),
  }),
  [`${CORE}.Pod`]: kind('', 'v1', 'Pod', 'A group of containers scheduled together on one node.', {
    spec: `${CORE}.PodSpec`,
    status: `${CORE}.PodStatus`,
  }),
  [`${CORE}.PodSpec`]: {
    ...object('What the pod runs and how it is placed.', {
      containers: mergedBy('name', {
        type: 'array',
        items: opaque('One container: name, image, command, resources, ports, ...'),
        description: 'The containers of the pod.',
      }),
      nodeName: str('The node the pod is bound to (set by the scheduler).'),
      nodeSelector: stringMap('Labels a node must have for the pod to be scheduled on it.'),
      tolerations: {
        type: 'array',
        items: opaque('One toleration.'),
        description: 'Taints the pod tolerates.',
      },
      terminationGracePeriodSeconds: int64('Seconds the pod has to stop after a delete request.'),
    }),
    'x-kubernetes-preserve-unknown-fields': true,
  },
  [`${CORE}.PodStatus`]: {
    ...object('The most recently observed state of the pod.', {
      phase: str('Pending, Running, Succeeded, Failed or Unknown.'),
      podIP: str('The IP address of the pod.'),
      hostIP: str('The IP address of the node the pod runs on.'),
      startTime: time('When the kubelet acknowledged the pod.'),
      conditions: mergedBy('type', {
        type: 'array',
        items: opaque('One pod condition.'),
        description: 'Current conditions.',
      }),
    }),
    'x-kubernetes-preserve-unknown-fields': true,
  },
  [`${CORE}.Namespace`]: kind('', 'v1', 'Namespace', 'A scope for names; most objects live in one.', {
    spec: `${CORE}.NamespaceSpec`,
    status: `${CORE}.NamespaceStatus`,
  }),
  [`${CORE}.NamespaceSpec`]: object('How the namespace is set up.', {
    finalizers: strings('Values that must be removed before the namespace is deleted.'),
  }),
  [`${CORE}.NamespaceStatus`]: {
    ...object('The observed state of the namespace.', { phase: str('Active or Terminating.') }),
    'x-kubernetes-preserve-unknown-fields': true,
  },
  [`${CORE}.Event`]: {
    ...kind('', 'v1', 'Event', 'A report of something that happened to an object.', {
      extra: {
        involvedObject: opaque('The object the event is about.'),
        reason: str('A short machine-readable reason, e.g. NodeNotReady.'),
        message: str('A human-readable description.'),
        source: opaque('The component (and host) that reported the event.'),
        firstTimestamp: time('When the event was first seen.'),
        lastTimestamp: time('When the event was last seen.'),
        count: int('How many times the event occurred.'),
        type: str('Normal or Warning.'),
      },
    }),
    'x-kubernetes-preserve-unknown-fields': true,
  },
};

function workload(
  group: string,
  version: string,
  name: string,
  description: string,
): Record<SchemaName, Schema> {
  const base = `io.k8s.api.${group.split('.')[0]}.${version}`;
  return {
    [`${base}.${name}`]: kind(group, version, name, description, {
      spec: `${base}.${name}Spec`,
      status: `${base}.${name}Status`,
    }),
    [`${base}.${name}Spec`]: opaque(`The desired state of the ${name}.`),
    [`${base}.${name}Status`]: opaque(`The observed state of the ${name}, written by its controller.`),
  };
}

/** The schemas published for each group-version, by its OpenAPI v3 path (`api/v1`, `apis/apps/v1`). */
export const GROUP_VERSION_SCHEMAS: Record<string, Record<SchemaName, Schema>> = {
  'api/v1': { ...SHARED, ...CORE_V1 },
  'apis/apps/v1': {
    ...SHARED,
    ...workload('apps', 'v1', 'DaemonSet', 'Runs one copy of a pod on every (selected) node.'),
    ...workload('apps', 'v1', 'ReplicaSet', 'Keeps a number of identical pods running.'),
  },
  'apis/batch/v1': {
    ...SHARED,
    ...workload('batch', 'v1', 'Job', 'Runs pods until a number of them succeed.'),
  },
  'apis/policy/v1': {
    ...SHARED,
    'io.k8s.api.policy.v1.PodDisruptionBudget': kind(
      'policy',
      'v1',
      'PodDisruptionBudget',
      'Limits how many pods of a set may be down at once because of voluntary disruptions (evictions).',
      {
        spec: 'io.k8s.api.policy.v1.PodDisruptionBudgetSpec',
        status: 'io.k8s.api.policy.v1.PodDisruptionBudgetStatus',
      },
    ),
    'io.k8s.api.policy.v1.PodDisruptionBudgetSpec': object('What the budget protects and how much.', {
      minAvailable: intOrString('Pods that must stay available after an eviction (number or percentage).'),
      maxUnavailable: intOrString('Pods that may be unavailable after an eviction (number or percentage).'),
      selector: opaque('A label query over the pods the budget covers.'),
      unhealthyPodEvictionPolicy: str('When unhealthy pods may be evicted: IfHealthyBudget or AlwaysAllow.'),
    }),
    'io.k8s.api.policy.v1.PodDisruptionBudgetStatus': {
      ...object('What the disruption controller observed.', {
        disruptionsAllowed: int('How many pod disruptions are allowed now.'),
        currentHealthy: int('Healthy pods covered by the budget.'),
        desiredHealthy: int('The minimum healthy pods wanted.'),
        expectedPods: int('Pods covered by the budget.'),
        observedGeneration: int64('The generation this status was computed for.'),
      }),
      'x-kubernetes-preserve-unknown-fields': true,
    },
  },
  'apis/coordination.k8s.io/v1': {
    ...SHARED,
    'io.k8s.api.coordination.v1.Lease': kind(
      'coordination.k8s.io',
      'v1',
      'Lease',
      'A lease held by one holder.',
      {
        spec: 'io.k8s.api.coordination.v1.LeaseSpec',
      },
    ),
    'io.k8s.api.coordination.v1.LeaseSpec': {
      ...object('Who holds the lease and for how long.', {
        holderIdentity: str('The current holder.'),
        leaseDurationSeconds: int('How long the holder may wait before renewing.'),
        renewTime: str('When the holder last renewed the lease.', { format: 'date-time' }),
        acquireTime: str('When the current holder acquired the lease.', { format: 'date-time' }),
        leaseTransitions: int('How many times the lease changed holders.'),
      }),
      'x-kubernetes-preserve-unknown-fields': true,
    },
  },
};
