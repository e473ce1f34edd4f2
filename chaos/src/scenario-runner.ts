import type { Logger } from 'pino';
import type { ChaosSystem } from './chaos-system.js';
import type { ClientPool, TrackedWatch } from './client-pool.js';
import type { Scenario, ScenarioCheck } from './scenarios.js';
import { verifyQuiet, waitRecovered, type ClusterVerdict } from './verifier.js';

/** The outcome of one scenario, as the report shows it. */
export interface ScenarioResult {
  name: string;
  description: string;
  faultAt: string;
  /** Fault injected -> every cluster ready and every client caught up (churn running). */
  recoveryMs: number | null;
  /** Churn stopped -> Redis and every client equal to the truth. */
  quietConvergeMs: number;
  eventsLost: number;
  /** Client reloads during the scenario, by reason. */
  reloads: Record<string, number>;
  checks: ScenarioCheck[];
  notes: Record<string, string | number | boolean>;
  clusters: ClusterVerdict[];
  error?: string;
  ok: boolean;
}

/** Options of {@link runScenario}. */
export interface RunOptions {
  system: ChaosSystem;
  pool: ClientPool;
  log: Logger;
  outageSeconds: number;
  /** Longest wait for recovery after a fault. */
  recoveryTimeoutMs: number;
  /** Longest wait for Redis and clients to equal the truth once churn stopped. */
  quietTimeoutMs: number;
}

/**
 * Runs one scenario with churn on: inject, wait for recovery (timed), restore what
 * the fault removed, stop churn, verify that Redis and every client equal the truth
 * and that no envelope was applied out of order, then turn churn back on.
 */
export async function runScenario(scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  const { system, pool, log } = options;
  const gapsBefore = new Map<TrackedWatch, number>(pool.watches.map((w) => [w, w.unhandledGaps]));
  const reloadsBefore = reloadsByReason(pool);
  const result: ScenarioResult = {
    name: scenario.name,
    description: scenario.description,
    faultAt: new Date().toISOString(),
    recoveryMs: null,
    quietConvergeMs: 0,
    eventsLost: 0,
    reloads: {},
    checks: [],
    notes: {},
    clusters: [],
    ok: false,
  };
  log.info({ scenario: scenario.name }, `scenario ${scenario.name}: ${scenario.description}`);
  try {
    const fault = await scenario.inject({ system, pool, log, outageSeconds: options.outageSeconds });
    result.faultAt = new Date(fault.faultAt).toISOString();
    result.notes = fault.notes;
    result.checks.push(...fault.checks);
    const recoveredAt = await waitRecovered(system, pool.watches, options.recoveryTimeoutMs, fault.recovered);
    result.recoveryMs = recoveredAt - fault.faultAt;
    log.info({ scenario: scenario.name, recoveryMs: result.recoveryMs }, 'recovered');
    if (fault.afterRecovery) result.checks.push(...(await fault.afterRecovery()));
    await fault.restore?.();
  } catch (err) {
    result.error = (err as Error).message;
    log.error({ scenario: scenario.name, err: result.error }, 'scenario failed');
  }
  const quietFrom = Date.now();
  try {
    await system.setChurn(false);
    result.clusters = await verifyQuiet(system, pool.watches, gapsBefore, options.quietTimeoutMs);
  } catch (err) {
    result.error ??= `verification failed: ${(err as Error).message}`;
  }
  result.quietConvergeMs = Date.now() - quietFrom;
  result.eventsLost = result.clusters.reduce((s, c) => s + c.eventsLost, 0);
  const reloadsAfter = reloadsByReason(pool);
  for (const [reason, n] of Object.entries(reloadsAfter)) {
    const d = n - (reloadsBefore[reason] ?? 0);
    if (d > 0) result.reloads[reason] = d;
  }
  if (!scenario.reloadsExpected) {
    const reloads = Object.values(result.reloads).reduce((a, b) => a + b, 0);
    result.checks.push({
      name: 'no client reloaded (relists, failovers and slow sockets reach clients as envelopes and batches)',
      ok: reloads === 0,
      detail: reloads === 0 ? '0 reloads' : JSON.stringify(result.reloads),
    });
  }
  result.ok =
    result.error === undefined &&
    result.eventsLost === 0 &&
    result.clusters.length === system.clusters.length &&
    result.clusters.every((c) => c.status === 'ready') &&
    result.checks.every((c) => c.ok);
  log.info(
    {
      scenario: scenario.name,
      ok: result.ok,
      eventsLost: result.eventsLost,
      recoveryMs: result.recoveryMs,
      checks: result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`),
      detail: result.clusters.flatMap((c) => c.detail),
    },
    `scenario ${scenario.name}: ${result.ok ? 'passed' : 'FAILED'}`,
  );
  try {
    await system.setChurn(true);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not resume churn');
  }
  return result;
}

function reloadsByReason(pool: ClientPool): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of pool.watches) for (const [r, n] of w.reloadReasons) out[r] = (out[r] ?? 0) + n;
  return out;
}
