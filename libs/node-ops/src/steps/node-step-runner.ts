import { ApiError, ApiUnreachableError } from '@knm/kube-reflector';
import type { DrainParams, OperationSpec } from '@knm/contracts';
import { DrainTimeoutError } from '../errors/drain-timeout-error.js';
import { OperationCancelledError } from '../errors/operation-cancelled-error.js';
import type { KubeNode, KubePod, NodeApi } from '../kube/node-api.js';
import { isConflict, isNotFound, withRetry, type RetryOptions } from '../kube/retry.js';
import { planNodeChange, type NodeState } from './node-change-plan.js';

/** How one node's step ended when it did not throw. */
export interface StepOutcome {
  status: 'succeeded' | 'skipped';
  message: string;
}

/** Who runs the operation and why (for the cordon annotations). */
export interface StepContext {
  user: string;
  reason?: string;
}

/** Options of {@link NodeStepRunner}. */
export interface NodeStepRunnerOptions {
  /** Retry policy of each API call (transient errors). Default {@link withRetry}'s. */
  retry?: RetryOptions;
  /** Re-reads after a 409 on the taint list before giving up. Default 5. */
  maxConflicts?: number;
  /** Pause between drain rounds while evicted pods terminate. Default 1,000 ms. */
  drainPollMs?: number;
  /** Pause before retrying evictions a disruption budget refused (429). Default 2,000 ms. */
  evictionRetryMs?: number;
  /** Time source. Default `() => new Date()`. */
  clock?: () => Date;
  /** Sleep (injectable). Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/** Why drain leaves a pod alone, or undefined when it must be evicted. */
export function drainSkipReason(pod: KubePod): 'mirror' | 'daemonset' | 'terminal' | undefined {
  if (pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined) return 'mirror';
  if (pod.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.controller !== false))
    return 'daemonset';
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 'terminal';
  return undefined;
}

