/** Options of {@link buildKubeconfig}. */
export interface KubeconfigOptions {
  /** The API server URL. */
  server: string;
  /** The bearer token. */
  token: string;
  /** Names the cluster, user and context. */
  name: string;
  /** PEM CA certificate the client must trust (for an https server). */
  caCert?: string;
}

/**
 * A kubeconfig for kube-sim as JSON text (JSON is valid YAML, so kubectl and
 * `@kubernetes/client-node`'s `loadFromFile`/`loadFromString` read it as is): one
 * cluster, one user with the bearer token, one context, selected.
 */
export function buildKubeconfig(options: KubeconfigOptions): string {
  const { server, token, name, caCert } = options;
  const cluster: Record<string, string> = { server };
  if (caCert !== undefined)
    cluster['certificate-authority-data'] = Buffer.from(caCert, 'utf8').toString('base64');
  return `${JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      preferences: {},
      clusters: [{ name, cluster }],
      users: [{ name: `${name}-admin`, user: { token } }],
      contexts: [{ name, context: { cluster: name, user: `${name}-admin` } }],
      'current-context': name,
    },
    null,
    2,
  )}\n`;
}
