/**
 * The containers of generated pods, one shape per workload: what a Deployment,
 * Job or DaemonSet template says, shared by reference by every pod made from it
 * (stored objects are never mutated), so 150,000 pods cost one container list per
 * workload rather than one each. Shapes look like real workloads: an app container
 * with requests and often limits, sometimes a second container, an ordinary init
 * container or a restartable sidecar (`restartPolicy: Always`), ephemeral-storage,
 * hugepages, a `kata` runtime class with its pod overhead, GPUs on GPU workloads,
 * and some pods without any requests (BestEffort).
 */
import { podResourceTotals } from '@knm/contracts';
import type { JsonObject } from '../api/kube-object.js';
import type { Rng } from './rng.js';

/** What the scheduler places a pod by: its effective requests (`podResourceTotals`). */
export interface PlacementRequest {
  cpuMilli: number;
  memoryMi: number;
  gpus: number;
  /** hugepages-2Mi, in Mi. */
  hugepagesMi: number;
}

/** Containers, init containers and runtime class of a workload's pods. */
export interface PodShape {
  readonly containers: readonly JsonObject[];
  readonly initContainers?: readonly JsonObject[];
  readonly runtimeClassName?: string;
  /** `spec.overhead`, as the RuntimeClass admission plugin sets it. */
  readonly overhead?: Readonly<Record<string, string>>;
  readonly qosClass: 'Guaranteed' | 'Burstable' | 'BestEffort';
  readonly request: PlacementRequest;
}

/** The runtime class whose pods carry an overhead (Kata Containers' VM), and that overhead. */
export const KATA_RUNTIME_CLASS = 'kata';
export const KATA_OVERHEAD: Readonly<Record<string, string>> = { cpu: '250m', memory: '160Mi' };

type Resources = { requests?: Record<string, string>; limits?: Record<string, string> };

function container(name: string, image: string, resources: Resources, extra: JsonObject = {}): JsonObject {
  return {
    name,
    image,
    ...extra,
    resources: resources as JsonObject,
    imagePullPolicy: 'IfNotPresent',
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
}

/**
 * The QoS class the API server computes: Guaranteed when every container limits cpu
 * and memory at its requests, BestEffort when none requests or limits anything.
 */
function qosOf(containers: readonly JsonObject[]): PodShape['qosClass'] {
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const { requests = {}, limits = {} } = c['resources'] as Resources;
    if (Object.keys(requests).length > 0 || Object.keys(limits).length > 0) any = true;
    for (const r of ['cpu', 'memory']) {
      if (limits[r] === undefined || (requests[r] !== undefined && requests[r] !== limits[r]))
        guaranteed = false;
    }
  }
  return !any ? 'BestEffort' : guaranteed ? 'Guaranteed' : 'Burstable';
}

function shape(
  containers: JsonObject[],
  initContainers: JsonObject[] = [],
  runtimeClassName?: string,
): PodShape {
  const overhead = runtimeClassName === KATA_RUNTIME_CLASS ? KATA_OVERHEAD : undefined;
  const totals = podResourceTotals({
    spec: { containers, initContainers, ...(overhead ? { overhead } : {}) },
  }).requests;
  return {
    containers,
    ...(initContainers.length > 0 ? { initContainers } : {}),
    ...(runtimeClassName !== undefined ? { runtimeClassName } : {}),
    ...(overhead ? { overhead } : {}),
    qosClass: qosOf([...containers, ...initContainers]),
    request: {
      cpuMilli: totals['cpu'] ?? 0,
      memoryMi: Math.ceil((totals['memory'] ?? 0) / 2 ** 20),
      gpus: totals['nvidia.com/gpu'] ?? 0,
      hugepagesMi: Math.ceil((totals['hugepages-2Mi'] ?? 0) / 2 ** 20),
    },
  };
}

/** One container with fixed requests (and optional limits): control-plane and system pods. */
export function fixedShape(
  name: string,
  image: string,
  requests: Record<string, string>,
  limits?: Record<string, string>,
): PodShape {
  const resources: Resources = {};
  if (Object.keys(requests).length > 0) resources.requests = requests;
  if (limits) resources.limits = limits;
  return shape([container(name, image, resources)]);
}

