import { cpus } from 'node:os';
import { gatewaysMetric } from './gateway-metrics.js';

/** How busy the machine and the gateways were while something ran. */
export interface CpuUse {
  /** Share of the machine's cores busy (0-1), all processes together. */
  machineBusy: number;
  /** CPU seconds the gateways used per second of wall time (summed over them; 1 = one core). */
  gatewayCores: number;
}

function machineTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/**
 * Runs `during` and says how much of the machine, and of it the gateways (from their
 * `knm_gateway_process_cpu_seconds_total`), it kept busy. Why: on a machine shared by
 * the system under test and its clients, a latency that grows with more clients is
 * either the gateways working more or the machine being full; the two tell which.
 */
export async function cpuUse<T>(
  gatewayUrls: readonly string[],
  during: () => Promise<T>,
): Promise<{ result: T; cpu: CpuUse }> {
  const metric = 'knm_gateway_process_cpu_seconds_total';
  const machineBefore = machineTimes();
  const gatewayBefore = await gatewaysMetric(gatewayUrls, metric);
  const started = performance.now();
  const result = await during();
  const seconds = (performance.now() - started) / 1000;
  const gatewayAfter = await gatewaysMetric(gatewayUrls, metric);
  const machineAfter = machineTimes();
  const total = machineAfter.total - machineBefore.total;
  return {
    result,
    cpu: {
      machineBusy: total > 0 ? (machineAfter.busy - machineBefore.busy) / total : 0,
      gatewayCores: seconds > 0 ? (gatewayAfter - gatewayBefore) / seconds : 0,
    },
  };
}
