/**
 * The environment variables that carry knm's secrets: the sealing keys, the token
 * signing secret, the metrics token, the OIDC client secret, and the Redis URL (it
 * may hold a password).
 */
export const SECRET_ENV_NAMES: readonly string[] = [
  'KNM_SECRETS_KEY',
  'KNM_SECRETS_KEYS_PREVIOUS',
  'KNM_JWT_SECRET',
  'KNM_METRICS_TOKEN',
  'KNM_OIDC_CLIENT_SECRET',
  'REDIS_URL',
];

/**
 * Takes knm's secrets ({@link SECRET_ENV_NAMES}) out of `env`, in place, and returns
 * a copy of `env` as it was, for the process to read its configuration from.
 *
 * A process calls it on its own `process.env` before it starts anything: every child
 * process inherits that environment, and the watcher and the gateway start children
 * they do not control. A kubeconfig's exec credential plugin (client-node runs it
 * with `process.env` plus the plugin's own variables) would otherwise receive the key
 * that unseals every registered cluster's credentials.
 */
export function takeSecretEnv(
  env: Record<string, string | undefined>,
): Readonly<Record<string, string | undefined>> {
  const copy = { ...env };
  for (const name of SECRET_ENV_NAMES) delete env[name];
  return copy;
}