function nodeState(node: KubeNode): NodeState {
  const state: NodeState = {
    labels: node.metadata.labels ?? {},
    annotations: node.metadata.annotations ?? {},
    taints: node.spec?.taints ?? [],
    unschedulable: node.spec?.unschedulable === true,
  };
  if (node.metadata.resourceVersion !== undefined) state.resourceVersion = node.metadata.resourceVersion;
  return state;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one operation's step on one node, idempotently: it reads the node first and
 * changes only what differs (a step re-run after a crash finds the work done and
 * reports so); transient API errors are retried; a 409 on the taint list re-reads.
 * Resolves with `succeeded` or `skipped` (node gone); throws for a failure, whose
 * message is the node's error. When `signal` aborts (the operation was cancelled), a
 * drain stops before its next round of evictions (or during its pause) and throws
 * {@link OperationCancelledError} saying where the node was left; a single patch in
 * flight is finished (it is one request).
 */
export class NodeStepRunner {
  private readonly maxConflicts: number;
  private readonly drainPollMs: number;
  private readonly evictionRetryMs: number;
  private readonly clock: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly api: NodeApi,
    private readonly options: NodeStepRunnerOptions = {},
  ) {
    this.maxConflicts = options.maxConflicts ?? 5;
    this.drainPollMs = options.drainPollMs ?? 1_000;
    this.evictionRetryMs = options.evictionRetryMs ?? 2_000;
    this.clock = options.clock ?? (() => new Date());
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** Runs `spec` on `node`; `signal` aborts a drain (see the class comment). */
  async run(spec: OperationSpec, node: string, ctx: StepContext, signal?: AbortSignal): Promise<StepOutcome> {
    const changed = await this.applyPlan(spec, node, ctx);
    if (changed.status === 'skipped' || spec.action !== 'drain') return changed;
    const drained = await this.drainPods(node, spec.params, signal);
    return { status: 'succeeded', message: `${changed.message}; ${drained}` };
  }

  private retry<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { sleep: this.sleep, ...this.options.retry });
  }

  private async applyPlan(spec: OperationSpec, node: string, ctx: StepContext): Promise<StepOutcome> {
    for (let conflicts = 0; ; conflicts++) {
      let current: KubeNode;
      try {
        current = await this.retry(() => this.api.getNode(node));
      } catch (err) {
        if (isNotFound(err)) return { status: 'skipped', message: 'node no longer exists' };
        throw err;
      }
      const planContext = {
        user: ctx.user,
        now: this.clock().toISOString(),
        ...(ctx.reason ? { reason: ctx.reason } : {}),
      };
      const plan = planNodeChange(spec, nodeState(current), planContext);
      if (!plan.patch) return { status: 'succeeded', message: `unchanged: ${plan.summary}` };
      const patch = plan.patch;
      try {
        await this.retry(() => this.api.patchNode(node, patch.body, patch.kind));
        return { status: 'succeeded', message: plan.summary };
      } catch (err) {
        if (isNotFound(err)) return { status: 'skipped', message: 'node no longer exists' };
        if (isConflict(err) && conflicts < this.maxConflicts) continue;
        throw err;
      }
    }
  }

  /** Evicts every evictable pod and waits until the node has none; returns what it did. */
  private async drainPods(
    node: string,
    params: DrainParams,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const deadline = this.clock().getTime() + params.timeoutSeconds * 1000;
    const evicted = new Set<string>();
    const skipped = { mirror: 0, daemonset: 0, terminal: 0 };
    for (;;) {
      const pods = await this.retry(() => this.api.listPodsOnNode(node));
      skipped.mirror = skipped.daemonset = skipped.terminal = 0;
      const remaining: KubePod[] = [];
      for (const pod of pods) {
        const reason = drainSkipReason(pod);
        if (reason) skipped[reason]++;
        else remaining.push(pod);
      }
      if (remaining.length > 0 && signal?.aborted) {
        throw cancelledDrain(
          evicted.size,
          remaining.filter((p) => p.metadata.deletionTimestamp === undefined).length,
        );
      }
      if (remaining.length === 0) {
        const kept = Object.entries(skipped)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${n} ${k}`);
        return `evicted ${evicted.size} pod(s)${kept.length > 0 ? `, left ${kept.join(', ')}` : ''}`;
      }
      let blocked = 0;
      for (const pod of remaining) {
        if (pod.metadata.deletionTimestamp !== undefined) continue; // terminating: wait for it
        const namespace = pod.metadata.namespace ?? 'default';
        try {
          await withRetry(() => this.api.evictPod(namespace, pod.metadata.name, params.gracePeriodSeconds), {
            sleep: this.sleep,
            ...this.options.retry,
            // 429 here is a disruption budget: retried per round below, not hammered.
            isTransient: (err) =>
              err instanceof ApiUnreachableError || (err instanceof ApiError && err.status >= 500),
          });
          evicted.add(`${namespace}/${pod.metadata.name}/${pod.metadata.uid ?? ''}`);
        } catch (err) {
          if (isNotFound(err)) continue;
          if (err instanceof ApiError && err.status === 429) {
            blocked++;
            continue;
          }
          throw err;
        }
      }
      const left = deadline - this.clock().getTime();
      if (left <= 0) {
        throw new DrainTimeoutError(
          node,
          params.timeoutSeconds,
          remaining.map((p) => `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`),
          blocked,
        );
      }
      await abortable(
        this.sleep(Math.min(left, blocked > 0 ? this.evictionRetryMs : this.drainPollMs)),
        signal,
      );
    }
  }
}

/** `notEvicted`: pods still bound to the node and not terminating. */
function cancelledDrain(evicted: number, notEvicted: number): OperationCancelledError {
  return new OperationCancelledError(
    `drain cancelled: node left cordoned, ${evicted} pod(s) evicted, ${notEvicted} not evicted`,
  );
}

/** Resolves when `pause` does or, sooner, when `signal` aborts (the next round then stops the drain). */
function abortable(pause: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return pause;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void pause.then(done);
  });
}
