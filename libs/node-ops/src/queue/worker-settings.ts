/** The tunables of a hosted operations worker, as read from the environment. */
export interface OperationsWorkerSettings {
  /** `KNM_OPS_ENABLED` (`false` turns the worker off). Default true. */
  enabled: boolean;
  /** `KNM_OPS_CONCURRENCY`: operations this process runs at once. Default 2. */
  concurrency: number;
  /** `KNM_OPS_CLUSTER_CONCURRENCY`: operations of the cluster at once across all workers. Default 2. */
  clusterConcurrency: number;
  /** `KNM_OPS_NODE_CONCURRENCY`: nodes of one operation at once. Default 5. */
  nodeConcurrency: number;
  /** `KNM_OPS_LOCK_MS`: job lock; a dead worker's job is taken over after it. Default 30,000. */
  lockDurationMs: number;
  /** `KNM_OPS_STALLED_INTERVAL_MS`: how often dead workers' jobs are looked for. Default 15,000. */
  stalledIntervalMs: number;
  /** `KNM_AUDIT_MAXLEN`: approximate cap of the audit stream. Default 100,000. */
  auditMaxLen: number;
  /** `KNM_AUDIT_RETENTION_DAYS`: audit records older than this are trimmed. Default 90. */
  auditRetentionDays: number;
  /**
   * `KNM_OPS_IMPERSONATE` (`true`): every API call of an operation impersonates the
   * person who created it (`Impersonate-User` / `-Group`), so the cluster's RBAC
   * decides; the watcher's credentials then need `impersonate` on users and groups.
   * Default false.
   */
  impersonate: boolean;
}

/** Reads {@link OperationsWorkerSettings}; throws a RangeError naming the variable when one is not a positive integer. */
export function operationsWorkerSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): OperationsWorkerSettings {
  const int = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`${name}=${raw} must be a positive integer`);
    return value;
  };
  const impersonate = env['KNM_OPS_IMPERSONATE'];
  if (impersonate !== undefined && impersonate !== '' && impersonate !== 'true' && impersonate !== 'false') {
    throw new RangeError(`KNM_OPS_IMPERSONATE=${impersonate} must be "true" or "false"`);
  }
  const enabled = env['KNM_OPS_ENABLED'];
  if (enabled !== undefined && enabled !== '' && enabled !== 'true' && enabled !== 'false') {
    throw new RangeError(`KNM_OPS_ENABLED=${enabled} must be "true" or "false"`);
  }
  return {
    enabled: enabled !== 'false',
    concurrency: int('KNM_OPS_CONCURRENCY', 2),
    clusterConcurrency: int('KNM_OPS_CLUSTER_CONCURRENCY', 2),
    nodeConcurrency: int('KNM_OPS_NODE_CONCURRENCY', 5),
    lockDurationMs: int('KNM_OPS_LOCK_MS', 30_000),
    stalledIntervalMs: int('KNM_OPS_STALLED_INTERVAL_MS', 15_000),
    auditMaxLen: int('KNM_AUDIT_MAXLEN', 100_000),
    auditRetentionDays: int('KNM_AUDIT_RETENTION_DAYS', 90),
    impersonate: impersonate === 'true',
  };
}
