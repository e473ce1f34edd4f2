/**
 * An uploaded kubeconfig that cannot be used (not YAML, unknown context, a file
 * reference, an exec plugin not allowed). The message says what to change and never
 * quotes a credential.
 */
export class KubeconfigRejectedError extends Error {
  override name = 'KubeconfigRejectedError';
}
