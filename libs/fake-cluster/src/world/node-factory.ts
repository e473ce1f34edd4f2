/**
 * Realistic Node objects, shaped like what a kubelet on a cloud VM registers:
 * well-known labels, control-plane and GPU taints, capacity/allocatable, the four
 * conditions, nodeInfo, addresses and pod CIDRs.
 */
import { DEFAULT_KUBERNETES_MINOR, versionInfo } from '../api/discovery.js';
import type { JsonObject, KubeObject } from '../api/kube-object.js';
import type { Rng } from './rng.js';

/** A machine shape: what a node of this type reports as capacity. */
export interface InstanceType {
  name: string;
  cpu: number;
  memoryGi: number;
  gpus: number;
  arch: 'amd64' | 'arm64';
  /** Memory set aside as 2 MiB hugepages at boot, in GiB (memory-optimized machines); default none. */
  hugepages2MiGi?: number;
}

/** Control-plane machines. */
export const CONTROL_PLANE_TYPES: readonly InstanceType[] = [
  { name: 'm5.xlarge', cpu: 4, memoryGi: 16, gpus: 0, arch: 'amd64' },
];

/** General-purpose worker machines. */
export const WORKER_TYPES: readonly InstanceType[] = [
  { name: 'm5.2xlarge', cpu: 8, memoryGi: 32, gpus: 0, arch: 'amd64' },
  { name: 'm5.4xlarge', cpu: 16, memoryGi: 64, gpus: 0, arch: 'amd64' },
  { name: 'c5.4xlarge', cpu: 16, memoryGi: 32, gpus: 0, arch: 'amd64' },
  { name: 'r5.2xlarge', cpu: 8, memoryGi: 64, gpus: 0, arch: 'amd64', hugepages2MiGi: 2 },
  { name: 'm6g.4xlarge', cpu: 16, memoryGi: 64, gpus: 0, arch: 'arm64' },
];

/** GPU machines (tainted `nvidia.com/gpu=present:NoSchedule`). */
export const GPU_TYPES: readonly InstanceType[] = [
  { name: 'g5.4xlarge', cpu: 16, memoryGi: 64, gpus: 1, arch: 'amd64' },
  { name: 'g5.12xlarge', cpu: 48, memoryGi: 192, gpus: 4, arch: 'amd64' },
  { name: 'p4d.24xlarge', cpu: 96, memoryGi: 1152, gpus: 8, arch: 'amd64' },
];

/** The pods every node accepts (kubelet's default `maxPods`). */
export const MAX_PODS_PER_NODE = 110;

/**
 * What the kubelet keeps back from capacity (kube-reserved + system-reserved +
 * eviction threshold); hugepages come out of memory allocatable too.
 */
export function allocatableOf(type: InstanceType): {
  cpuMilli: number;
  memoryMi: number;
  hugepagesMi: number;
} {
  const hugepagesMi = (type.hugepages2MiGi ?? 0) * 1024;
  const cpuMilli = type.cpu * 1000 - (type.cpu <= 4 ? 80 : type.cpu <= 16 ? 120 : 250);
  const memoryMi = type.memoryGi * 1024 - Math.min(4096, 255 + type.memoryGi * 11) - 100 - hugepagesMi;
  return { cpuMilli, memoryMi, hugepagesMi };
}

/** The region a zone belongs to: `eu-west-1b` -> `eu-west-1`. */
export function regionOf(zone: string): string {
  return /[a-z]$/.test(zone) ? zone.slice(0, -1) : zone;
}

/** Options of {@link makeNode}. */
export interface MakeNodeOptions {
  name: string;
  role: 'control-plane' | 'worker';
  gpu: boolean;
  /** Availability zone, e.g. `eu-west-1a` (the region is the zone without its letter). */
  zone: string;
  /** creationTimestamp and condition times are derived from it. */
  now: Date;
  clusterName: string;
  /** The machine; default: picked with `rng` from the control-plane, GPU or worker types. */
  instanceType?: InstanceType;
  /** Kubelet minor version (27..33). Default 32. */
  kubernetesMinor?: number;
  /** A unique small integer that places the node's InternalIP and pod CIDR; default: random (may collide). */
  index?: number;
  /** How long ago the node registered, in seconds. Default: random, up to 90 days. */
  ageSeconds?: number;
  /** Node uid; default `rng.uuid()`. */
  uid?: string;
}

/** The node's InternalIP for an index: 10.0.0.0/16 hosts, skipping .0-.3 and .254/.255 of each /24. */
export function nodeInternalIp(index: number): string {
  return `10.0.${Math.floor(index / 250) % 256}.${(index % 250) + 4}`;
}

