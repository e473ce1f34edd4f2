import { parseExecAllowlist } from '@knm/cluster-connections';
import { SecretBox, SecretsKeyError } from '@knm/secrets';

/** What the cluster registry routes need from the environment. */
export interface RegistryConfig {
  /**
   * The key ring sealing credentials (`KNM_SECRETS_KEY`, `KNM_SECRETS_KEYS_PREVIOUS`):
   * registered kubeconfigs and webhook URLs; absent when no key is set: the routes
   * that keep credentials answer 503, the rest works.
   */
  box?: SecretBox;
  /** `KNM_EXEC_ALLOWLIST`: exec plugin commands a registered kubeconfig may run. */
  execAllowlist: ReadonlySet<string>;
  /**
   * How long `DELETE /api/v1/clusters/:cluster` waits for the cluster's watcher to let
   * its lease go before deleting its keys anyway (`KNM_CLUSTER_DELETE_WAIT_MS`).
   * Default 10,000 ms: the watcher's default lease TTL (5 s) plus 5 s.
   */
  deleteWaitMs: number;
  /** Time each request of a connection test may take (`KNM_CONNECTION_TEST_TIMEOUT_MS`). Default 5,000 ms. */
  connectionTestTimeoutMs: number;
}

function positiveInt(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  fail: (message: string) => Error,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw fail(`${name} must be a positive integer (milliseconds)`);
  return value;
}

/**
 * Reads the registry's settings. A malformed key fails the start (a typo must not
 * look like "registration disabled"); a missing one only disables registration.
 */
export function loadRegistryConfig(
  env: Readonly<Record<string, string | undefined>>,
  fail: (message: string) => Error,
): RegistryConfig {
  let box: SecretBox | undefined;
  if (env['KNM_SECRETS_KEY']?.trim()) {
    try {
      box = SecretBox.fromEnv(env);
    } catch (err) {
      if (err instanceof SecretsKeyError) throw fail(err.message);
      throw err;
    }
  }
  return {
    ...(box ? { box } : {}),
    execAllowlist: parseExecAllowlist(env['KNM_EXEC_ALLOWLIST']),
    deleteWaitMs: positiveInt(env, 'KNM_CLUSTER_DELETE_WAIT_MS', 10_000, fail),
    connectionTestTimeoutMs: positiveInt(env, 'KNM_CONNECTION_TEST_TIMEOUT_MS', 5_000, fail),
  };
}
