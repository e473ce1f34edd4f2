import type { ConnectionTestResult } from '@knm/contracts';

/**
 * A kubeconfig that was read but cannot be registered: 400 when the kubeconfig itself
 * is unusable (`invalid`), 422 when the cluster refused it (unreachable, TLS,
 * authentication, a missing permission). The body carries the whole test result so
 * the caller sees which check failed and why.
 */
export class ConnectionTestFailedError extends Error {
  override readonly name = 'ConnectionTestFailedError';

  constructor(readonly result: ConnectionTestResult) {
    super(result.failure?.message ?? 'the connection test failed');
  }

  get status(): 400 | 422 {
    return this.result.failure?.kind === 'invalid' ? 400 : 422;
  }
}
