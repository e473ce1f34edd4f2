import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import type { MachineFacts } from './types.js';

/** Facts about this machine and runtime, stamped into every result file. */
export function machineFacts(): MachineFacts {
  const cores = cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    platform: platform(),
    release: release(),
  };
}

/** The 1, 5 and 15 minute load averages, rounded: how busy the machine was (numbers move with it). */
export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg();
  return [Math.round(a * 100) / 100, Math.round(b * 100) / 100, Math.round(c * 100) / 100];
}
