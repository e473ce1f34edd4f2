import type { JsonObject, JsonValue, KubeObject } from '../api/kube-object.js';
import { rfc3339 } from './clock.js';
import { randomIndex, type SimRandom } from './sim-random.js';

function containersOf(pod: KubeObject): JsonObject[] {
  const containers = pod.spec?.['containers'];
  return Array.isArray(containers)
    ? containers.filter((c): c is JsonObject => typeof c === 'object' && c !== null && !Array.isArray(c))
    : [];
}

function condition(type: string, status: 'True' | 'False', at: string, reason?: string): JsonObject {
  const c: JsonObject = { type, status, lastProbeTime: null, lastTransitionTime: at };
  if (reason) c['reason'] = reason;
  return c;
}

function hex(random: SimRandom, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += '0123456789abcdef'.charAt(randomIndex(random, 16));
  return out;
}

/** A pod IP inside the node's pod CIDR (`10.x.y.0/24` -> `10.x.y.<2..253>`). */
export function podIpOn(node: KubeObject | undefined, random: SimRandom): string {
  const cidr = node?.spec?.['podCIDR'];
  const base = typeof cidr === 'string' ? cidr.split('/')[0]?.split('.').slice(0, 3).join('.') : '10.244.0';
  return `${base}.${2 + randomIndex(random, 252)}`;
}

/** The node's InternalIP ('' when it has none). */
export function internalIpOf(node: KubeObject | undefined): string {
  const addresses = node?.status?.['addresses'];
  if (!Array.isArray(addresses)) return '';
  for (const a of addresses) {
    if (typeof a === 'object' && a !== null && !Array.isArray(a) && a['type'] === 'InternalIP') {
      return String(a['address'] ?? '');
    }
  }
  return '';
}

/** The pod after its binding to `nodeName` (PodScheduled condition added). */
export function boundPod(pod: KubeObject, nodeName: string, now: number): KubeObject {
  const at = rfc3339(now);
  const conditions = Array.isArray(pod.status?.['conditions'])
    ? (pod.status['conditions'] as JsonValue[])
    : [];
  return {
    ...pod,
    spec: { ...(pod.spec ?? {}), nodeName },
    status: {
      ...(pod.status ?? {}),
      conditions: [
        ...conditions.filter(
          (c) => !(typeof c === 'object' && c !== null && !Array.isArray(c) && c['type'] === 'PodScheduled'),
        ),
        condition('PodScheduled', 'True', at),
      ],
    },
  };
}

/** The pod as its kubelet reports it once every container runs and is ready. */
export function runningPod(
  pod: KubeObject,
  node: KubeObject | undefined,
  now: number,
  random: SimRandom,
): KubeObject {
  const at = rfc3339(now);
  const hostIP = internalIpOf(node);
  const podIP = podIpOn(node, random);
  return {
    ...pod,
    status: {
      ...(pod.status ?? {}),
      phase: 'Running',
      conditions: [
        condition('PodReadyToStartContainers', 'True', at),
        condition('Initialized', 'True', at),
        condition('Ready', 'True', at),
        condition('ContainersReady', 'True', at),
        condition('PodScheduled', 'True', at),
      ],
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP,
      podIPs: [{ ip: podIP }],
      startTime: at,
      containerStatuses: containersOf(pod).map((c) => ({
        name: String(c['name'] ?? 'main'),
        image: String(c['image'] ?? 'registry.k8s.io/pause:3.9'),
        imageID: `docker.io/library/image@sha256:${hex(random, 64)}`,
        containerID: `containerd://${hex(random, 64)}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: at } },
        lastState: {},
      })),
    },
  };
}

/** The pod after all its containers exited: Succeeded (exit 0) or Failed (exit 1). */
export function finishedPod(pod: KubeObject, succeeded: boolean, now: number): KubeObject {
  const at = rfc3339(now);
  const reason = succeeded ? 'Completed' : 'Error';
  const previous = Array.isArray(pod.status?.['containerStatuses'])
    ? (pod.status['containerStatuses'] as JsonValue[])
    : [];
  return {
    ...pod,
    status: {
      ...(pod.status ?? {}),
      phase: succeeded ? 'Succeeded' : 'Failed',
      conditions: [
        condition('PodReadyToStartContainers', 'False', at),
        condition('Initialized', 'True', at),
        condition('Ready', 'False', at, 'PodCompleted'),
        condition('ContainersReady', 'False', at, 'PodCompleted'),
        condition('PodScheduled', 'True', at),
      ],
      containerStatuses: previous.map((s) => {
        const status = (typeof s === 'object' && s !== null && !Array.isArray(s) ? s : {}) as JsonObject;
        const running = status['state'] as JsonObject | undefined;
        const startedAt = (running?.['running'] as JsonObject | undefined)?.['startedAt'] ?? at;
        return {
          ...status,
          ready: false,
          started: false,
          state: {
            terminated: {
              exitCode: succeeded ? 0 : 1,
              reason,
              startedAt,
              finishedAt: at,
              containerID: status['containerID'] ?? '',
            },
          },
        };
      }),
    },
  };
}

/** The owner reference that controls `object`, if any. */
export function controllerOf(object: KubeObject): { kind: string; name: string; uid: string } | undefined {
  const owners = object.metadata.ownerReferences ?? [];
  return owners.find((o) => o.controller === true) ?? owners[0];
}
