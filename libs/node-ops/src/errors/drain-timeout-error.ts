/**
 * A node's drain did not finish within its timeout: `remaining` names the pods
 * (`namespace/name`) still on the node, `blocked` how many of them a
 * PodDisruptionBudget refused to evict at the last attempt. Reported as that
 * node's error; the other nodes of the operation go on.
 */
export class DrainTimeoutError extends Error {
  override readonly name = 'DrainTimeoutError';

  constructor(
    readonly node: string,
    readonly timeoutSeconds: number,
    readonly remaining: readonly string[],
    readonly blocked: number,
  ) {
    const shown =
      remaining.slice(0, 10).join(', ') + (remaining.length > 10 ? `, ... (${remaining.length} in all)` : '');
    super(
      `drain of node "${node}" timed out after ${timeoutSeconds}s with ${remaining.length} pod(s) left: ${shown}` +
        (blocked > 0 ? ` (${blocked} refused by a disruption budget)` : ''),
    );
  }
}
