import {
  isFinalNodeStatus,
  isFinalOperationState,
  OperationSpecSchema,
  decode,
  type AuditRecord,
  type NodeResult,
  type Operation,
  type OperationSpec,
  type OperationState,
} from '@knm/contracts';
import { OperationBusyError } from './errors/operation-busy-error.js';
import { OperationCancelledError } from './errors/operation-cancelled-error.js';
import type { NodeStepRunner } from './steps/node-step-runner.js';
import type { ActingAs, Impersonation } from './kube/impersonation.js';
import type { AuditLog } from './store/audit-log.js';
import type { OperationStore } from './store/operation-store.js';

/** Options of {@link OperationRunner}. */
export interface OperationRunnerOptions {
  /** Nodes of one operation worked on at the same time. Default 5. */
  nodeConcurrency?: number;
  /** Time source. Default `() => new Date()`. */
  clock?: () => Date;
  /** How often a running operation checks whether it was cancelled. Default 500 ms. */
  cancelPollMs?: number;
  /**
   * Set when the cluster impersonates operators: every API call of an operation acts as
   * the person who created it (its `createdBy` and `createdByGroups`), and the audit
   * record says so. Default none: calls use the worker's own credentials.
   */
  impersonation?: Impersonation;
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
 * succeeded or was skipped), `failed` (every node failed) or `partial`, or
 * `cancelled` when a cancel was asked for meanwhile (nodes not started are `cancelled`,
 * a drain in progress stops at its next round); the audit
 * record is written once per operation (a re-run finds it written). The nodes'
 * locks (taken when the operation was created) are released once it is final.
 */
export class OperationRunner {
  private readonly nodeConcurrency: number;
  private readonly clock: () => Date;
  private readonly cancelPollMs: number;
  private readonly impersonation: Impersonation | undefined;

  constructor(
    private readonly store: OperationStore,
    private readonly audit: AuditLog,
    private readonly steps: NodeStepRunner,
    options: OperationRunnerOptions = {},
  ) {
    this.nodeConcurrency = Math.max(1, options.nodeConcurrency ?? 5);
    this.clock = options.clock ?? (() => new Date());
    this.cancelPollMs = options.cancelPollMs ?? 500;
    this.impersonation = options.impersonation;
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
    // A cancel of a queued operation makes it final without a runner: nothing to run then.
    if (
      !isFinalOperationState(op.state) &&
      (await this.store.setState(id, 'running', { startedAt: this.now() }))
    ) {
      const spec = decode(OperationSpecSchema, { action: op.action, params: op.params }, `operation ${id}`);
      const pending = op.results.filter((r) => !isFinalNodeStatus(r.status)).map((r) => r.node);
      let done = op.results.length - pending.length;
      const total = op.nodes.length;
      await onProgress({ done, total, state: 'running' });
      const ctx = { user: op.createdBy, ...(op.reason !== undefined ? { reason: op.reason } : {}) };
      const cancel = this.watchCancel(id);
      const actingAs = this.actingAs(op);
      try {
        const work = () =>
          pool(pending, this.nodeConcurrency, async (node) => {
            if (cancel.signal.aborted) {
              await this.store.setResult(id, {
                node,
                status: 'cancelled',
                message: 'not started: the operation was cancelled',
                updatedAt: this.now(),
              });
            } else {
              const claimed = await this.store.setResult(id, {
                node,
                status: 'running',
                updatedAt: this.now(),
              });
              if (!claimed) return; // another runner finished it
              await this.store.setResult(id, await this.runNode(spec, node, ctx, cancel.signal), {
                action: op.action,
                by: op.createdBy,
              });
            }
            done++;
            await onProgress({ done, total, state: 'running' });
          });
        await (this.impersonation && actingAs ? this.impersonation.run(actingAs, work) : work());
      } finally {
        cancel.stop();
      }
      const current = await this.store.require(id);
      const open = current.results.filter((r) => !isFinalNodeStatus(r.status)).map((r) => r.node);
      if (open.length > 0 && !isFinalOperationState(current.state)) throw new OperationBusyError(id, open);
      const state = current.cancelRequestedAt !== undefined ? 'cancelled' : finalState(current.results);
      await this.store.setState(id, state, { finishedAt: this.now() });
    }
    const finished = await this.store.require(id);
    await this.store.unlockNodes(finished);
    const now = this.clock();
    if (await this.store.claimAudit(id, now.getTime())) {
      const auditId = await this.audit.append(
        auditRecordOf(finished, now.toISOString(), this.actingAs(finished)),
      );
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
      const op = await this.store.require(id);
      const auditId = await this.audit.append(auditRecordOf(op, now.toISOString(), this.actingAs(op)));
      await this.store.markAudited(id, auditId);
    }
  }

  private now(): string {
    return this.clock().toISOString();
  }

  /** One node's step, as its result: a cancelled drain is `cancelled`, any other error `failed`. */
  private async runNode(
    spec: OperationSpec,
    node: string,
    ctx: { user: string; reason?: string },
    signal: AbortSignal,
  ): Promise<NodeResult> {
    try {
      const outcome = await this.steps.run(spec, node, ctx, signal);
      return { node, status: outcome.status, message: outcome.message, updatedAt: this.now() };
    } catch (err) {
      if (err instanceof OperationCancelledError) {
        return { node, status: 'cancelled', message: err.message, updatedAt: this.now() };
      }
      return { node, status: 'failed', error: (err as Error).message ?? String(err), updatedAt: this.now() };
    }
  }

  /**
   * Polls the operation's cancel mark every `cancelPollMs` and aborts the returned
   * signal once it is set (a poll rather than pub/sub: one HEXISTS per half second
   * per running operation, and nothing to resubscribe after a Redis reconnect).
   */
  /** Who `op`'s API calls act as: its creator, when the cluster impersonates operators. */
  private actingAs(op: Operation): ActingAs | undefined {
    if (!this.impersonation) return undefined;
    return { user: op.createdBy, groups: op.createdByGroups ?? [] };
  }

  private watchCancel(id: string): { signal: AbortSignal; stop(): void } {
    const controller = new AbortController();
    const check = (): void => {
      this.store.cancelRequested(id).then(
        (requested) => {
          if (requested) controller.abort();
        },
        () => undefined, // Redis unreachable: the next poll asks again
      );
    };
    check();
    const timer = setInterval(check, this.cancelPollMs);
    timer.unref();
    return { signal: controller.signal, stop: () => clearInterval(timer) };
  }
}

function finalState(results: readonly NodeResult[]): OperationState {
  const failed = results.filter((r) => r.status === 'failed').length;
  if (failed === 0) return 'completed';
  return failed === results.length ? 'failed' : 'partial';
}

/**
 * The audit record of a finished operation; `actingAs`: the person its API calls acted
 * as, when the cluster impersonates operators (absent: the worker's own credentials).
 */
export function auditRecordOf(op: Operation, at: string, actingAs?: ActingAs): AuditRecord {
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
      cancelled: op.results.filter((r) => r.status === 'cancelled').length,
    },
    failures: op.results
      .filter((r) => r.status === 'failed')
      .map((r) => ({ node: r.node, error: r.error ?? 'failed' })),
  };
  if (op.selector !== undefined) record.selector = op.selector;
  if (op.reason !== undefined) record.reason = op.reason;
  if (op.cancelledBy !== undefined) record.cancelledBy = op.cancelledBy;
  if (actingAs !== undefined) record.actingAs = { user: actingAs.user, groups: [...actingAs.groups] };
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
