/**
 * The deterministic simulated world kube-sim starts from: namespaces, control-plane,
 * worker and GPU nodes spread over three zones, and pods placed on them the way a
 * scheduler would (DaemonSet pods on every node, static pods on control planes,
 * ReplicaSet and Job pods on workers within pods/cpu/memory/GPU allocatable, a few
 * Pending), with the DaemonSet, ReplicaSet and Job objects that own them.
 */
import type { JsonObject, KubeObject, OwnerReference } from '../api/kube-object.js';
import {
  allocatableOf,
  CONTROL_PLANE_TYPES,
  GPU_TYPES,
  MAX_PODS_PER_NODE,
  makeNode,
  nodeInternalIp,
  nodePodCidr,
  WORKER_TYPES,
  type InstanceType,
} from './node-factory.js';
import { makePod, type PodPhase } from './pod-factory.js';
import {
  appShape,
  fixedShape,
  gpuShape,
  jobShape,
  type PlacementRequest,
  type PodShape,
} from './pod-shapes.js';
import { Rng } from './rng.js';
import { controllerRef, makeDaemonSet, makeJob, makeNamespace, makeReplicaSet } from './workload-factory.js';

/** Options of {@link generateWorld}. */
export interface WorldOptions {
  /** Number of nodes (control planes included). */
  nodes: number;
  /** Number of pods, exactly (system pods included). */
  pods: number;
  /** Same seed (and same `now`), byte-identical world. */
  seed: number;
  /** Used in node names (`<cluster>-worker-0001`) and the `knm.dev/cluster` node label. */
  clusterName: string;
  /** Timestamps are relative to it. Default: the current time (pass it for byte-identical worlds). */
  now?: Date;
  /** Default 3 when nodes >= 10, else 1 (0 without nodes). */
  controlPlaneNodes?: number;
  /** Share of workers that are GPU nodes. Default 0.1. */
  gpuFraction?: number;
  /** Kubelet minor version the nodes report (27..33). Default 32. */
  kubernetesMinor?: number;
}

/** Everything {@link generateWorld} makes, each list in creation order. */
export interface World {
  namespaces: KubeObject[];
  nodes: KubeObject[];
  pods: KubeObject[];
  daemonSets: KubeObject[];
  replicaSets: KubeObject[];
  jobs: KubeObject[];
}

/** The namespaces every world has: system ones, then application ones. */
export const SYSTEM_NAMESPACES: readonly string[] = [
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'monitoring',
];
/** Application namespaces holding ReplicaSet pods. */
export const APP_NAMESPACES: readonly string[] = ['payments', 'checkout', 'catalog', 'search', 'ml-training'];
/** The namespace holding Job pods. */
export const JOB_NAMESPACE = 'batch-jobs';

const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2', 'ap-southeast-1', 'eu-central-1'];
const APP_NAMES = [
  'api',
  'web',
  'worker',
  'cache',
  'gateway',
  'auth',
  'orders',
  'inventory',
  'notifier',
  'frontend',
  'indexer',
  'scorer',
];
const JOB_NAMES = ['report', 'etl', 'backup', 'reindex', 'export', 'cleanup'];
const GPU_TOLERATION: JsonObject = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };
const CONTROL_PLANE_TOLERATION: JsonObject = {
  key: 'node-role.kubernetes.io/control-plane',
  effect: 'NoSchedule',
};

/** What is left on a node while placing pods. */
interface Slot {
  node: KubeObject;
  name: string;
  ip: string;
  pods: number;
  /** What is left of allocatable (cpuMilli of cpuAllocatable, ...). */
  cpuMilli: number;
  cpuAllocatable: number;
  memoryMi: number;
  gpus: number;
  hugepagesMi: number;
  /** How long ago the node registered, in seconds (its pods are younger). */
  ageSeconds: number;
  /** The node's pod CIDR without the last octet (`10.128.1.`); pod IPs are handed out from it. */
  podNet: string;
  /** The last octet of the next pod IP. */
  nextHost: number;
}

type Request = PlacementRequest;

/**
 * Places pods on a pool of nodes like a (very) simple scheduler, deterministic: of
 * two random nodes with room (within allocatable), the one with the larger share of
 * its cpu free, as the scheduler's LeastAllocated scoring spreads pods.
 */
class Pool {
  private readonly open: Slot[];

