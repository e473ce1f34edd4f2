import type { UsageSnapshot } from '@knm/contracts';
import { abortableSleep, ApiError, ApiUnreachableError, type MetricsClient } from '@knm/kube-reflector';

/** Options of {@link UsagePoller}. */
export interface UsagePollerOptions {
  /** Where node metrics come from. */
  metrics: Pick<MetricsClient, 'nodeMetrics'>;
  /** Time between the end of one poll and the start of the next. */
  intervalMs: number;
  /** Writes one snapshot (the term's `NodeStoreWriter.setUsage`: the usage key + one `usage` envelope). */
  write: (snapshot: UsageSnapshot) => Promise<unknown>;
  /**
   * The poll's outcome changed: available after unavailable (or the first poll), or
   * unavailable for another reason. Called once per change, not per poll: logs go here.
   */
  onTransition?: (snapshot: UsageSnapshot, previous: UsageSnapshot | undefined) => void;
  /** A write failed (the next poll writes again). */
  onWriteError?: (error: Error) => void;
  /** Every poll's outcome (for metrics). */
  onPoll?: (snapshot: UsageSnapshot) => void;
  /** Default `() => new Date()`. */
  clock?: () => Date;
}

/**
 * The leader's usage loop: reads every node's usage from `metrics.k8s.io` every
 * `intervalMs` and writes it as ONE snapshot per poll (one Redis write, one `usage`
 * envelope), however many nodes. A cluster without the metrics API (404), with an
 * unavailable APIService (503), or refusing the watcher (403) gets `available:
 * false` with a reason a person can act on, written once per change of reason
 * (not every poll) and tried again at the next interval: never an error loop.
 * One poller per term; `stop` when the term ends.
 */
export class UsagePoller {
  private readonly controller = new AbortController();
  private readonly clock: () => Date;
  private loop: Promise<void> | undefined;
  private last: UsageSnapshot | undefined;

  constructor(private readonly options: UsagePollerOptions) {
    if (!(options.intervalMs > 0))
      throw new RangeError(`intervalMs must be positive, got ${options.intervalMs}`);
    this.clock = options.clock ?? (() => new Date());
  }

  /** The last poll's outcome: true (usage measured), false (no metrics API, or it failed), undefined before the first. */
  get available(): boolean | undefined {
    return this.last?.available;
  }

  /** Starts polling (the first poll at once). Idempotent. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops polling; resolves once a poll or write in flight has finished. */
  async stop(): Promise<void> {
    this.controller.abort(new Error('usage poller stopped'));
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    let written: UsageSnapshot | undefined;
    while (!signal.aborted) {
      const snapshot = await this.poll(signal);
      if (signal.aborted) break;
      const previous = this.last;
      this.last = snapshot;
      this.options.onPoll?.(snapshot);
      if (!sameOutcome(previous, snapshot)) this.options.onTransition?.(snapshot, previous);
      // Usage is new at every poll; "unavailable" is written again only when its reason changed.
      if (snapshot.available || !sameOutcome(written, snapshot)) {
        try {
          await this.options.write(snapshot);
          written = snapshot;
        } catch (err) {
          this.options.onWriteError?.(err instanceof Error ? err : new Error(String(err)));
        }
      }
      await abortableSleep(this.options.intervalMs, signal);
    }
  }

  private async poll(signal: AbortSignal): Promise<UsageSnapshot> {
    try {
      const poll = await this.options.metrics.nodeMetrics(signal);
      const snapshot: UsageSnapshot = { available: true, polledAt: this.now(), nodes: poll.nodes };
      if (poll.timestamp !== undefined) snapshot.timestamp = poll.timestamp;
      if (poll.window !== undefined) snapshot.window = poll.window;
      return snapshot;
    } catch (err) {
      return { available: false, polledAt: this.now(), reason: unavailableReason(err) };
    }
  }

  private now(): string {
    return this.clock().toISOString();
  }
}

/** Both available, or both unavailable for the same reason. */
function sameOutcome(a: UsageSnapshot | undefined, b: UsageSnapshot): boolean {
  if (!a || a.available !== b.available) return false;
  return a.available || b.available || a.reason === b.reason;
}

/** Why there is no usage, said so that a person can act on it. */
export function unavailableReason(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 404) return 'the cluster serves no metrics.k8s.io API (is metrics-server installed?)';
    if (err.status === 503) {
      return 'the metrics.k8s.io API is unavailable (503: its APIService has no ready backend; is metrics-server running?)';
    }
    if (err.status === 401 || err.status === 403) {
      return `the watcher may not read metrics.k8s.io (HTTP ${err.status}): grant it get/list on nodes and pods of metrics.k8s.io`;
    }
    return `reading metrics.k8s.io failed: ${err.message}`;
  }
  if (err instanceof ApiUnreachableError)
    return `the API server did not answer the metrics request: ${err.message}`;
  return `reading metrics.k8s.io failed: ${err instanceof Error ? err.message : String(err)}`;
}