const APP_CPU_MILLI = [25, 50, 100, 100, 150, 200, 250, 500];
const APP_MEMORY_MI = [64, 128, 128, 256, 256, 512, 1024, 2048];
const JOB_CPU_MILLI = [50, 100, 250, 500];
const JOB_MEMORY_MI = [128, 256, 512, 1024];

/** Requests, and most of the time limits: none, cpu and memory above requests, or equal (Guaranteed). */
function appResources(rng: Rng, cpuMilli: number, memoryMi: number, storage: boolean): Resources {
  const requests: Record<string, string> = { cpu: `${cpuMilli}m`, memory: `${memoryMi}Mi` };
  const limits: Record<string, string> = {};
  const roll = rng.next();
  if (roll < 0.15) {
    limits['cpu'] = requests['cpu'] as string;
    limits['memory'] = requests['memory'] as string;
  } else if (roll < 0.45) {
    limits['memory'] = `${memoryMi * rng.pick([1, 2])}Mi`;
  } else if (roll < 0.75) {
    limits['cpu'] = `${cpuMilli * rng.pick([2, 4])}m`;
    limits['memory'] = `${memoryMi * 2}Mi`;
  }
  if (storage) {
    const gi = rng.pick([1, 2, 4]);
    requests['ephemeral-storage'] = `${gi}Gi`;
    limits['ephemeral-storage'] = `${gi * 2}Gi`;
  }
  return Object.keys(limits).length > 0 ? { requests, limits } : { requests };
}

/** A Deployment's pods: see the file comment for the mix. */
export function appShape(rng: Rng, app: string, image: string): PodShape {
  if (rng.chance(0.05)) return shape([container(app, image, {})]);
  const cpu = rng.pick(APP_CPU_MILLI);
  const memory = rng.pick(APP_MEMORY_MI);
  const hugepages = rng.chance(0.02);
  const main = appResources(rng, cpu, memory, rng.chance(0.2));
  if (hugepages) {
    // Hugepages need cpu or memory requests beside them, and requests equal to limits.
    main.requests = { ...main.requests, 'hugepages-2Mi': '256Mi' };
    main.limits = { ...main.limits, 'hugepages-2Mi': '256Mi' };
  }
  const containers = [container(app, image, main)];
  if (rng.chance(0.3)) {
    containers.push(
      container('metrics-exporter', 'quay.io/prometheus/statsd-exporter:v0.28.0', {
        requests: { cpu: `${rng.pick([10, 25, 50])}m`, memory: '32Mi' },
        limits: { memory: '64Mi' },
      }),
    );
  }
  const init: JsonObject[] = [];
  if (rng.chance(0.3)) {
    init.push(
      container(
        'migrate',
        image,
        { requests: { cpu: `${rng.pick([100, 250, 500])}m`, memory: `${rng.pick([64, 128, 256])}Mi` } },
        { command: ['/app/migrate', '--wait'] },
      ),
    );
  }
  if (rng.chance(0.25)) {
    init.push(
      container(
        'istio-proxy',
        'docker.io/istio/proxyv2:1.24.2',
        { requests: { cpu: `${rng.pick([10, 50, 100])}m`, memory: '128Mi' }, limits: { memory: '256Mi' } },
        { restartPolicy: 'Always' },
      ),
    );
  }
  return shape(containers, init, rng.chance(0.05) ? KATA_RUNTIME_CLASS : undefined);
}

/** A GPU training Deployment's pods: GPUs requested at their limit, sizeable cpu and memory. */
export function gpuShape(rng: Rng, app: string, image: string): PodShape {
  const gpus = 1;
  const cpu = rng.pick([2000, 4000]);
  const memory = rng.pick([8192, 16384]);
  return shape([
    container(app, image, {
      requests: { cpu: `${cpu}m`, memory: `${memory}Mi`, 'nvidia.com/gpu': String(gpus) },
      limits: { memory: `${memory}Mi`, 'nvidia.com/gpu': String(gpus) },
    }),
  ]);
}

/** A Job's pods: one container, requests and a memory limit. */
export function jobShape(rng: Rng, name: string, image: string): PodShape {
  const memory = rng.pick(JOB_MEMORY_MI);
  return shape([
    container(name, image, {
      requests: { cpu: `${rng.pick(JOB_CPU_MILLI)}m`, memory: `${memory}Mi` },
      limits: { memory: `${memory * 2}Mi` },
    }),
  ]);
}