  constructor(
    private readonly rng: Rng,
    slots: Slot[],
  ) {
    this.open = [...slots];
  }

  private fits(slot: Slot, r: Request): boolean {
    return (
      slot.pods > 0 &&
      slot.cpuMilli >= r.cpuMilli &&
      slot.memoryMi >= r.memoryMi &&
      slot.gpus >= r.gpus &&
      slot.hugepagesMi >= r.hugepagesMi
    );
  }

  /** A node with room for `r` (now reserved), or undefined when none has room. */
  place(r: Request): Slot | undefined {
    let chosen: Slot | undefined;
    let candidates = 0;
    for (let attempt = 0; attempt < 8 && this.open.length > 0 && candidates < 2; attempt++) {
      const i = this.rng.int(0, this.open.length);
      const slot = this.open[i];
      if (slot === undefined) break;
      if (slot.pods <= 0) this.remove(i);
      else if (this.fits(slot, r)) {
        candidates++;
        if (chosen === undefined || freeCpuShare(slot) > freeCpuShare(chosen)) chosen = slot;
      }
    }
    if (chosen === undefined) chosen = this.open.find((s) => this.fits(s, r));
    if (chosen === undefined) return undefined;
    reserve(chosen, r);
    return chosen;
  }

  private remove(i: number): void {
    const last = this.open.pop();
    if (last !== undefined && i < this.open.length) this.open[i] = last;
  }
}

