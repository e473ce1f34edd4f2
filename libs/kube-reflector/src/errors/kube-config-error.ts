/**
 * The kubeconfig cannot be used to reach an API server (no current cluster, an
 * unknown context, a plain-http server without `insecure-skip-tls-verify`). Not
 * transient: the message says what to fix.
 */
export class KubeConfigError extends Error {
  override name = 'KubeConfigError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
