import { isFinalNodeStatus, type Operation } from '@knm/contracts';
import { OperationFinishedError } from './errors/operation-finished-error.js';
import { OperationNotFoundError } from './errors/operation-not-found-error.js';
import { auditRecordOf } from './operation-runner.js';
import type { AuditLog } from './store/audit-log.js';
import type { OperationStore } from './store/operation-store.js';

/**
 * Cancels operations on behalf of a caller (the gateway's side of
 * `POST /api/v1/operations/:id/cancel`). A queued operation is finished here and now:
 * state `cancelled`, every node `cancelled` ("not started"), its node locks released
 * and its audit record written. A running one is marked and its runner (in the worker)
 * stops it: before its next node, and a drain before its next eviction round, then
 * writes the audit record itself. Who may cancel is the caller's business (the gateway
 * asks for an operator of the operation's cluster).
 */
export class OperationCanceller {
  constructor(
    private readonly store: OperationStore,
    private readonly audit: AuditLog,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * Cancels `id` as `by`; resolves with the operation as it now stands (`cancelled`, or
   * still `running` with `cancelRequestedAt`). Throws {@link OperationNotFoundError}
   * and, for an operation that had already finished, {@link OperationFinishedError}.
   */
  async cancel(id: string, by: string): Promise<Operation> {
    const at = this.clock().toISOString();
    const outcome = await this.store.requestCancel(id, by, at);
    if (outcome === 'missing') throw new OperationNotFoundError(id);
    if (outcome === 'final') {
      const op = await this.store.require(id);
      throw new OperationFinishedError(id, op.state);
    }
    if (outcome === 'cancelled') {
      const op = await this.store.require(id);
      for (const result of op.results.filter((r) => !isFinalNodeStatus(r.status))) {
        await this.store.setResult(id, {
          node: result.node,
          status: 'cancelled',
          message: 'not started: the operation was cancelled while queued',
          updatedAt: at,
        });
      }
      await this.store.unlockNodes(op);
      const finished = await this.store.require(id);
      const now = this.clock();
      if (await this.store.claimAudit(id, now.getTime())) {
        await this.store.markAudited(id, await this.audit.append(auditRecordOf(finished, now.toISOString())));
      }
      return finished;
    }
    return this.store.require(id);
  }
}