/** The node's pod CIDR for an index: one /24 out of 10.128.0.0/9. */
export function nodePodCidr(index: number): string {
  return `10.${128 + (Math.floor(index / 256) % 128)}.${index % 256}.0/24`;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An RFC 3339 timestamp (whole seconds, as the API server writes them) `seconds` before `now`. */
export function secondsBefore(now: Date, seconds: number): string {
  return iso(new Date(now.getTime() - Math.max(0, Math.round(seconds)) * 1000));
}

/**
 * A Node as a kubelet registers it, fully formed (status included). The
 * control-plane role adds the `node-role.kubernetes.io/control-plane` label and its
 * NoSchedule taint; `gpu` adds `nvidia.com/gpu` capacity and the
 * `nvidia.com/gpu=present:NoSchedule` taint. resourceVersion is "1" (the store assigns real ones).
 */
export function makeNode(rng: Rng, options: MakeNodeOptions): KubeObject {
  const { name, role, gpu, zone, now } = options;
  const type =
    options.instanceType ??
    rng.pick(role === 'control-plane' ? CONTROL_PLANE_TYPES : gpu ? GPU_TYPES : WORKER_TYPES);
  const minor = options.kubernetesMinor ?? DEFAULT_KUBERNETES_MINOR;
  const version = String(versionInfo({ kubernetesMinor: minor })['gitVersion']);
  const index = options.index ?? rng.int(0, 64000);
  const ageSeconds = options.ageSeconds ?? rng.int(3600, 90 * 86400);
  const created = secondsBefore(now, ageSeconds);
  const ready = secondsBefore(now, Math.min(ageSeconds, ageSeconds - rng.int(10, 60)));
  const heartbeat = secondsBefore(now, rng.int(0, 10));
  const internalIp = nodeInternalIp(index);
  const podCidr = nodePodCidr(index);
  const region = regionOf(zone);
  const instanceId = `i-0${rng.hex(16)}`;

  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': type.arch,
    'beta.kubernetes.io/instance-type': type.name,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': type.arch,
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': type.name,
    'topology.kubernetes.io/region': region,
    'topology.kubernetes.io/zone': zone,
    'knm.dev/cluster': options.clusterName,
  };
  const taints: JsonObject[] = [];
  if (role === 'control-plane') {
    labels['node-role.kubernetes.io/control-plane'] = '';
    labels['node.kubernetes.io/exclude-from-external-load-balancers'] = '';
    taints.push({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' });
  } else {
    labels['node.kubernetes.io/pool'] = gpu ? 'gpu' : 'general';
  }
  const capacity: Record<string, string> = {
    cpu: String(type.cpu),
    'ephemeral-storage': '203070420Ki',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': type.hugepages2MiGi ? `${type.hugepages2MiGi}Gi` : '0',
    memory: `${type.memoryGi * 1024 * 1024 - 261_000}Ki`,
    pods: String(MAX_PODS_PER_NODE),
  };
  const alloc = allocatableOf(type);
  const allocatable: Record<string, string> = {
    cpu: `${alloc.cpuMilli}m`,
    'ephemeral-storage': '186127212913',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': type.hugepages2MiGi ? `${type.hugepages2MiGi}Gi` : '0',
    memory: `${alloc.memoryMi * 1024}Ki`,
    pods: String(MAX_PODS_PER_NODE),
  };
  if (gpu && type.gpus > 0) {
    labels['nvidia.com/gpu.present'] = 'true';
    labels['nvidia.com/gpu.count'] = String(type.gpus);
    labels['nvidia.com/gpu.product'] = type.name.startsWith('p4d') ? 'NVIDIA-A100-SXM4-40GB' : 'NVIDIA-A10G';
    capacity['nvidia.com/gpu'] = String(type.gpus);
    allocatable['nvidia.com/gpu'] = String(type.gpus);
    taints.push({ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' });
  }
  const condition = (type: string, status: string, reason: string, message: string): JsonObject => ({
    type,
    status,
    lastHeartbeatTime: heartbeat,
    lastTransitionTime: type === 'Ready' ? ready : created,
    reason,
    message,
  });
  const arm = type.arch === 'arm64';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: options.uid ?? rng.uuid(),
      resourceVersion: '1',
      creationTimestamp: created,
      labels,
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      podCIDR: podCidr,
      podCIDRs: [podCidr],
      providerID: `aws:///${zone}/${instanceId}`,
      ...(taints.length > 0 ? { taints } : {}),
    },
    status: {
      capacity,
      allocatable,
      conditions: [
        condition(
          'MemoryPressure',
          'False',
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: internalIp },
        { type: 'InternalDNS', address: `ip-${internalIp.replaceAll('.', '-')}.${region}.compute.internal` },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: rng.hex(32),
        systemUUID: `ec2${rng.hex(5)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(12)}`,
        bootID: rng.uuid(),
        kernelVersion: arm ? '6.1.112-124.190.amzn2023.aarch64' : '6.8.0-1021-aws',
        osImage: arm ? 'Amazon Linux 2023.6.20241111' : 'Ubuntu 24.04.1 LTS',
        containerRuntimeVersion: 'containerd://1.7.24',
        kubeletVersion: version,
        kubeProxyVersion: version,
        operatingSystem: 'linux',
        architecture: type.arch,
      },
    },
  };
}
