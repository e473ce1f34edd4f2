import {
  isFinalNodeStatus,
  isFinalOperationState,
  OperationSpecSchema,
  decode,
  type AuditRecord,
  type NodeResult,
  type Operation,
  type OperationState,
} from '@knm/contracts';
import { OperationBusyError } from './errors/operation-busy-error.js';
import type { NodeStepRunner } from './steps/node-step-runner.js';
import type { AuditLog } from './store/audit-log.js';
import type { OperationStore } from './store/operation-store.js';

/** Options of {@link OperationRunner}. */
export interface OperationRunnerOptions {
  /** Nodes of one operation worked on at the same time. Default 5. */
  nodeConcurrency?: number;
  /** Time source. Default `() => new Date()`. */
  clock?: () => Date;
}

/** Where an operation is after a node finished: what a BullMQ job reports as its progress. */
export interface RunProgress {
  done: number;
  total: number;
  state: OperationState;
}

/**
 * Runs one operation to its end: nodes whose result is already final are skipped
 * (a re-run after a crash continues where the last one stopped), the others go
 * through the {@link NodeStepRunner} at most `nodeConcurrency` at a time; each
 * result is stored as soon as it is known and reported to `onProgress`. A node
 * that fails does not stop the others. The final state is `completed` (every node
 * succeeded or was skipped), `failed` (every node failed) or `partial`; the audit
 * record is written once per operation (a re-run finds it written). The nodes'
 * locks (taken when the operation was created) are released once it is final.
 */
export class OperationRunner {
  private readonly nodeConcurrency: number;
  private readonly clock: () => Date;

  constructor(
    private readonly store: OperationStore,
    private readonly audit: AuditLog,
    private readonly steps: NodeStepRunner,
    options: OperationRunnerOptions = {},
  ) {
    this.nodeConcurrency = Math.max(1, options.nodeConcurrency ?? 5);
    this.clock = options.clock ?? (() => new Date());
  }

  /**
   * Runs (or finishes) the operation `id`; resolves with its final form (undefined
   * when it expired). Safe against a second runner of the same operation (a job
   * taken over while its first worker was only slow): a node is claimed before its
   * step runs and a finished node is never claimed again; when nodes are still being
   * worked on elsewhere at the end, it throws {@link OperationBusyError} (the job is
   * retried later, by when the other runner has finished them).
   */
  async run(
    id: string,
    onProgress: (progress: RunProgress) => Promise<void> = async () => {},
  ): Promise<Operation | undefined> {
    const op = await this.store.get(id);
    if (!op) return undefined;
    if (!isFinalOperationState(op.state)) {
      await this.store.setState(id, 'running', { startedAt: this.now() });
      const spec = decode(OperationSpecSchema, { action: op.action, params: op.params }, `operation ${id}`);
      const pending = op.results.filter((r) => !isFinalNodeStatus(r.status)).map((r) => r.node);
      let done = op.results.length - pending.length;
      const total = op.nodes.length;
      await onProgress({ done, total, state: 'running' });
      const ctx = { user: op.createdBy, ...(op.reason !== undefined ? { reason: op.reason } : {}) };
      await pool(pending, this.nodeConcurrency, async (node) => {
        const claimed = await this.store.setResult(id, { node, status: 'running', updatedAt: this.now() });
        if (!claimed) return; // another runner finished it
        let result: NodeResult;
        try {
          const outcome = await this.steps.run(spec, node, ctx);
          result = { node, status: outcome.status, message: outcome.message, updatedAt: this.now() };
        } catch (err) {
          result = {
            node,
            status: 'failed',
            error: (err as Error).message ?? String(err),
            updatedAt: this.now(),
          };
        }
        await this.store.setResult(id, result);
        done++;
        await onProgress({ done, total, state: 'running' });
      });
      const current = await this.store.require(id);
      const open = current.results.filter((r) => !isFinalNodeStatus(r.status)).map((r) => r.node);
      if (open.length > 0 && !isFinalOperationState(current.state)) throw new OperationBusyError(id, open);
      await this.store.setState(id, finalState(current.results), { finishedAt: this.now() });
    }
    const finished = await this.store.require(id);
    await this.store.unlockNodes(finished);
    const now = this.clock();
    if (await this.store.claimAudit(id, now.getTime())) {
      const auditId = await this.audit.append(auditRecordOf(finished, now.toISOString()));
      await this.store.markAudited(id, auditId);
    }
    await onProgress({ done: finished.progress.done, total: finished.progress.total, state: finished.state });
    return finished;
  }

  /**
   * Ends an operation whose job gave up (its attempts ran out: Redis or the worker
   * kept failing, not a node): state `failed` with `error`, nodes left as they are,
   * and its audit record. Does nothing to an operation that already finished.
   */
  async abandon(id: string, error: string): Promise<void> {
    const op = await this.store.get(id);
    if (!op || isFinalOperationState(op.state)) return;
    await this.store.setState(id, 'failed', { finishedAt: this.now(), error });
    await this.store.unlockNodes(op);
    const now = this.clock();
    if (await this.store.claimAudit(id, now.getTime())) {
      const auditId = await this.audit.append(auditRecordOf(await this.store.require(id), now.toISOString()));
      await this.store.markAudited(id, auditId);
    }
  }

  private now(): string {
    return this.clock().toISOString();
  }
}

function finalState(results: readonly NodeResult[]): OperationState {
  const failed = results.filter((r) => r.status === 'failed').length;
  if (failed === 0) return 'completed';
  return failed === results.length ? 'failed' : 'partial';
}

/** The audit record of a finished operation. */
export function auditRecordOf(op: Operation, at: string): AuditRecord {
  const record: AuditRecord = {
    operationId: op.id,
    at,
    user: op.createdBy,
    cluster: op.cluster,
    action: op.action,
    params: op.params as Record<string, unknown>,
    nodes: op.nodes,
    createdAt: op.createdAt,
    state: op.state,
    counts: {
      succeeded: op.results.filter((r) => r.status === 'succeeded').length,
      failed: op.results.filter((r) => r.status === 'failed').length,
      skipped: op.results.filter((r) => r.status === 'skipped').length,
    },
    failures: op.results
      .filter((r) => r.status === 'failed')
      .map((r) => ({ node: r.node, error: r.error ?? 'failed' })),
  };
  if (op.selector !== undefined) record.selector = op.selector;
  if (op.reason !== undefined) record.reason = op.reason;
  return record;
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(lanes);
}
