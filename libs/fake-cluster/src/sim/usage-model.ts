/**
 * Simulated resource usage: what a container or a node's system processes use at a
 * given metrics tick. A pure function of (seed, uid, container, tick), so usage is
 * deterministic from the seed and needs no per-pod state: a container runs at its
 * own level of its requests (a small default when it requests nothing), drifting
 * along a slow wave with its own period and phase, plus noise per tick. Memory
 * drifts less than cpu and is whole 4 KiB pages, as a working set is.
 */
import { quantityToBaseUnits } from '@knm/contracts';
import type { JsonObject } from '../api/kube-object.js';

/** Usage in the units metrics-server measures: nanocores and bytes. */
export interface Usage {
  nanocores: number;
  bytes: number;
}

const PAGE = 4096;
const MI = 2 ** 20;

/**
 * A 32-bit hash of the seed and an object's uid (FNV-1a): the key every draw for
 * that pod or node mixes from. Computed once per pod, not per container.
 */
export function usageKey(seed: number, uid: string): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < uid.length; i++) h = Math.imul(h ^ uid.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A number in [0, 1) from a key and a salt (a 32-bit finalizer). */
function unit(key: number, salt: number): number {
  let h = (key ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

interface Requested {
  cpuMilli: number;
  memoryBytes: number;
}

// Containers are shared by every pod of a workload: their requests are read once.
const requestedCache = new WeakMap<JsonObject, Requested>();

function requestedOf(container: JsonObject): Requested {
  let cached = requestedCache.get(container);
  if (cached === undefined) {
    const requests = ((container['resources'] as JsonObject | undefined)?.['requests'] ?? {}) as Record<
      string,
      string
    >;
    cached = {
      cpuMilli: requests['cpu'] === undefined ? 0 : (quantityToBaseUnits('cpu', requests['cpu']) ?? 0),
      memoryBytes:
        requests['memory'] === undefined ? 0 : (quantityToBaseUnits('memory', requests['memory']) ?? 0),
    };
    requestedCache.set(container, cached);
  }
  return cached;
}

/** A slow drift, in ticks: each key has its own period (20-80 ticks) and phase. */
function wave(key: number, salt: number, tick: number, depth: number): number {
  const period = 20 + 60 * unit(key, salt);
  const phase = 2 * Math.PI * unit(key, salt + 1);
  return 1 + depth * Math.sin((2 * Math.PI * tick) / period + phase);
}

function noise(key: number, salt: number, tick: number, depth: number): number {
  return 1 + depth * (2 * unit(key, salt + 1000 * (tick + 1)) - 1);
}

function pages(bytes: number): number {
  return Math.max(1, Math.round(bytes / PAGE)) * PAGE;
}

/** The usage of container number `index` of the pod whose {@link usageKey} is `podKey`, at `tick`. */
export function containerUsage(podKey: number, index: number, container: JsonObject, tick: number): Usage {
  const key = (podKey ^ Math.imul(index + 1, 0x27d4eb2f)) >>> 0;
  const requested = requestedOf(container);
  const cpuBase = requested.cpuMilli > 0 ? requested.cpuMilli : 5 + 45 * unit(key, 1);
  const memoryBase = requested.memoryBytes > 0 ? requested.memoryBytes : (16 + 112 * unit(key, 2)) * MI;
  const cpuLevel = 0.15 + 0.95 * unit(key, 3);
  const memoryLevel = 0.3 + 0.6 * unit(key, 4);
  return {
    nanocores: Math.round(cpuBase * 1e6 * cpuLevel * wave(key, 10, tick, 0.3) * noise(key, 7, tick, 0.1)),
    bytes: pages(memoryBase * memoryLevel * wave(key, 20, tick, 0.08) * noise(key, 8, tick, 0.02)),
  };
}

/** What a node uses besides its pods (kubelet, container runtime, the OS) at `tick`. */
export function systemUsage(seed: number, nodeUid: string, tick: number): Usage {
  const key = usageKey(seed, nodeUid);
  return {
    nanocores: Math.round((80 + 200 * unit(key, 5)) * 1e6 * noise(key, 9, tick, 0.15)),
    bytes: pages((600 + 900 * unit(key, 6)) * MI * wave(key, 30, tick, 0.05)),
  };
}
