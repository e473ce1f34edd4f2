/**
 * The exec credential plugins a registered kubeconfig may name (`KNM_EXEC_ALLOWLIST`,
 * comma-separated). An exec plugin runs a program on the gateway's and watchers'
 * hosts with the kubeconfig's arguments and environment, so each entry is matched
 * exactly as written: `aws` allows the command `aws` (looked up on PATH), not
 * `/tmp/aws`; `/usr/local/bin/aws` allows that path only. Default: empty, none allowed.
 * client-node runs an allowed plugin with the process's environment; the gateway and
 * the watcher take knm's own secrets out of it at start (`takeSecretEnv`), but
 * anything else in it (cloud credentials, say) reaches the plugin: allow only programs
 * trusted with it, never a shell or an interpreter.
 */
export function parseExecAllowlist(value: string | undefined): ReadonlySet<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  );
}