function freeCpuShare(slot: Slot): number {
  return slot.cpuAllocatable > 0 ? slot.cpuMilli / slot.cpuAllocatable : 0;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function reserve(slot: Slot, r: Request): void {
  slot.pods--;
  slot.cpuMilli -= r.cpuMilli;
  slot.memoryMi -= r.memoryMi;
  slot.gpus -= r.gpus;
  slot.hugepagesMi -= r.hugepagesMi;
}

/**
 * Builds the world for `options`. Deterministic: the same options (seed and `now`
 * included) give a byte-identical world. Invariants: exactly `options.pods` pods;
 * no node holds more bound pods than its `pods` capacity (110), nor more effective
 * requests (`podResourceTotals`) of cpu/memory/GPUs/hugepages than its allocatable; each DaemonSet has at most one pod per node;
 * pods that do not fit anywhere are Pending without a node. With fewer pods than
 * system pods (4 static pods per control plane, 2-3 DaemonSet pods per node), the
 * nodes listed last lack some system pods.
 */
export function generateWorld(options: WorldOptions): World {
  if (!Number.isInteger(options.nodes) || options.nodes < 0)
    throw new RangeError('nodes must be a non-negative integer');
  if (!Number.isInteger(options.pods) || options.pods < 0)
    throw new RangeError('pods must be a non-negative integer');
  const rng = new Rng(options.seed);
  const now = options.now ?? new Date();
  const cluster = options.clusterName;
  const minor = options.kubernetesMinor;
  const cpCount = Math.min(
    options.nodes,
    options.controlPlaneNodes ?? (options.nodes >= 10 ? 3 : options.nodes > 0 ? 1 : 0),
  );
  const workerCount = options.nodes - cpCount;
  const gpuCount = Math.min(workerCount, Math.round(workerCount * (options.gpuFraction ?? 0.1)));
  const region = rng.pick(REGIONS);
  const zones = ['a', 'b', 'c'].map((z) => `${region}${z}`);
  const clusterAge = rng.int(120, 400) * 86400;

  const world: World = { namespaces: [], nodes: [], pods: [], daemonSets: [], replicaSets: [], jobs: [] };
  for (const ns of [...SYSTEM_NAMESPACES, ...APP_NAMESPACES, JOB_NAMESPACE]) {
    world.namespaces.push(
      makeNamespace(rng, ns, now, SYSTEM_NAMESPACES.includes(ns) ? clusterAge : rng.int(86400, clusterAge)),
    );
  }

  // Nodes.
  const cpSlots: Slot[] = [];
  const workerSlots: Slot[] = [];
  const gpuSlots: Slot[] = [];
  const allSlots: Slot[] = [];
  const addNode = (
    name: string,
    role: 'control-plane' | 'worker',
    gpu: boolean,
    types: readonly InstanceType[],
    index: number,
    age: number,
  ) => {
    const type = rng.pick(types);
    const node = makeNode(rng, {
      name,
      role,
      gpu,
      zone: zones[index % zones.length] ?? `${region}a`,
      now,
      clusterName: cluster,
      instanceType: type,
      index,
      ageSeconds: age,
      ...(minor !== undefined ? { kubernetesMinor: minor } : {}),
    });
    const alloc = allocatableOf(type);
    const slot: Slot = {
      node,
      name,
      ip: nodeInternalIp(index),
      pods: MAX_PODS_PER_NODE,
      cpuMilli: alloc.cpuMilli,
      cpuAllocatable: alloc.cpuMilli,
      memoryMi: alloc.memoryMi,
      gpus: gpu ? type.gpus : 0,
      hugepagesMi: alloc.hugepagesMi,
      ageSeconds: age,
      podNet: nodePodCidr(index).replace(/0\/24$/, ''),
      nextHost: 2,
    };
    world.nodes.push(node);
    allSlots.push(slot);
    (role === 'control-plane' ? cpSlots : gpu ? gpuSlots : workerSlots).push(slot);
  };
  let index = 0;
  for (let i = 0; i < cpCount; i++)
    addNode(
      `${cluster}-control-plane-${i + 1}`,
      'control-plane',
      false,
      CONTROL_PLANE_TYPES,
      index++,
      clusterAge,
    );
  for (let i = 0; i < workerCount - gpuCount; i++) {
    addNode(
      `${cluster}-worker-${pad(i + 1, 4)}`,
      'worker',
      false,
      WORKER_TYPES,
      index++,
      rng.int(3600, clusterAge),
    );
  }
  for (let i = 0; i < gpuCount; i++)
    addNode(`${cluster}-gpu-${pad(i + 1, 3)}`, 'worker', true, GPU_TYPES, index++, rng.int(3600, clusterAge));

  let budget = options.pods;
  const podOn = (
    slot: Slot | undefined,
    o: Omit<Parameters<typeof makePod>[1], 'now' | 'nodeName' | 'hostIP' | 'phase' | 'podIP'> & {
      phase?: PodPhase;
    },
  ) => {
    budget--;
    const phase: PodPhase = o.phase ?? (slot === undefined ? 'Pending' : 'Running');
    // A pod is younger than its node; one the scheduler could not place is young too.
    const maxAge = slot === undefined ? 3600 : Math.max(30, slot.ageSeconds - 30);
    const ageSeconds = Math.min(o.ageSeconds ?? maxAge, maxAge);
    const podIP = slot !== undefined && !o.hostNetwork ? `${slot.podNet}${slot.nextHost++}` : undefined;
    world.pods.push(
      makePod(rng, {
        ...o,
        phase,
        now,
        ageSeconds,
        ...(slot !== undefined ? { nodeName: slot.name, hostIP: slot.ip } : {}),
        ...(podIP !== undefined ? { podIP } : {}),
      }),
    );
  };

  // Static (mirror) pods of the control plane, with kubeadm's requests.
  const staticPods: [string, PodShape][] = [
    ['etcd', fixedShape('etcd', 'registry.k8s.io/etcd:3.5.16-0', { cpu: '100m', memory: '100Mi' })],
    ...(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const).map(
      (component): [string, PodShape] => [
        component,
        fixedShape(component, `registry.k8s.io/${component}:v1.${minor ?? 32}.0`, {
          cpu: component === 'kube-apiserver' ? '250m' : component === 'kube-scheduler' ? '100m' : '200m',
        }),
      ],
    ),
  ];
  for (const slot of cpSlots) {
    for (const [component, shape] of staticPods) {
      if (budget <= 0) break;
      reserve(slot, shape.request);
      const hash = rng.hex(32);
      const owner: OwnerReference = {
        apiVersion: 'v1',
        kind: 'Node',
        name: slot.name,
        uid: slot.node.metadata.uid,
        controller: true,
      };
      podOn(slot, {
        namespace: 'kube-system',
        name: `${component}-${slot.name}`,
        owner,
        labels: { component, tier: 'control-plane' },
        annotations: {
          'kubernetes.io/config.hash': hash,
          'kubernetes.io/config.mirror': hash,
          'kubernetes.io/config.seen': slot.node.metadata.creationTimestamp,
          'kubernetes.io/config.source': 'file',
        },
        shape,
        tolerations: [{ operator: 'Exists', effect: 'NoExecute' }],
        hostNetwork: true,
        priorityClassName: 'system-node-critical',
        ageSeconds: rng.int(60, Math.max(61, slot.ageSeconds)),
      });
    }
  }

  // DaemonSets: one pod per node they select.
  const daemonSets: {
    ns: string;
    name: string;
    shape: PodShape;
    slots: Slot[];
    hostNetwork: boolean;
    nodeSelector?: Record<string, string>;
  }[] = [
    {
      ns: 'kube-system',
      name: 'kube-proxy',
      shape: fixedShape('kube-proxy', `registry.k8s.io/kube-proxy:v1.${minor ?? 32}.0`, { cpu: '100m' }),
      slots: allSlots,
      hostNetwork: true,
    },
    {
      ns: 'monitoring',
      name: 'fluent-bit',
      shape: fixedShape(
        'fluent-bit',
        'cr.fluentbit.io/fluent/fluent-bit:3.2.2',
        { cpu: '50m', memory: '64Mi' },
        { memory: '128Mi' },
      ),
      slots: allSlots,
      hostNetwork: false,
    },
    {
      ns: 'kube-system',
      name: 'nvidia-device-plugin-daemonset',
      // The device plugin asks for nothing: a BestEffort pod.
      shape: fixedShape('nvidia-device-plugin-ctr', 'nvcr.io/nvidia/k8s-device-plugin:v0.17.0', {}),
      slots: gpuSlots,
      hostNetwork: false,
      nodeSelector: { 'nvidia.com/gpu.present': 'true' },
    },
  ];
  for (const ds of daemonSets) {
    if (ds.slots.length === 0) continue;
    const desired = Math.min(ds.slots.length, budget);
    const object = makeDaemonSet(rng, {
      namespace: ds.ns,
      name: ds.name,
      shape: ds.shape,
      now,
      ageSeconds: clusterAge,
      desired,
      ...(ds.nodeSelector ? { nodeSelector: ds.nodeSelector } : {}),
    });
    world.daemonSets.push(object);
    const owner = controllerRef(object);
    for (const slot of ds.slots.slice(0, desired)) {
      reserve(slot, ds.shape.request);
      podOn(slot, {
        namespace: ds.ns,
        name: `${ds.name}-${rng.suffix()}`,
        owner,
        labels: {
          'k8s-app': ds.name,
          'app.kubernetes.io/name': ds.name,
          'controller-revision-hash': '6b7f8d9c5d',
          'pod-template-generation': '1',
        },
        shape: ds.shape,
        tolerations: [{ operator: 'Exists' }],
        hostNetwork: ds.hostNetwork,
        priorityClassName: 'system-node-critical',
        ageSeconds: rng.int(60, Math.max(61, slot.ageSeconds)),
      });
    }
  }

  const general = new Pool(rng, workerSlots);
  const gpuPool = new Pool(rng, gpuSlots);
  const systemPool = new Pool(rng, [...workerSlots, ...cpSlots]);
  // CoreDNS: a kube-system ReplicaSet that tolerates the control plane.
  const replicaSetPods = (
    rs: KubeObject,
    rsAgeSeconds: number,
    pool: Pool,
    shape: PodShape,
    tolerations?: JsonObject[],
    pendingChance = 0.01,
  ) => {
    const owner = controllerRef(rs);
    const labels = (rs.metadata.labels ?? {}) as Record<string, string>;
    const replicas = Number(rs.spec?.['replicas'] ?? 0);
    for (let r = 0; r < replicas; r++) {
      const unschedulable = rng.chance(pendingChance);
      const slot = unschedulable ? undefined : pool.place(shape.request);
      podOn(slot, {
        namespace: rs.metadata.namespace ?? 'default',
        name: `${rs.metadata.name}-${rng.suffix()}`,
        owner,
        labels: { ...labels },
        shape,
        ...(tolerations ? { tolerations: tolerations.map((t) => ({ ...t })) } : {}),
        phase: slot === undefined ? 'Pending' : rng.chance(0.003) ? 'Pending' : 'Running',
        restartCount: rng.chance(0.05) ? rng.int(1, 12) : 0,
        ageSeconds: rng.int(60, Math.max(61, rsAgeSeconds)),
      });
    }
  };
  if (budget >= 2) {
    // CoreDNS's own manifest: 100m / 70Mi requested, 170Mi memory limit.
    const corednsShape = fixedShape(
      'coredns',
      'registry.k8s.io/coredns/coredns:v1.11.3',
      { cpu: '100m', memory: '70Mi' },
      { memory: '170Mi' },
    );
    const coredns = makeReplicaSet(rng, {
      namespace: 'kube-system',
      app: 'coredns',
      shape: corednsShape,
      replicas: 2,
      now,
      ageSeconds: clusterAge,
    });
    world.replicaSets.push(coredns);
    replicaSetPods(coredns, clusterAge, systemPool, corednsShape, [CONTROL_PLANE_TOLERATION], 0);
  }

  // Jobs (about 8% of the remaining pods): most complete, some failed, the rest running.
  let jobPods = Math.floor(budget * 0.08);
  let jobIndex = 0;
  while (jobPods > 0) {
    const completions = Math.min(jobPods, rng.int(1, 5));
    jobPods -= completions;
    const roll = rng.next();
    const outcome: PodPhase = roll < 0.6 ? 'Succeeded' : roll < 0.7 ? 'Failed' : 'Running';
    const name = `${rng.pick(JOB_NAMES)}-${29_000_000 + jobIndex++ * 7}`;
    const image = `registry.example.com/${JOB_NAMESPACE}/${name.replace(/-\d+$/, '')}:v2.${rng.int(0, 9)}.${rng.int(0, 20)}`;
    const age = outcome === 'Running' ? rng.int(60, 3600) : rng.int(3600, 7 * 86400);
    const phases: PodPhase[] = Array.from({ length: completions }, (_, i) =>
      outcome === 'Failed' && i > 0 ? 'Succeeded' : outcome,
    );
    const succeeded = phases.filter((p) => p === 'Succeeded').length;
    const failed = phases.filter((p) => p === 'Failed').length;
    const shape = jobShape(rng, name, image);
    const job = makeJob(rng, {
      namespace: JOB_NAMESPACE,
      name,
      shape,
      completions,
      now,
      ageSeconds: age,
      active: phases.filter((p) => p === 'Running').length,
      succeeded,
      failed,
    });
    world.jobs.push(job);
    const owner = controllerRef(job);
    for (const phase of phases) {
      const slot = general.place(shape.request);
      podOn(slot, {
        namespace: JOB_NAMESPACE,
        name: `${name}-${rng.suffix()}`,
        owner,
        labels: { ...((job.metadata.labels ?? {}) as Record<string, string>) },
        shape,
        phase: slot === undefined ? 'Pending' : phase,
        ageSeconds: age,
      });
    }
  }

  // Application ReplicaSets with the rest; ml-training ones ask for GPUs.
  const gpuTotal = gpuSlots.reduce((sum, s) => sum + s.gpus, 0);
  let gpuReplicasLeft = Math.floor(gpuTotal * 0.8);
  const usedNames = new Set<string>();
  while (budget > 0) {
    const ns = rng.pick(APP_NAMESPACES);
    const gpuApp = ns === 'ml-training' && gpuReplicasLeft > 0;
    let app = gpuApp ? `trainer-${rng.pick(['bert', 'resnet', 'llama', 'whisper'])}` : rng.pick(APP_NAMES);
    for (let n = 2; usedNames.has(`${ns}/${app}`); n++) app = `${app.replace(/-\d+$/, '')}-${n}`;
    usedNames.add(`${ns}/${app}`);
    let replicas = Math.min(budget, rng.chance(0.1) ? rng.int(20, 120) : rng.int(1, 12));
    if (gpuApp) {
      replicas = Math.min(replicas, gpuReplicasLeft);
      gpuReplicasLeft -= replicas;
    }
    const rsAge = rng.int(3600, Math.floor(clusterAge / 2));
    const image = `registry.example.com/${ns}/${app}:v1.${rng.int(0, 30)}.${rng.int(0, 10)}`;
    const shape = gpuApp ? gpuShape(rng, app, image) : appShape(rng, app, image);
    const rs = makeReplicaSet(rng, {
      namespace: ns,
      app,
      shape,
      replicas,
      now,
      ageSeconds: rsAge,
    });
    world.replicaSets.push(rs);
    if (gpuApp) replicaSetPods(rs, rsAge, gpuPool, shape, [GPU_TOLERATION]);
    else replicaSetPods(rs, rsAge, general, shape);
  }
  return world;
}
